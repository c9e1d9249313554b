/**
 * Starts the local OpenAI-compatible server in its own Node process, from any code or notebook cell.
 * The model (node-llama-cpp) cannot load inside a tslab kernel, so this file never imports it: it
 * spawns `node dist/local/serve.js '{"modelPath":...}'` (from the compiled library; from src/:
 * `node --import tsx src/local/serve.ts ...`) and waits for the child's ready line.
 * The child exits when `close()` is called or when this process dies (its stdin closes), so a
 * notebook never leaks model processes; a forgotten `close()` does not keep a script alive.
 */
import { ChildProcess, spawn } from "child_process";
import { existsSync } from "fs";
import * as path from "path";
import { pathToFileURL } from "url";
import { detectCpuFeatures, findBinaryPackage, resolveCpuVariant } from "./cpu-variant";
import { findModelPath } from "./model-path";
import { expected, SeedlabError } from "../core/errors";

/** How the engine computes attention: `float32` (default) or `float16` (see `EngineOptions.attention` in engine.ts). */
export type Attention = "float32" | "float16";

/**
 * Refuses an `attention` setting other than `float32` or `float16`.
 * @throws {SeedlabError} naming the value and the fix.
 */
export function checkAttention(attention: unknown): asserts attention is Attention {
  if (attention !== "float32" && attention !== "float16")
    throw new SeedlabError(expected("attention", "float32 or float16", attention, "Leave it unset for float32."));
}

/** How to start the local server. */
export interface LocalServerOptions {
  /** The GGUF file. Default: `SEEDLAB_MODEL_PATH`, else the embedded `models/stories260K.gguf`. */
  modelPath?: string;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Tokens per llama.cpp batch. Default 512. Part of the fingerprint (1 changed some seeded texts on the AVX CPU variants, none on `x64`). */
  batchSize?: number;
  /** CPU threads. Default 1. */
  threads?: number;
  /** Context window in tokens. Default: the model's training context, at most 2048. */
  contextSize?: number;
  /** Requests allowed to wait for a free engine worker before a 429. Default 64. */
  maxQueue?: number;
  /**
   * Which ggml CPU variant runs the model: `auto` (default: the fastest for this CPU), `portable` (the one
   * every CPU of this architecture runs, so every laptop runs the same code) or a variant's name
   * (e.g. `haswell`). One this CPU cannot run, or the installed engine lacks, is refused with the list.
   */
  cpuVariant?: string;
  /** Generations run at once, each in its own context. Default: two per CPU core, at most 4. Outputs do not depend on it. */
  workers?: number;
  /** `float32` (default) or `float16` (a float16 KV cache, llama.cpp's default type). See `EngineOptions.attention`. */
  attention?: Attention;
}

/** A running local server. */
export interface LocalServer {
  /** Base URL for the OpenAI SDK, ending in `/v1`. */
  url: string;
  /** The served model id (the GGUF file name without `.gguf`). */
  model: string;
  /** The `system_fingerprint` every response carries. */
  fingerprint: string;
  /** The ggml CPU variant running (what `portable` or `auto` resolved to). */
  cpuVariant: string;
  /** The server process's id. */
  pid: number;
  /** Stops the server process; resolves once it has exited. */
  close(): Promise<void>;
}

// `path.dirname(__filename)`, not `__dirname`: tsx sets `__dirname` to "data:text" when an ES module
// imports this file, while `__filename` stays right.
const HERE = path.dirname(__filename);
const PROJECT_ROOT = path.resolve(HERE, "..", "..");
const STARTUP_TIMEOUT_MS = 60000;
const KILL_GRACE_MS = 5000;

/**
 * Starts the local server in a child Node process.
 * @param options - model, address and engine settings (see `LocalServerOptions`).
 * @param launch.compiled - run the compiled `dist/local/serve.js` even when this file runs from `src/` (a script
 *   that has just built dist/ with `ensureBuild`): no TypeScript loader in the server, which starts sooner.
 * @returns the server's URL, model id and fingerprint, and `close()`.
 * @throws Error (rejects) when no model is found, the port is in use, or the child fails to start; the message is the child's.
 */
