/**
 * The local OpenAI-compatible server, run as its own process by `startLocalServer` (start.ts); people
 * run it through `seedlab serve` / `npm run serve` (src/cli/serve.ts). Run directly, it serves until
 * stopped (Ctrl+C). All flags are optional:
 *   --host 127.0.0.1   --port 0 (0 = a free port)   --model PATH (else SEEDLAB_MODEL_PATH, else the default model)
 *   --batch-size 512   --threads 1   --context-size 2048   --max-queue 64   --workers (one per core, at most 4)
 * `startLocalServer` (start.ts) runs this file in a child process with `--ready-json` (print one JSON
 * line `{ "event": "ready", url, model, fingerprint }` or `{ "event": "error", message }` on stdout)
 * and `--exit-with-parent` (exit when stdin closes, i.e. when the parent process dies).
 */
import type { AddressInfo } from "net";
import type { Server } from "http";
import { loadEngine, Engine } from "./engine";
import { createLocalHttpServer } from "./http-server";
import { findModelPath } from "./model-path";

/** Settings of a running local server. */
export interface ServeOptions {
  modelPath?: string;
  host?: string;
  port?: number;
  batchSize?: number;
  threads?: number;
  contextSize?: number;
  maxQueue?: number;
  workers?: number;
}

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
 * @param options - see the flags above; the model is found with `findModelPath`.
 * @returns the running server.
 * @throws Error when no model is found, it cannot be loaded, or the port cannot be bound.
 */
export async function serve({ modelPath, host = "127.0.0.1", port = 0, batchSize, threads, contextSize, maxQueue, workers }: ServeOptions = {}): Promise<RunningServer> {
  const engine = await loadEngine({ modelPath: findModelPath({ explicitPath: modelPath }), batchSize, threads, contextSize, workers });
  const server = createLocalHttpServer(engine, { maxQueue });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`Port ${port} on ${host} is already in use. Choose another \`--port\`, or 0 for a free one.`)
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

const NUMBER_FLAGS = { "--port": "port", "--batch-size": "batchSize", "--threads": "threads", "--context-size": "contextSize", "--max-queue": "maxQueue", "--workers": "workers" } as const;
const NUMBER_RANGES: Record<string, [number, number]> = { port: [0, 65535], batchSize: [1, 65536], threads: [1, 256], contextSize: [16, 1048576], maxQueue: [0, 100000], workers: [1, 64] };

/**
 * Parses the command line flags.
 * @param args - the arguments after the script name.
 * @returns the options and the two process-control switches.
 * @throws Error naming an unknown flag, a missing value or a number out of range.
 */
export function parseServeArgs(args: readonly string[]): { options: ServeOptions; readyJson: boolean; exitWithParent: boolean } {
  const options: ServeOptions = {};
  let readyJson = false;
  let exitWithParent = false;
  for (let index = 0; index < args.length; index++) {
    const flag = args[index] ?? "";
    if (flag === "--ready-json") readyJson = true;
    else if (flag === "--exit-with-parent") exitWithParent = true;
    else if (flag === "--host" || flag === "--model" || flag in NUMBER_FLAGS) {
      const value = args[++index];
      if (value === undefined) throw new Error(`\`${flag}\` needs a value.`);
      if (flag === "--host") options.host = value;
      else if (flag === "--model") options.modelPath = value;
      else {
        const name = NUMBER_FLAGS[flag as keyof typeof NUMBER_FLAGS];
        const [low, high] = NUMBER_RANGES[name] ?? [0, 0];
        const number = Number(value);
        if (!Number.isInteger(number) || number < low || number > high) {
          throw new Error(`\`${flag}\` must be an integer from ${low} to ${high}; got ${JSON.stringify(value)}.`);
        }
        options[name] = number;
      }
    } else {
      throw new Error(`Unknown flag \`${flag}\`. Flags: --host, --port, --model, --batch-size, --threads, --context-size, --max-queue, --workers.`);
    }
  }
  return { options, readyJson, exitWithParent };
}

async function main(): Promise<void> {
  let readyJson = process.argv.includes("--ready-json");
  try {
    const parsed = parseServeArgs(process.argv.slice(2));
    readyJson = parsed.readyJson;
    const running = await serve(parsed.options);
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      running.close().then(() => process.exit(0), () => process.exit(1));
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    if (parsed.exitWithParent) {
      process.stdin.on("end", stop).on("close", stop).on("error", stop).resume();
    }
    const { engine } = running;
    if (readyJson) {
      process.stdout.write(JSON.stringify({ event: "ready", url: running.url, model: engine.modelId, fingerprint: engine.fingerprint }) + "\n");
    } else {
      console.log(`seedlab local server: ${running.url}`);
      console.log(`  model ${engine.modelId} (${engine.modelPath})`);
      console.log(`  system_fingerprint ${engine.fingerprint}, batch size ${engine.batchSize}, threads ${engine.threads}, ${engine.workers} worker(s), context ${engine.contextSize} tokens`);
      console.log("  Press Ctrl+C to stop.");
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (readyJson) process.stdout.write(JSON.stringify({ event: "error", message }) + "\n");
    else console.error(`seedlab local server: ${message}`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
