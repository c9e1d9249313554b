/**
 * `seedlab serve`: the local model behind the project's OpenAI-compatible server, in this process,
 * until Ctrl+C (`npm run serve` runs this). The server is src/local/serve.ts's; its flags are parsed here only, with the command
 * line's flag handling, help and settings from `.env`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "dotenv";
import { describeEngineVariant, serve } from "../local/serve";
import { detectCpuFeatures, findBinaryPackage, resolveCpuVariant } from "../local/cpu-variant";
import type { LocalServerOptions } from "../local/start";
import { parseCommandOrHelp, readInteger, stringFlag, UsageError, usageLine, type CommandSpec } from "./args";
import { EXIT_CODES } from "../core/errors";
import type { CommandContext } from "./context";

/** The `serve` command's flags and help. */
export const SERVE_COMMAND: CommandSpec = {
  name: "serve",
  summary: "serve the local model over an OpenAI-compatible API until Ctrl+C.",
  usage: "serve [options]",
  positionals: { minimum: 0, maximum: 0, names: [] },
  flags: {
    host: {
      type: "string",
      placeholder: "HOST",
      description: "Interface to bind (default 127.0.0.1; 0.0.0.0 exposes it to the network).",
    },
    port: { type: "string", placeholder: "PORT", description: "Port; 0 picks a free one (default 0)." },
    model: {
      type: "string",
      placeholder: "FILE",
      description: "GGUF model file (default: SEEDLAB_MODEL_PATH, else the embedded models/stories260K.gguf).",
    },
    "batch-size": {
      type: "string",
      placeholder: "N",
      description: "Tokens per llama.cpp batch (default 512; part of the fingerprint).",
    },
    threads: {
      type: "string",
      placeholder: "N",
      description: "CPU threads (default 1, the fastest for small models).",
    },
    "context-size": {
      type: "string",
      placeholder: "N",
      description: "Context window in tokens (default: the model's, at most 2048).",
    },
    "max-queue": {
      type: "string",
      placeholder: "N",
      description: "Requests allowed to wait before a 429 (default 64).",
    },
    "cpu-variant": {
      type: "string",
      placeholder: "NAME",
      description:
        "ggml CPU variant: auto (the fastest here), portable (the one every CPU runs: the same code on every laptop) or a name such as haswell. Default: SEEDLAB_CPU_VARIANT, else auto.",
    },
    workers: {
      type: "string",
      placeholder: "N",
      description:
        "Requests generated at once, each in its own context (default: two per core, at most 4; outputs do not depend on it).",
    },
  },
  details: [
    "Example:",
    "  seedlab serve --port 8080",
    '  seedlab run --base-url http://127.0.0.1:8080/v1 --model stories260K "Once upon a time" --seed 1',
    "",
    "Prints `seedlab local server: URL` once it listens. Exit codes: 0 stopped with Ctrl+C, 2 bad usage,",
    "3 the server could not start (no model file, port in use).",
  ].join("\n"),
};

const RANGES: Array<[flag: string, key: keyof LocalServerOptions, minimum: number, maximum: number, fix: string]> = [
  ["port", "port", 0, 65535, "Use e.g. 8080, or 0 for a free port."],
  ["batch-size", "batchSize", 1, 65536, "Use 512 (the default); 1 changes outputs."],
  ["threads", "threads", 1, 256, "Use 1 (the default)."],
  ["context-size", "contextSize", 16, 1048576, "Use e.g. 2048."],
  ["max-queue", "maxQueue", 0, 100000, "Use e.g. 64."],
  ["workers", "workers", 1, 64, "Use 1 to 4."],
];

/**
 * Runs `seedlab serve` until `context.signal` aborts (Ctrl+C).
 * @param args The arguments after `serve`.
 * @param context Streams, environment, working folder, abort signal.
 * @returns The exit code once stopped (see `EXIT_CODES`).
 * @throws {UsageError} For bad usage; `Error` when the server cannot start.
 */
export async function serveCommand(args: readonly string[], context: CommandContext): Promise<number> {
  const spec = SERVE_COMMAND;
  const parsed = parseCommandOrHelp(spec, args, context.stdout);
  if (parsed === null) return EXIT_CODES.ok;
  const { values } = parsed;
  const options: LocalServerOptions = {};
  for (const [flag, key, minimum, maximum, fix] of RANGES) {
    const text = stringFlag(values, flag);
    if (text !== undefined)
      (options as Record<string, number>)[key] = readInteger(`--${flag}`, text, { minimum, maximum, fix, spec });
  }
  const host = stringFlag(values, "host");
  if (host !== undefined) options.host = host;
  const model = stringFlag(values, "model");
  const modelPath = model === undefined ? modelPathSetting(context) : path.resolve(context.cwd, model);
  if (modelPath !== undefined) options.modelPath = modelPath;
  const cpuVariant = stringFlag(values, "cpu-variant") ?? fileSetting(context, "SEEDLAB_CPU_VARIANT");
  if (cpuVariant !== undefined) {
    // Refused as bad usage, with what this CPU can run, before the model loads.
    const binaryPackage = findBinaryPackage();
    try {
      if (binaryPackage !== null) resolveCpuVariant(cpuVariant, binaryPackage.variants, detectCpuFeatures());
    } catch (error) {
      throw new UsageError((error as Error).message, { usage: usageLine(spec), command: spec.name });
    }
    options.cpuVariant = cpuVariant;
  }
  if (context.signal.aborted) return EXIT_CODES.interrupted;

  const running = await serve(options);
  const { engine } = running;
  context.stdout.write(
    [
      `seedlab local server: ${running.url}`,
      `  model ${engine.modelId} (${engine.modelPath})`,
      `  system_fingerprint ${engine.fingerprint}, CPU variant ${describeEngineVariant(engine)}, batch size ${engine.batchSize}, threads ${engine.threads}, ${engine.workers} worker(s), context ${engine.contextSize} tokens`,
      "  Press Ctrl+C to stop.",
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    if (context.signal.aborted) resolve();
    else context.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await running.close();
  context.stderr.write("seedlab local server stopped.\n");
  return EXIT_CODES.ok;
}

/** SEEDLAB_MODEL_PATH from the environment, else from `.env` (only this setting: serve needs no other). */
function modelPathSetting(context: Pick<CommandContext, "env" | "cwd">): string | undefined {
  return fileSetting(context, "SEEDLAB_MODEL_PATH");
}

/** A setting from the environment, else from `.env`. */
function fileSetting(context: Pick<CommandContext, "env" | "cwd">, name: string): string | undefined {
  const fromEnvironment = context.env[name]?.trim();
  if (fromEnvironment) return fromEnvironment;
  const envFile = path.resolve(context.cwd, ".env");
  const fromFile = fs.existsSync(envFile) ? parse(fs.readFileSync(envFile))[name]?.trim() : undefined;
  return fromFile || undefined;
}