export async function startLocalServer(
  options: LocalServerOptions = {},
  launch: { compiled?: boolean } = {},
): Promise<LocalServer> {
  if (options.attention !== undefined) checkAttention(options.attention);
  const modelPath = findModelPath({ explicitPath: options.modelPath });
  // Refuse an unavailable variant here, before a process starts (the child applies it).
  if (options.cpuVariant !== undefined) {
    const binaryPackage = findBinaryPackage();
    if (binaryPackage !== null) resolveCpuVariant(options.cpuVariant, binaryPackage.variants, detectCpuFeatures());
  }
  const args = [...serveEntry(launch.compiled === true), JSON.stringify({ ...options, modelPath })];

  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });

  const ready = await new Promise<{ url: string; model: string; fingerprint: string; cpuVariant: string }>(
    (resolve, reject) => {
      let stdout = "";
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new SeedlabError(`The local server did not start within ${STARTUP_TIMEOUT_MS} ms. ${stderr.trim()}`));
      }, STARTUP_TIMEOUT_MS);
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
        const newline = stdout.indexOf("\n");
        if (newline === -1) return;
        const line = stdout.slice(0, newline);
        stdout = stdout.slice(newline + 1);
        clearTimeout(timer);
        let message: {
          event?: string;
          message?: string;
          url?: string;
          model?: string;
          fingerprint?: string;
          cpuVariant?: string;
        };
        try {
          message = JSON.parse(line);
        } catch {
          message = { event: "error", message: line };
        }
        if (message.event === "ready" && message.url && message.model && message.fingerprint && message.cpuVariant) {
          resolve({
            url: message.url,
            model: message.model,
            fingerprint: message.fingerprint,
            cpuVariant: message.cpuVariant,
          });
        } else {
          reject(new SeedlabError(`The local server failed to start: ${message.message ?? line}`));
        }
      });
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(
          new SeedlabError(
            `The local server exited before it was ready (${signal ?? `exit code ${code}`}). ${stderr.trim()}`,
          ),
        );
      });
    },
  );
  child.stdout.resume();
  detach(child);

  return {
    ...ready,
    pid: child.pid as number,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * How to run serve in a child Node: the compiled `dist/local/serve.js` as plain JS when this file is itself
 * compiled (notebooks import dist/) or the caller says dist/ is fresh, else `serve.ts` through the project's tsx
 * loader (tests and scripts run src/; tslab compiling src/ names this file `start.js` too, hence the check for a
 * `serve.js` beside it).
 */
function serveEntry(preferCompiled: boolean): string[] {
  const compiled = path.join(HERE, "serve.js");
  if (path.extname(__filename) === ".js" && existsSync(compiled)) return [compiled];
  const built = path.join(PROJECT_ROOT, "dist", "local", "serve.js");
  if (preferCompiled && existsSync(built)) return [built];
  const loader = pathToFileURL(path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;
  return ["--import", loader, path.join(HERE, "serve.ts")];
}

/** Lets this process exit without waiting for the child (which then exits as its stdin closes). */
function detach(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
}

/** Settings a running local server can serve as another configuration of its loaded model (see http-server.ts). */
export type InServerSettings = Pick<LocalServerOptions, "attention" | "batchSize">;

/**
 * Whether these server options differ from a running server's only in settings it can add in its own process.
 * @param options - how a second server would differ.
 * @returns true when every option is `attention` or `batchSize`.
 */
export function isInServerSetting(options: LocalServerOptions): options is InServerSettings {
  return Object.keys(options).every((name) => name === "attention" || name === "batchSize");
}

/**
 * Asks a running seedlab local server to serve its loaded model with other context settings: another
 * configuration (own contexts, own fingerprint) in the same process, made in milliseconds, kept until the server stops.
 * @param baseURL - the server's base URL, ending in `/v1`.
 * @param settings - `attention` and/or `batchSize`.
 * @returns the configuration's base URL (for the OpenAI SDK) and its `system_fingerprint`.
 * @throws {SeedlabError} (rejects) when the server refuses or cannot be reached.
 */
export async function addServerConfiguration(
  baseURL: string,
  settings: InServerSettings,
): Promise<{ url: string; fingerprint: string }> {
  const root = baseURL.replace(/\/v1\/?$/, "");
  const response = await fetch(`${root}/seedlab/configurations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(settings),
  });
  const body = (await response.json().catch(() => null)) as {
    path?: string;
    system_fingerprint?: string;
    error?: { message?: string };
  } | null;
  if (!response.ok || typeof body?.path !== "string" || typeof body.system_fingerprint !== "string") {
    throw new SeedlabError(
      `The local server at ${root} could not add a configuration (HTTP ${response.status}): ${body?.error?.message ?? "no details"}`,
    );
  }
  return { url: `${root}${body.path}`, fingerprint: body.system_fingerprint };
}
