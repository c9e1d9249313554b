/**
 * One local model server shared by the notebooks of one `npm start` (Jupyter) or one `npm run walkthrough`.
 *
 * The owner (scripts/start.ts, scripts/run-notebooks.ts) calls `startSharedServer()` while Jupyter or the kernels
 * start: it starts the server the settings name (only for the `local` backend) and announces it to the kernels in
 * a small JSON file whose path it puts in `SEEDLAB_SHARED_SERVER`. The file says `starting` (with the configuration
 * asked for), then `ready` (with the URL) or `failed`. A kernel's `openBackend()` reads it with
 * `borrowSharedServer()`: it waits for `ready`, checks at `GET /seedlab/config` that the server serves the
 * configuration its own settings ask for, and borrows it (its `close()` does not stop it); otherwise it starts its
 * own server as before, saying why. The owner stops the server when it exits; the server also exits by itself when
 * its owner dies (see serve.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { DEFAULT_CPU_VARIANT } from "./cpu-variant";
import { findModelPath } from "./model-path";
import { startLocalServer, type LocalServer, type LocalServerOptions } from "./start";
import { loadSettings, type Settings } from "../settings";

/** The environment variable through which an owner announces the shared server to its kernels (set by npm start and the walkthrough, not by users). */
export const SHARED_SERVER_VARIABLE = "SEEDLAB_SHARED_SERVER";
/** How long a kernel waits for an announced server that is still starting before it starts its own. */
export const SHARED_SERVER_WAIT_MS = 30000;

/** What a local server serves, as two servers are compared: the options it was started with, defaults as null. */
export interface LocalServerConfig {
  /** The GGUF file, absolute. */
  modelPath: string;
  /** The CPU variant setting (`portable`, `auto` or a name). */
  cpuVariant: string;
  batchSize: number | null;
  threads: number | null;
  contextSize: number | null;
}

/**
 * The server options a kernel's settings ask for (what `openBackend` starts for the `local` backend).
 * @param settings Settings from `loadSettings()`.
 * @returns The options for `startLocalServer`.
 */
export function localServerOptions(settings: Settings): LocalServerOptions {
  return {
    cpuVariant: settings.cpuVariant,
    ...(settings.modelPath === null ? {} : { modelPath: settings.modelPath }),
  };
}

/**
 * The configuration a server started with `options` serves (what `GET /seedlab/config` reports as `options`).
 * Workers and queue length are left out: outputs do not depend on them.
 * @param options Options for `startLocalServer`.
 * @returns The configuration, the model file resolved to an absolute path.
 * @throws {SeedlabError} When the model file cannot be found.
 */
export function localServerConfig(options: LocalServerOptions): LocalServerConfig {
  return {
    modelPath: findModelPath({ explicitPath: options.modelPath }),
    cpuVariant: (options.cpuVariant ?? DEFAULT_CPU_VARIANT).toLowerCase(),
    batchSize: options.batchSize ?? null,
    threads: options.threads ?? null,
    contextSize: options.contextSize ?? null,
  };
}

const CONFIG_NAMES: Record<keyof LocalServerConfig, string> = {
  modelPath: "model file (SEEDLAB_MODEL_PATH)",
  cpuVariant: "SEEDLAB_CPU_VARIANT",
  batchSize: "batch size",
  threads: "threads",
  contextSize: "context size",
};

/**
 * How two configurations differ, in words.
 * @returns e.g. `its SEEDLAB_CPU_VARIANT is portable, this kernel's is auto`, or null when they are the same.
 */
export function describeConfigDifference(served: LocalServerConfig, wanted: LocalServerConfig): string | null {
  const show = (value: unknown): string => (value === null || value === undefined ? "the default" : String(value));
  const differences = (Object.keys(CONFIG_NAMES) as Array<keyof LocalServerConfig>)
    .filter((key) => (served[key] ?? null) !== (wanted[key] ?? null))
    .map((key) => `its ${CONFIG_NAMES[key]} is ${show(served[key])}, this kernel's is ${show(wanted[key])}`);
  return differences.length === 0 ? null : differences.join("; ");
}

/** The announcement file's content. */
type Announcement =
  | { state: "starting"; owner: string; ownerPid: number; config: LocalServerConfig }
  | {
      state: "ready";
      owner: string;
      ownerPid: number;
      config: LocalServerConfig;
      url: string;
      model: string;
      fingerprint: string;
      cpuVariant: string;
      pid: number;
    }
  | { state: "failed"; owner: string; ownerPid: number; message: string };

