/**
 * The `seedlab` command line: `run`, `check`, `serve`, `compare`, `kernel`. `bin/seedlab.js` loads this file
 * through tsx and calls {@link main}. Each command lives in its own file and returns its exit code;
 * errors are turned into a message (and a usage line for bad usage) and an exit code here.
 */
import { setMaxListeners } from "node:events";
import { EXIT_CODES, SeedlabError } from "../core/errors";
import { UsageError } from "./args";
import type { CommandContext } from "./context";
import { runCommand, RUN_COMMAND } from "./run";
import { checkCommand, CHECK_COMMAND } from "./check";
import { serveCommand, SERVE_COMMAND } from "./serve";
import { compareCommand, COMPARE_COMMAND, SavedFileError } from "./compare";
import { kernelCommand, KERNEL_COMMAND } from "./kernel";

const COMMANDS = {
  run: { spec: RUN_COMMAND, handler: runCommand },
  check: { spec: CHECK_COMMAND, handler: checkCommand },
  serve: { spec: SERVE_COMMAND, handler: serveCommand },
  compare: { spec: COMPARE_COMMAND, handler: compareCommand },
  kernel: { spec: KERNEL_COMMAND, handler: kernelCommand },
} as const;
type CommandName = keyof typeof COMMANDS;

const TOP_USAGE = "Usage: seedlab <command> [options]   (seedlab <command> --help for its flags)";

/**
 * The top-level help: commands, settings, exit codes.
 * @returns The help text, ending with a newline.
 */
export function renderTopHelp(): string {
  const usages = Object.values(COMMANDS).map(({ spec }) => spec.usage.replace(" [options]", ""));
  const width = Math.max(...usages.map((usage) => usage.length));
  return [
    "seedlab: reproducible LLM completions with the `seed` parameter, from the command line.",
    "",
    TOP_USAGE,
    "",
    "Commands:",
    ...Object.values(COMMANDS).map(
      ({ spec }, index) => `  ${(usages[index] as string).padEnd(width)}  ${spec.summary}`,
    ),
    "",
    "Backend: settings come from the environment and .env (OPENAI_API_KEY, OPENAI_BASE_URL, SEEDLAB_BACKEND,",
    "SEEDLAB_MODEL, SEEDLAB_MODEL_PATH, ...); --backend, --base-url and --model override them. Without any,",
    "the local model (stories260K) is started on 127.0.0.1 for the duration of the command.",
    "",
    "Exit codes:",
    "  0    ok: every run succeeded, every check passed, no change found",
    "  1    a check failed, a run failed, or compare found changes",
    "  2    bad usage: unknown command or flag, bad value, unreadable suite or saved file, invalid setting (nothing was sent)",
    "  3    the backend could not be opened (e.g. the local server did not start), or an unexpected error",
    "  130  interrupted (Ctrl+C)",
    "",
    "  -h, --help     Show this help.   --version     Show the version.",
    "",
  ].join("\n");
}

function isCommand(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

/**
 * Runs the command line.
 * @param args The arguments after `seedlab`.
 * @param context Streams, environment, working folder, abort signal.
 * @returns The exit code; never throws (every error is printed on `context.stderr`).
 */
export async function runCli(args: readonly string[], context: CommandContext): Promise<number> {
  const [first, ...rest] = args;
  try {
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      const topic = first === "help" ? rest[0] : undefined;
      if (topic !== undefined && isCommand(topic)) return await COMMANDS[topic].handler(["--help"], context);
      (first === undefined ? context.stderr : context.stdout).write(renderTopHelp());
      return first === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
    }
    if (first === "--version" || first === "-v") {
      context.stdout.write(`seedlab ${readVersion()}\n`);
      return EXIT_CODES.ok;
    }
    if (!isCommand(first)) {
      const hint = first.startsWith("-")
        ? `Unknown flag \`${first}\`: give a command first.`
        : `Unknown command \`${first}\`.`;
      throw new UsageError(`${hint} Commands: ${Object.keys(COMMANDS).join(", ")}.`, {
        usage: TOP_USAGE,
        command: null,
      });
    }
    return await COMMANDS[first].handler(rest, context);
  } catch (error) {
    return reportError(error, context);
  }
}

/** Prints an error the way its kind calls for and returns the matching exit code. */
function reportError(error: unknown, context: CommandContext): number {
  const prefix = (command: string | null): string => (command === null ? "seedlab: " : `seedlab ${command}: `);
  if (error instanceof UsageError) {
    context.stderr.write(`${prefix(error.command)}${error.message}\n${error.usage}\n`);
    return EXIT_CODES.usage;
  }
  if (error instanceof SavedFileError) {
    context.stderr.write(`seedlab compare: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof SeedlabError && error.exitCode === EXIT_CODES.usage) {
    context.stderr.write(`seedlab: ${error.message}\nNothing was sent.\n`);
    return error.exitCode;
  }
  if (context.signal.aborted) {
    context.stderr.write("seedlab: interrupted.\n");
    return EXIT_CODES.interrupted;
  }
  const message = error instanceof Error ? error.message : String(error);
  context.stderr.write(`seedlab: ${message}\n`);
  return error instanceof SeedlabError ? error.exitCode : EXIT_CODES.error;
}

function readVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("../../package.json") as { version: string }).version;
}

/**
 * The process entry point: runs {@link runCli} on `process.argv`, aborts on the first Ctrl+C (a
 * second one exits at once), flushes the output and exits with the command's code.
 * @returns Nothing; ends the process.
 */
export async function main(): Promise<void> {
  const controller = new AbortController();
  // Every request in flight listens to this signal (the SDK adds a listener per request): no leak warning.
  setMaxListeners(0, controller.signal);
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(EXIT_CODES.interrupted);
    controller.abort(new Error(`Interrupted (${signal}).`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  });
  // Exit once both streams are flushed (a pipe may still hold output), even if a socket is left open.
  let pending = 2;
  const done = (): void => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}

if (require.main === module) void main();
