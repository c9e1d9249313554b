/**
 * Opens the backend the settings name: the OpenAI API, an OpenAI-compatible URL, or the embedded
 * local model (started here in its own process, closed by `close()`). A process holds one backend
 * at a time: opening another closes the previous one (see core/backend-session.ts).
 */
import type OpenAI from "openai";
import { closeCurrentBackend, markClientClosed, setCurrentBackend } from "./core/backend-session";
import { createClient } from "./client";
import type { Settings } from "./settings";
import { startLocalServer, type LocalServer } from "./local/start";
import { borrowSharedServer, localServerOptions, type BorrowedServer } from "./local/shared";
import { ShownAs, formatValue, invalidParameter } from "./core/errors";
import type { BackendKind } from "./core/validate";

/** An open backend: a client ready to use and the model to ask for. */
export interface Backend {
  kind: BackendKind;
  /** The model id to send: the setting, or for `local` without SEEDLAB_MODEL the id the server serves. */
  model: string;
  /** The base URL the client talks to (for `local`: http://127.0.0.1:PORT/v1). */
  baseURL: string;
  client: OpenAI;
  /** How the model was chosen when no model was set (e.g. the one model a compatible server lists), else null. */
  notice: string | null;
  /**
   * For `local`, which model server is used: `shared, started by npm start` (borrowed from the process that
   * started Jupyter or the walkthrough; see src/local/shared.ts) or `started by this kernel` (with why the shared
   * one was not used, when one was announced). Null for the other backends.
   */
  server: string | null;
  /**
   * Stops the local server (a shared one keeps running for the other notebooks); afterwards the client
   * refuses requests at once (`BackendClosedError`, "Run the Set-up cell again"). Safe to call twice.
   */
  close(): Promise<void>;
}

/**
 * Opens a backend. For `local` this borrows the shared model server when the process that started this kernel
 * announces one (`SEEDLAB_SHARED_SERVER`, set by `npm start` and the walkthrough) and it serves what the settings
 * ask for, waiting for it to be ready; otherwise it starts a model server on a free port of 127.0.0.1
 * (a few seconds); close it with `backend.close()` when done. The backend a previous call
 * opened is closed first (a re-run Set-up cell replaces its backend; its client then refuses
 * requests, saying so): to hold several servers at once, use `startLocalServer`.
 * @param settings Settings from `loadSettings()`.
 * @param hooks.onStatus Called with what opening is doing when that changes (waiting for the shared server,
 *   starting its own and why), for a progress line.
 * @returns The open backend.
 * @throws When the local model file cannot be found or the server cannot start (the message says how to fix it).
 */
export async function openBackend(
  settings: Settings,
  { onStatus = () => {} }: { onStatus?: (status: string) => void } = {},
): Promise<Backend> {
  await closeCurrentBackend();
  if (settings.backend !== "local") {
    const baseURL = settings.baseURL as string;
    const client = createClient({ ...settings, baseURL });
    const model = settings.model ?? (await onlyServedModel(client, baseURL));
    const forget = setCurrentBackend({ replace: async () => markClientClosed(client, "replaced") });
    return {
      kind: settings.backend,
      model,
      baseURL,
      client,
      server: null,
      notice:
        settings.model === null
          ? `SEEDLAB_MODEL is not set: using \`${model}\`, the one model ${baseURL} serves.`
          : null,
      close: async () => {
        markClientClosed(client, "closed");
        forget();
      },
    };
  }
  const options = localServerOptions(settings);
  const modelFor = (served: string): string =>
    // A GGUF file other than the default is served under its own name: ask for that unless a model was set.
    settings.sources.SEEDLAB_MODEL === "default" || settings.model === null ? served : settings.model;
  const shared = await borrowSharedServer(options, {
    onWaiting: (owner) => onStatus(`Waiting for the shared local model server (started by ${owner}) to be ready`),
  });
  const borrowed = shared?.server ?? null;
  const why = shared?.reason ? ` (the shared server was not used: ${shared.reason})` : "";
  let own: LocalServer | null = null;
  if (borrowed === null) {
    if (why !== "") onStatus(`Starting the local model in its own process${why}`);
    own = await startLocalServer(options);
  }
  const served: { url: string; model: string } = own ?? (borrowed as BorrowedServer);
  const client = createClient({ ...settings, baseURL: served.url });
  let closed: Promise<void> | null = null;
  const shutDown = (reason: "closed" | "replaced"): Promise<void> => {
    markClientClosed(client, reason);
    forget();
    // A borrowed server keeps running for the other notebooks: its owner stops it.
    return (closed ??= own === null ? Promise.resolve() : own.close());
  };
  const forget = setCurrentBackend({ replace: () => shutDown("replaced") });
  return {
    kind: "local",
    model: modelFor(served.model),
    baseURL: served.url,
    client,
    notice: null,
    server: borrowed !== null ? `shared, started by ${borrowed.owner}` : `started by this kernel${why}`,
    close: () => shutDown("closed"),
  };
}

/**
 * The one model a server lists at `GET /v1/models` (llama.cpp's server, LM Studio and `seedlab serve`
 * list exactly one).
 * @throws {InvalidParameterError} For `SEEDLAB_MODEL` when the server lists none or several (naming
 *   them), or when the list cannot be read.
 */
async function onlyServedModel(client: OpenAI, baseURL: string): Promise<string> {
  let ids: string[];
  try {
    ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidParameter(
      "SEEDLAB_MODEL",
      "set",
      new ShownAs("nothing"),
      `The server at ${formatValue(baseURL)} was asked for its models at GET /models: listing them failed (${reason}). ` +
        "Set SEEDLAB_MODEL (`--model` on the command line) to a model that server serves, e.g. SEEDLAB_MODEL=llama3.2 for Ollama.",
    );
  }
  if (ids.length === 1) return ids[0] as string;
  const listed =
    ids.length === 0
      ? "lists no models"
      : `serves ${ids.length} models: ${ids.map((id) => formatValue(id)).join(", ")}`;
  throw invalidParameter(
    "SEEDLAB_MODEL",
    "set",
    new ShownAs("nothing"),
    `The OpenAI-compatible server at ${formatValue(baseURL)} ${listed}. Set SEEDLAB_MODEL (\`--model\` on the command line) to ${ids.length === 0 ? "a model it serves" : "one of them"}.`,
  );
}