/** The temporary folders owners announce their servers in: `<tmpdir>/seedlab-shared-server-XXXXXX/server.json`. */
const ANNOUNCEMENT_PREFIX = "seedlab-shared-server-";

/**
 * Removes the announcement folders of owners that are gone (an owner killed with SIGKILL cannot remove its own;
 * its server exits by itself). Called by every new owner. Folders of live owners, and folders it cannot read
 * (another user's), are left.
 * @param folder Where to look. Default: the system's temporary folder.
 * @returns The folders removed.
 */
export function removeStaleAnnouncements(folder: string = tmpdir()): string[] {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(folder).filter((name) => name.startsWith(ANNOUNCEMENT_PREFIX));
  } catch {
    return removed;
  }
  for (const name of entries) {
    const candidate = path.join(folder, name);
    let ownerPid: unknown;
    try {
      ownerPid = (JSON.parse(readFileSync(path.join(candidate, "server.json"), "utf8")) as { ownerPid?: unknown })
        .ownerPid;
    } catch {
      continue; // Being written, someone else's, or not ours: leave it.
    }
    if (typeof ownerPid !== "number" || isAlive(ownerPid)) continue;
    rmSync(candidate, { recursive: true, force: true });
    removed.push(candidate);
  }
  return removed;
}

/** A shared server an owner started. */
export interface SharedServer {
  /** The announcement file: put it in the kernels' `SEEDLAB_SHARED_SERVER`. */
  announcement: string;
  /** Who started it, as the kernels show it (e.g. `npm start`). */
  owner: string;
  /** The server once ready, or null when it failed to start (the kernels then start their own). */
  ready: Promise<LocalServer | null>;
  /** Stops the server (if it started) and removes the announcement. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts the local model server the settings name, to lend to kernels, without waiting for it (it starts while
 * Jupyter or the kernels start). Nothing happens for the `openai` and `compatible` backends or invalid settings
 * (the kernels report those). The server is stopped by `close()`, when this process exits, or by itself when this
 * process dies. It runs the compiled `dist/local/serve.js`: call `ensureBuild` first, as both owners do (without a
 * build it runs `src/` through tsx).
 * @param options.owner Who starts it, as the kernels show it (`npm start`).
 * @param options.env The environment the kernels get (its SEEDLAB_* settings and `.env` are read). Default `process.env`.
 * @returns The shared server, or null when the settings' backend is not `local`.
 */
export function startSharedServer({
  owner,
  env = process.env,
}: {
  owner: string;
  env?: NodeJS.ProcessEnv;
}): SharedServer | null {
  let options: LocalServerOptions;
  let config: LocalServerConfig;
  try {
    const settings = loadSettings({ env });
    if (settings.backend !== "local") return null;
    options = localServerOptions(settings);
    config = localServerConfig(options);
  } catch {
    return null; // Bad settings: each kernel's Set-up cell says what to fix.
  }
  removeStaleAnnouncements();
  const folder = mkdtempSync(path.join(tmpdir(), ANNOUNCEMENT_PREFIX));
  const announcement = path.join(folder, "server.json");
  const announce = (content: Announcement): void => {
    // Written whole, then renamed: a kernel never reads half a file.
    const partial = `${announcement}.partial`;
    writeFileSync(partial, JSON.stringify(content), { mode: 0o600 });
    renameSync(partial, announcement);
  };
  const ownerPid = process.pid;
  announce({ state: "starting", owner, ownerPid, config });

  let server: LocalServer | null = null;
  let closed = false;
  const killNow = (): void => {
    if (server !== null) {
      try {
        process.kill(server.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
    }
    rmSync(folder, { recursive: true, force: true });
  };
  process.on("exit", killNow);
  // Both owners build dist/ first (the kernels import it): the server runs from it, without a TypeScript loader.
  const ready = startLocalServer(options, { compiled: true }).then(
    (started) => {
      server = started;
      if (closed) {
        void started.close();
        return null;
      }
      const { url, model, fingerprint, cpuVariant, pid } = started;
      announce({ state: "ready", owner, ownerPid, config, url, model, fingerprint, cpuVariant, pid });
      return started;
    },
    (error: unknown) => {
      if (!closed)
        announce({ state: "failed", owner, ownerPid, message: error instanceof Error ? error.message : String(error) });
      return null;
    },
  );
  return {
    announcement,
    owner,
    ready,
    close: async () => {
      if (closed) return;
      closed = true;
      process.off("exit", killNow);
      rmSync(folder, { recursive: true, force: true });
      const running = await ready;
      await running?.close();
    },
  };
}

/**
 * `npm start`'s one call: starts the shared server (see `startSharedServer`) and puts its announcement in this
 * process's `SEEDLAB_SHARED_SERVER`, so Jupyter and its kernels, started afterwards, inherit it. Prints one line
 * when it is ready or failed. It stops when this process exits.
 * @param owner Who starts it, as the kernels show it.
 * @returns Settles once that line is printed (at once when no server is started).
 */
export function lendLocalServer(owner: string): Promise<void> {
  const shared = startSharedServer({ owner });
  if (shared === null) return Promise.resolve();
  process.env[SHARED_SERVER_VARIABLE] = shared.announcement;
  return shared.ready.then((server) => {
    console.log(
      server === null
        ? "seedlab: the shared local model server did not start; each notebook starts its own."
        : `seedlab: local model server for the notebooks ready at ${server.url} (pid ${server.pid}).`,
    );
  });
}

/** A server borrowed from the owner. */
export interface BorrowedServer {
  url: string;
  model: string;
  fingerprint: string;
  cpuVariant: string;
  pid: number;
  /** Who started it (e.g. `npm start`). */
  owner: string;
}

/**
 * Whether the announced shared server can be borrowed: the server (reason null), or why not (server null).
 * One plain shape, no union to narrow: tslab's compiler settings narrow less than ours.
 */
export interface SharedServerChoice {
  server: BorrowedServer | null;
  reason: string | null;
}

/**
 * Finds the shared server announced in `SEEDLAB_SHARED_SERVER`, waits until it is ready, and checks that it serves
 * what `options` ask for.
 * @param options The server options the kernel's settings ask for.
 * @param hooks.env Where to look for the announcement. Default `process.env`.
 * @param hooks.onWaiting Called once if the server is still starting (the caller can say so).
 * @param hooks.timeoutMs How long to wait for it. Default `SHARED_SERVER_WAIT_MS`.
 * @returns `{ server }` to borrow; `{ reason }` (why) when one is announced but cannot be used; null when none is
 *   announced.
 */
export async function borrowSharedServer(
  options: LocalServerOptions,
  {
    env = process.env,
    onWaiting = () => {},
    timeoutMs = SHARED_SERVER_WAIT_MS,
  }: { env?: NodeJS.ProcessEnv; onWaiting?: (owner: string) => void; timeoutMs?: number } = {},
): Promise<SharedServerChoice | null> {
  const file = env[SHARED_SERVER_VARIABLE]?.trim();
  if (!file) return null;
  const wanted = localServerConfig(options);
  const deadline = Date.now() + timeoutMs;
  let waiting = false;
  for (;;) {
    let announced: Announcement;
    try {
      announced = JSON.parse(readFileSync(file, "utf8")) as Announcement;
    } catch {
      return { server: null, reason: `its announcement ${file} is gone (has its owner stopped?)` };
    }
    if (!isAlive(announced.ownerPid))
      return { server: null, reason: `its owner, ${announced.owner} (pid ${announced.ownerPid}), has exited` };
    if (announced.state === "failed") return { server: null, reason: `it failed to start (${announced.message})` };
    const difference = describeConfigDifference(announced.config, wanted);
    if (difference !== null) return { server: null, reason: difference };
    if (announced.state === "ready") return checkServer(announced, wanted);
    if (Date.now() >= deadline)
      return {
        server: null,
        reason: `it was not ready within ${Math.round(timeoutMs / 1000)} s (started by ${announced.owner})`,
      };
    if (!waiting) {
      waiting = true;
      onWaiting(announced.owner);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Asks the announced server what it serves, and compares. */
async function checkServer(
  announced: Extract<Announcement, { state: "ready" }>,
  wanted: LocalServerConfig,
): Promise<SharedServerChoice> {
  const address = `${announced.url.replace(/\/v1$/, "")}/seedlab/config`;
  let served: { options?: LocalServerConfig; pid?: number };
  try {
    const response = await fetch(address, { signal: AbortSignal.timeout(10000) });
    if (!response.ok) return { server: null, reason: `${address} answered ${response.status}` };
    served = (await response.json()) as typeof served;
  } catch (error) {
    return {
      server: null,
      reason: `it is not reachable at ${address} (${error instanceof Error ? error.message : String(error)})`,
    };
  }
  if (served.options === undefined) return { server: null, reason: `${address} did not report its configuration` };
  const difference = describeConfigDifference(served.options, wanted);
  if (difference !== null) return { server: null, reason: difference };
  const { url, model, fingerprint, cpuVariant, pid, owner } = announced;
  return { server: { url, model, fingerprint, cpuVariant, pid, owner }, reason: null };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
