/**
 * seedlab's errors: one root, {@link SeedlabError}, that every seedlab error extends and that carries the exit code
 * the command line ends with; and one builder for the "Expected `x` to be ..., got ... . Fix." messages, so every
 * bad value is reported the same way (the parameter in backticks, the value as the user wrote it, what to do).
 */

/** Exit codes of the `seedlab` command, documented in `seedlab --help`. */
export const EXIT_CODES = {
  /** Everything ran and passed. */
  ok: 0,
  /** A check failed, a request failed, or `compare` found changes. */
  failed: 1,
  /** Bad usage: unknown command or flag, bad value, unreadable input file, invalid setting. Nothing was sent. */
  usage: 2,
  /** The backend could not be opened (e.g. the local server did not start), or an unexpected error. */
  error: 3,
  /** Interrupted (Ctrl+C). */
  interrupted: 130,
} as const;

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The root of every error seedlab throws. `exitCode` is what `seedlab` exits with when this error ends a command. */
export class SeedlabError extends Error {
  override name = "SeedlabError";
  /** The command line's exit code for this error (see {@link EXIT_CODES}). */
  readonly exitCode: ExitCode;

  /**
   * @param message What went wrong and what to do.
   * @param options `exitCode` (default 3, `EXIT_CODES.error`); `cause`: the underlying error.
   */
  constructor(message: string, { exitCode = EXIT_CODES.error, cause }: { exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.exitCode = exitCode;
  }
}

/** Thrown for a bad parameter or setting, before anything is sent (exit code 2). */
export class InvalidParameterError extends SeedlabError {
  override readonly name: string = "InvalidParameterError";
  /** The parameter or setting at fault, e.g. `temperature` or `SEEDLAB_TIMEOUT_MS`. */
  readonly parameter: string;

  /**
   * @param parameter The parameter or setting at fault.
   * @param message The full message (already naming the parameter, its value and the fix; see {@link expected}).
   */
  constructor(parameter: string, message: string) {
    super(message, { exitCode: EXIT_CODES.usage });
    this.parameter = parameter;
  }
}

/** A value shown in a message as written here, not formatted (e.g. "nothing", "a value (hidden) ..."). */
export class ShownAs {
  /** @param text The words shown after "got". */
  constructor(readonly text: string) {}
}

/**
 * Shows a value the way a user would recognise it: strings quoted, the rest as JSON, long values cut at 80 characters.
 * @param value Any value; a {@link ShownAs} is shown as its text.
 * @returns The text.
 */
export function formatValue(value: unknown): string {
  if (value instanceof ShownAs) return value.text;
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? value.slice(0, 77) + "..." : value);
  if (value === undefined) return "undefined";
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (typeof value === "bigint") return `${value}n`;
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? json.slice(0, 77) + "..." : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * The one way seedlab words a bad value: ``Expected `parameter` to be EXPECTATION, got VALUE. FIX``.
 * @param parameter The parameter, flag, setting or key at fault (shown in backticks).
 * @param expectation What it should be, e.g. "a number from 0 to 2".
 * @param value The value received (see {@link formatValue}; wrap words in {@link ShownAs} to show them as they are).
 * @param fix What to do instead.
 * @returns The message.
 */
export function expected(parameter: string, expectation: string, value: unknown, fix: string): string {
  return `Expected \`${parameter}\` to be ${expectation}, got ${formatValue(value)}. ${fix}`;
}

/**
 * An {@link InvalidParameterError} with the {@link expected} message, to throw.
 * @param parameter The parameter at fault.
 * @param expectation What it should be.
 * @param value The value received.
 * @param fix What to do instead.
 * @returns The error (the caller throws it).
 */
export function invalidParameter(
  parameter: string,
  expectation: string,
  value: unknown,
  fix: string,
): InvalidParameterError {
  return new InvalidParameterError(parameter, expected(parameter, expectation, value, fix));
}
