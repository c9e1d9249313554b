/**
 * What every command gets (streams, environment, working folder, an abort signal for Ctrl+C), the
 * backend flags shared by `run` and `check`, and turning them into `Settings`: settings come from
 * the environment and `.env` (see `loadSettings`), and flags override them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { BatchProgress } from "../core/types";
import { openBackend, type Backend } from "../backend";
import { loadSettings, type Settings } from "../settings";
import { shouldUseColor } from "../render/text-diff";
import { BACKEND_KINDS, validateBackendKind, validateBaseURL } from "../core/validate";
import { EXIT_CODES, InvalidParameterError, SeedlabError, ShownAs, expected, formatValue } from "../core/errors";
import {
  readInteger,
  stringFlag,
  usageLine,
  UsageError,
  type CommandSpec,
  type FlagSpec,
  type FlagValues,
} from "./args";

/** A stream the command line writes to (`process.stdout`, `process.stderr`, or a test double). */
export interface OutputStream {
  write(text: string): unknown;
  /** True on a terminal: colours and the progress bar are used only then. */
  isTTY?: boolean;
}

/** What a command runs with. */
export interface CommandContext {
  stdout: OutputStream;
  stderr: OutputStream;
  /** The environment settings are read from (with `.env` in `cwd`). */
  env: NodeJS.ProcessEnv;
  /** The working folder: relative paths and `.env` are resolved against it. */
  cwd: string;
  /** Aborted on Ctrl+C: requests in flight are cancelled and the command ends with exit code 130. */
  signal: AbortSignal;
}

/** Thrown when the settings (environment, `.env`, or flags on top of them) are invalid: exit code 2. */
export class SettingsError extends SeedlabError {
  override readonly name = "SettingsError";

  /** @param message The setting's message (see `loadSettings`) and how flags override it. */
  constructor(message: string) {
    super(message, { exitCode: EXIT_CODES.usage });
  }
}

/** Flags that choose and tune the backend, shared by `run` and `check`. */
export const BACKEND_FLAGS: Record<string, FlagSpec> = {
  backend: {
    type: "string",
    placeholder: "KIND",
    description: `Backend: ${BACKEND_KINDS.join(", ")} (default: SEEDLAB_BACKEND, else inferred from OPENAI_BASE_URL / OPENAI_API_KEY, else local).`,
  },
  "base-url": {
    type: "string",
    placeholder: "URL",
    description:
      "OpenAI-compatible base URL, e.g. http://localhost:11434/v1; implies --backend compatible (default: OPENAI_BASE_URL).",
  },
  model: {
    type: "string",
    placeholder: "NAME",
    description:
      "Model to ask for (default: SEEDLAB_MODEL, else gpt-4o-mini for openai, the served model for local, the one model a compatible server lists).",
  },
  "model-path": {
    type: "string",
    placeholder: "FILE",
    description: "GGUF file for the local backend (default: SEEDLAB_MODEL_PATH, else stories260K).",
  },
  concurrency: {
    type: "string",
    placeholder: "N",
    description: "Requests in flight at once (default: SEEDLAB_CONCURRENCY, else 5).",
  },
  "timeout-ms": {
    type: "string",
    placeholder: "MS",
    description: "Per-attempt timeout in milliseconds (default: SEEDLAB_TIMEOUT_MS, else 60000).",
  },
  "max-retries": {
    type: "string",
    placeholder: "N",
    description: "Retries after a failed attempt (default: SEEDLAB_MAX_RETRIES, else 2).",
  },
};

/**
 * Settings from the environment and `.env`, with the backend flags on top.
 * @param values Parsed flags (see {@link BACKEND_FLAGS}).
 * @param spec The command, for error messages.
 * @param context `env` and `cwd`.
 * @returns The validated settings.
 * @throws {UsageError} For a bad flag value (naming the flag).
 * @throws {SettingsError} For an invalid setting in the environment or `.env`.
 */
export function settingsFromFlags(
  values: FlagValues,
  spec: CommandSpec,
  context: Pick<CommandContext, "env" | "cwd">,
): Settings {
  const usage = { usage: usageLine(spec), command: spec.name };
  const asUsageError = (check: () => void): void => {
    try {
      check();
    } catch (error) {
      if (error instanceof InvalidParameterError) throw new UsageError(error.message, usage);
      throw error;
    }
  };
  const env: NodeJS.ProcessEnv = { ...context.env };
  const backend = stringFlag(values, "backend");
  const baseURL = stringFlag(values, "base-url");
  if (backend !== undefined) {
    asUsageError(() => validateBackendKind(backend.toLowerCase(), "--backend"));
    env.SEEDLAB_BACKEND = backend.toLowerCase();
  }
  if (baseURL !== undefined) {
    asUsageError(() => validateBaseURL(baseURL, "--base-url"));
    if (backend?.toLowerCase() === "local") {
      throw new UsageError(
        `\`--base-url\` ${formatValue(baseURL)} does not apply to \`--backend local\` (it starts its own server). Drop one of the two.`,
        usage,
      );
    }
    env.OPENAI_BASE_URL = baseURL;
    if (backend === undefined) env.SEEDLAB_BACKEND = "compatible";
  }
  const model = stringFlag(values, "model");
  if (model !== undefined) {
    if (model.trim() === "")
      throw new UsageError(expected("--model", "a model name", model, "Write e.g. --model gpt-4o-mini."), usage);
    env.SEEDLAB_MODEL = model;
  }
  const modelPath = stringFlag(values, "model-path");
  if (modelPath !== undefined) {
    const resolved = path.resolve(context.cwd, modelPath);
    if (!fs.existsSync(resolved)) {
      throw new UsageError(
        expected(
          "--model-path",
          "an existing GGUF file",
          new ShownAs(`${formatValue(modelPath)} (looked at ${resolved})`),
          "Point it at a .gguf file, or leave it out for stories260K.",
        ),
        usage,
      );
    }
    env.SEEDLAB_MODEL_PATH = resolved;
  }
  const integers: Array<[string, string, number, string]> = [
    ["concurrency", "SEEDLAB_CONCURRENCY", 1, "Use 1 to send requests one after another, or e.g. 5."],
    ["timeout-ms", "SEEDLAB_TIMEOUT_MS", 1, "Use e.g. 60000 (one minute)."],
    ["max-retries", "SEEDLAB_MAX_RETRIES", 0, "Use 0 for no retry, or e.g. 2."],
  ];
  for (const [flag, variable, minimum, fix] of integers) {
    const text = stringFlag(values, flag);
    if (text !== undefined) env[variable] = String(readInteger(`--${flag}`, text, { minimum, fix, spec }));
  }
  try {
    return loadSettings({ env, envFile: path.resolve(context.cwd, ".env") });
  } catch (error) {
    if (!(error instanceof InvalidParameterError)) throw error;
    const hint =
      error.parameter === "SEEDLAB_MODEL"
        ? " Or pass `--model NAME`."
        : error.parameter === "OPENAI_BASE_URL"
          ? " Or pass `--base-url URL`."
          : "";
    throw new SettingsError(
      `${error.message}${hint} (Settings come from the environment and .env; --backend, --base-url and --model override them.)`,
    );
  }
}

