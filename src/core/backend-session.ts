/**
 * The one backend a process holds (in a notebook: the kernel). `openBackend()` closes the backend the
 * previous call opened, so re-running a Set-up cell never leaves a second model server running, and
 * a closed backend's client refuses requests at once with a message that says what to do, instead
 * of connection errors after retries. The state lives on `globalThis`, so a kernel that reloads
 * `src/` modules still finds the backend it opened.
 */
import { SeedlabError } from "./errors";

/** Thrown when a request is made through the client of a closed backend; nothing was sent. */
export class BackendClosedError extends SeedlabError {
  override readonly name = "BackendClosedError";
}

/** Why a backend's client no longer sends requests. */
export type BackendClosedReason = "closed" | "replaced";

interface OpenBackendEntry {
  /** Closes the backend because a newer one replaces it. */
  replace(): Promise<void>;
}

interface SessionState {
  current: OpenBackendEntry | null;
  closedClients: WeakMap<object, BackendClosedReason>;
}

const STATE_KEY = Symbol.for("seedlab.backendSession");

function sessionState(): SessionState {
  const holder = globalThis as unknown as Record<symbol, SessionState | undefined>;
  let state = holder[STATE_KEY];
  if (state === undefined) {
    state = { current: null, closedClients: new WeakMap() };
    holder[STATE_KEY] = state;
  }
  return state;
}

/**
 * The message for a request through a closed backend's client.
 * @param reason `closed` (its `close()` ran) or `replaced` (a newer `openBackend()` closed it).
 * @returns The message: what happened and to run the Set-up cell again.
 */
export function backendClosedMessage(reason: BackendClosedReason): string {
  const what =
    reason === "replaced"
      ? "This backend was closed because `openBackend()` opened a new one (a kernel holds one backend at a time; was the Set-up cell run again?)."
      : "This backend is closed: `backend.close()` ran (each notebook's last cell does that), so its local model server, if it had one, has stopped.";
  return `${what} Nothing was sent. Run the Set-up cell again (it opens a new backend with \`openBackend(settings)\`), then run this cell again.`;
}

/**
 * Throws when `client` belongs to a closed backend.
 * @param client The `openai` client about to be used.
 * @throws {BackendClosedError} When its backend was closed or replaced; the message says to run the Set-up cell again.
 */
export function assertClientOpen(client: unknown): void {
  if (typeof client !== "object" || client === null) return;
  const reason = sessionState().closedClients.get(client);
  if (reason !== undefined) throw new BackendClosedError(backendClosedMessage(reason));
}

/**
 * Marks a client as belonging to a closed backend: later requests through it fail at once.
 * @param client The backend's client.
 * @param reason Why it closed.
 */
export function markClientClosed(client: object, reason: BackendClosedReason): void {
  const { closedClients } = sessionState();
  if (!closedClients.has(client)) closedClients.set(client, reason);
}

/**
 * Closes the backend the previous `openBackend()` opened, if it is still open, and forgets it.
 * @returns Once it has closed (for `local`: once its server process has exited).
 */
export async function closeCurrentBackend(): Promise<void> {
  const state = sessionState();
  const previous = state.current;
  state.current = null;
  if (previous !== null) await previous.replace();
}

/**
 * Records a newly opened backend as the process's current one.
 * @param entry How to close it when a newer one replaces it.
 * @returns A function that forgets it again (call it from its `close()`).
 */
export function setCurrentBackend(entry: OpenBackendEntry): () => void {
  const state = sessionState();
  state.current = entry;
  return () => {
    if (state.current === entry) state.current = null;
  };
}
