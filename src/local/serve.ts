/**
 * The local OpenAI-compatible server in this process: `serve()` loads the model and listens. `seedlab serve`
 * (src/cli/serve.ts) calls it with the flags it parsed; `startLocalServer` (start.ts) runs this file as a child
 * process with its options as one JSON argument, reads one JSON line from its stdout
 * (`{ "event": "ready", url, model, fingerprint, cpuVariant }` or `{ "event": "error", message }`), and the child exits when its
 * stdin closes or its parent process changes (the parent died, even by SIGKILL), or on SIGTERM. It ignores SIGINT,
 * which reaches the parent's whole process group (a terminal's Ctrl+C, Jupyter's "Interrupt kernel").
 */
import type { AddressInfo } from "net";
import type { Server } from "http";
import { loadEngine, Engine } from "./engine";
import { createLocalHttpServer } from "./http-server";
import { findModelPath } from "./model-path";
import type { LocalServerOptions } from "./start";
import { localServerConfig } from "./shared";
import { SeedlabError, expected } from "../core/errors";

/** A server listening in this process. */
export interface RunningServer {
  /** Base URL for the OpenAI SDK, ending in `/v1`. */
  url: string;
  engine: Engine;
  server: Server;
  close(): Promise<void>;
}

/**
 * Loads the model and serves it over HTTP in this process (node-llama-cpp is loaded here).
 * @param options - see `LocalServerOptions`; the model is found with `findModelPath`.
 * @returns the running server.
 * @throws {SeedlabError} When no model is found or the port is in use; the engine's error when the model cannot load.
 */
export async function serve({
  modelPath,
  host = "127.0.0.1",
  port = 0,
  batchSize,
  threads,
  contextSize,
  maxQueue,
  cpuVariant,
  workers,
  attention,
}: LocalServerOptions = {}): Promise<RunningServer> {
  const engine = await loadEngine({
    modelPath: findModelPath({ explicitPath: modelPath }),
    batchSize,
    threads,
    contextSize,
    cpuVariant,
    workers,
    attention,
  });
  const config = localServerConfig({ modelPath, batchSize, threads, contextSize, cpuVariant });
  const server = createLocalHttpServer(engine, { maxQueue, config });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new SeedlabError(
              `Port ${port} on ${host} is already in use. Choose another \`--port\`, or 0 for a free one.`,
            )
          : error,
      );
    });
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}/v1`,
    engine,
    server,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await engine.close();
    },
  };
}

/**
 * The engine's CPU variant as people read it: `x64 (portable)`, `haswell (auto)`, `haswell`.
 * @param engine - a loaded engine.
 * @returns the variant, with the setting that chose it when that was not its name.
 */
export function describeEngineVariant(engine: Pick<Engine, "cpuVariant" | "cpuVariantSetting">): string {
  return engine.cpuVariantSetting === engine.cpuVariant
    ? engine.cpuVariant
    : `${engine.cpuVariant} (${engine.cpuVariantSetting})`;
}

/**
 * Reads the options `startLocalServer` passes as one JSON argument (people use `seedlab serve`, whose flags the
 * command line parses: this file parses no flags).
 * @param text The JSON argument.
 * @returns The options.
 * @throws {SeedlabError} When it is not a JSON object.
 */
export function readServeOptions(text: string | undefined): LocalServerOptions {
  let options: unknown;
  try {
    options = JSON.parse(text ?? "{}");
  } catch {
    options = null;
  }
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new SeedlabError(
      expected("options", "one JSON object", text, "Start the server with startLocalServer() or `seedlab serve`."),
    );
  }
  return options as LocalServerOptions;
}

/** The child process of `startLocalServer`: serve, print one JSON line, exit when stopped or when the parent dies. */
async function main(): Promise<void> {
  const parentPid = process.ppid;
  process.on("SIGINT", () => {});
  try {
    const running = await serve(readServeOptions(process.argv[2]));
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      running.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on("SIGTERM", stop);
    // A child lives exactly as long as its parent (or until close()): it exits when its stdin closes or its parent
    // process changes (the parent died, even by SIGKILL). SIGINT is ignored (see main's first line): Jupyter's
    // "Interrupt kernel" and a terminal's Ctrl+C reach the parent's whole process group; the parent decides, and the
    // model must survive an interrupted cell.
    setInterval(() => {
      if (process.ppid !== parentPid) stop();
    }, 500).unref();
    process.stdin.on("end", stop).on("close", stop).on("error", stop).resume();
    const { engine } = running;
    process.stdout.write(
      JSON.stringify({
        event: "ready",
        url: running.url,
        model: engine.modelId,
        fingerprint: engine.fingerprint,
        cpuVariant: engine.cpuVariant,
      }) + "\n",
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stdout.write(JSON.stringify({ event: "error", message }) + "\n");
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