/**
 * A one-line progress bar on a terminal (`[██████░░░░] 3/5 · 1 failed`), redrawn in place; nothing
 * when the stream is not a TTY (piped output and CI logs stay clean).
 * @param stream Where to draw it (stderr).
 * @param label Text before the bar, e.g. the prompt's name.
 * @returns `update` for each progress event, and `clear` to erase the line when done.
 */
export function createProgressBar(
  stream: OutputStream,
  label = "",
): { update(progress: BatchProgress): void; clear(): void } {
  if (stream.isTTY !== true) return { update: () => {}, clear: () => {} };
  let drawn = false;
  const width = 20;
  return {
    update({ finished, failed, total }: BatchProgress) {
      const filled = total === 0 ? width : Math.round((finished / total) * width);
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      stream.write(
        `\r\u001b[2K${label === "" ? "" : `${label} `}[${bar}] ${finished}/${total}${failed > 0 ? ` · ${failed} failed` : ""}`,
      );
      drawn = true;
    },
    clear() {
      if (drawn) stream.write("\r\u001b[2K");
      drawn = false;
    },
  };
}

/**
 * Opens the backend the settings name; for `local`, says on a terminal's stderr that the model is
 * starting (about a second) and erases the line once it is up; says on stderr how the model was
 * chosen when none was set (a compatible server's one model).
 * @param settings The settings.
 * @param stderr Where to show the notice (only when it is a TTY).
 * @returns The open backend; close it when done.
 * @throws When the local server cannot start (see `openBackend`).
 */
export async function openBackendWithNotice(settings: Settings, stderr: OutputStream): Promise<Backend> {
  const notice = settings.backend === "local" && stderr.isTTY === true;
  if (notice) stderr.write("Starting the local model server...");
  let backend: Backend;
  try {
    backend = await openBackend(settings);
  } finally {
    if (notice) stderr.write("\r\u001b[2K");
  }
  if (backend.notice !== null) stderr.write(`${backend.notice}\n`);
  return backend;
}

/**
 * Describes the backend for a report header, without any secret: kind, model, and URL.
 * @param backend The open backend's `kind`, `model` and `baseURL`.
 * @returns E.g. `local · stories260K · http://127.0.0.1:41234/v1`.
 */
export function describeBackend(backend: { kind: string; model: string; baseURL: string }): string {
  return `${backend.kind} · ${backend.model} · ${safeURL(backend.baseURL)}`;
}

/**
 * A URL fit to print or save: a user name, password or query string (where some proxies take a
 * key) is replaced by `***`.
 * @param url Any URL.
 * @returns The URL without credentials.
 */
export function safeURL(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username !== "" || parsed.password !== "") {
      parsed.username = "***";
      parsed.password = "";
    }
    if (parsed.search !== "") parsed.search = "?***";
    return parsed.toString();
  } catch {
    return url;
  }
}

/** `--color` / `--no-color`, for commands that print diffs. */
export const COLOR_FLAGS: Record<string, FlagSpec> = {
  color: {
    type: "boolean",
    description: "Colour the diffs even when stdout is not a terminal (e.g. CI logs that show ANSI colours).",
  },
  "no-color": { type: "boolean", description: "Never colour (also: NO_COLOR=1). Default: colour on a terminal only." },
};

/**
 * Whether to colour the output: `--color` / `--no-color` when given, else colour on a terminal
 * without `NO_COLOR` (see `shouldUseColor`).
 * @param values Parsed flags.
 * @param stream The output stream.
 * @param spec The command, for the error.
 * @returns True to use ANSI colours.
 * @throws {UsageError} When both flags are given.
 */
export function colorChoice(values: FlagValues, stream: OutputStream, spec: CommandSpec): boolean {
  const on = values.color === true;
  const off = values["no-color"] === true;
  if (on && off)
    throw new UsageError("Got both `--color` and `--no-color`. Give one of them.", {
      usage: usageLine(spec),
      command: spec.name,
    });
  if (on || off) return on;
  return shouldUseColor(stream);
}
