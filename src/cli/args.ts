/**
 * The command line's shared parts: flag specs, parsing with `node:util` `parseArgs` (in its
 * non-strict mode, so every mistake is reported here in seedlab's words, naming the flag and its
 * value), help text, value readers, and the exit codes every command uses.
 */
import { parseArgs } from "node:util";
import { EXIT_CODES, SeedlabError, expected, formatValue } from "../core/errors";

/** Thrown for a bad command line: `seedlab` prints the message and the command's usage line, and exits 2. */
export class UsageError extends SeedlabError {
  override readonly name = "UsageError";
  /** The usage line of the command at fault, e.g. `seedlab run [options] [PROMPT]`. */
  readonly usage: string;
  /** The command at fault (`run`, `check`, ...), or null for the top level. */
  readonly command: string | null;

  /**
   * @param message What was wrong, naming the flag and value, and what to do.
   * @param options `usage`: the usage line; `command`: the command name (null at the top level).
   */
  constructor(message: string, { usage, command }: { usage: string; command: string | null }) {
    super(message, { exitCode: EXIT_CODES.usage });
    this.usage = usage;
    this.command = command;
  }
}

/** One flag of a command. */
export interface FlagSpec {
  /** `string` flags take a value (`--seed 123` or `--seed=123`); `boolean` flags take none. */
  type: "string" | "boolean";
  /** One-letter alias, e.g. `n` for `-n 5`. */
  short?: string;
  /** The flag may be repeated; its values are collected in order. */
  multiple?: boolean;
  /** Placeholder for the value in the help, e.g. `N` or `FILE`. */
  placeholder?: string;
  /** One line for the help. */
  description: string;
}

/** What a command accepts, and the text of its help. */
export interface CommandSpec {
  /** The command, e.g. `run`. */
  name: string;
  /** One line saying what the command does. */
  summary: string;
  /** Usage line without the leading `seedlab `, e.g. `run [options] [PROMPT]`. */
  usage: string;
  /** Flags by long name (without `--`). `help` is added to every command. */
  flags: Record<string, FlagSpec>;
  /** Accepted positional arguments, in order (their placeholders). */
  positionals: { minimum: number; maximum: number; names: string[] };
  /** Further help paragraphs (examples, formats, exit codes). */
  details?: string;
}

/** Parsed values: a string, `true`, or the list of a repeated flag, by long name. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** The result of {@link parseCommandLine}. */
export interface ParsedCommandLine {
  values: FlagValues;
  positionals: string[];
  /** `--help` or `-h` was given: show the help and ignore everything else. */
  help: boolean;
}

const HELP_FLAG: FlagSpec = { type: "boolean", short: "h", description: "Show this help and exit." };

/**
 * The usage line of a command, as printed after an error.
 * @param spec The command.
 * @returns E.g. `Usage: seedlab run [options] [PROMPT]`.
 */
export function usageLine(spec: CommandSpec): string {
  return `Usage: seedlab ${spec.usage}`;
}

/**
 * Parses a command's arguments; on `--help` writes the command's help to `stdout` instead.
 * @param spec The command's flags and positionals.
 * @param args The arguments after the command name.
 * @param stdout Where the help goes.
 * @returns The parsed command line, or null when the help was shown (the command then exits 0).
 * @throws {UsageError} As {@link parseCommandLine}.
 */
export function parseCommandOrHelp(
  spec: CommandSpec,
  args: readonly string[],
  stdout: { write(text: string): unknown },
): ParsedCommandLine | null {
  const parsed = parseCommandLine(spec, args);
  if (!parsed.help) return parsed;
  stdout.write(renderHelp(spec));
  return null;
}

/**
 * Parses a command's arguments. `--help` anywhere (before `--`) wins over every other argument.
 * @param spec The command's flags and positionals.
 * @param args The arguments after the command name.
 * @returns Values by long flag name, positionals, and whether help was asked for.
 * @throws {UsageError} For an unknown flag, a missing or unexpected value, or too many/few positionals.
 */
export function parseCommandLine(spec: CommandSpec, args: readonly string[]): ParsedCommandLine {
  const flags: Record<string, FlagSpec> = { ...spec.flags, help: HELP_FLAG };
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, flag] of Object.entries(flags)) {
    options[name] = {
      type: flag.type,
      ...(flag.short === undefined ? {} : { short: flag.short }),
      ...(flag.multiple ? { multiple: true } : {}),
    };
  }
  const fail = (message: string): never => {
    throw new UsageError(message, { usage: usageLine(spec), command: spec.name });
  };
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });

  const values: FlagValues = {};
  const positionals: string[] = [];
  let help = false;
  const problems: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === "option-terminator") continue;
    const written = token.rawName;
    const flag = flags[token.name];
    if (flag === undefined || (written.startsWith("--") && written.slice(2) !== token.name)) {
      problems.push(
        `Unknown flag \`${written}\` for \`seedlab ${spec.name}\`. Run \`seedlab ${spec.name} --help\` for its flags.`,
      );
      continue;
    }
    if (token.name === "help") {
      help = true;
      continue;
    }
    const display = flag.short !== undefined && written === `-${flag.short}` ? `-${flag.short}` : `--${token.name}`;
    if (flag.type === "boolean") {
      if (token.value !== undefined)
        problems.push(`\`${display}\` takes no value, got ${formatValue(token.value)}. Write \`${display}\` alone.`);
      else values[token.name] = true;
      continue;
    }
    // Non-strict parseArgs takes the next argument as the value even when it is another flag.
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith("--"))) {
      problems.push(
        `\`${display}\` needs a value${value === undefined ? "" : `, got the flag ${formatValue(value)}`}. Write \`${display} ${flag.placeholder ?? "VALUE"}\`` +
          " (use `--flag=VALUE` for a value that starts with a dash).",
      );
      continue;
    }
    if (flag.multiple) values[token.name] = [...((values[token.name] as string[] | undefined) ?? []), value];
    else if (values[token.name] !== undefined && values[token.name] !== value) {
      problems.push(
        `\`${display}\` was given twice (${formatValue(values[token.name])} and ${formatValue(value)}). Give it once.`,
      );
    } else values[token.name] = value;
  }
  if (help) return { values, positionals, help };
  if (problems.length > 0) fail(problems[0] as string);
  if (positionals.length > spec.positionals.maximum) {
    const extra = positionals[spec.positionals.maximum] as string;
    fail(
      spec.positionals.maximum === 0
        ? `\`seedlab ${spec.name}\` takes no positional argument, got ${formatValue(extra)}.`
        : `Unexpected argument ${formatValue(extra)}: \`seedlab ${spec.name}\` takes ${spec.positionals.names.join(" ")}.` +
            (spec.name === "run" ? ' Put the prompt in quotes: seedlab run "Once upon a time".' : ""),
    );
  }
  if (positionals.length < spec.positionals.minimum) {
    const missing = spec.positionals.names.slice(positionals.length, spec.positionals.minimum).join(" ");
    fail(`\`seedlab ${spec.name}\` needs ${missing}.`);
  }
  return { values, positionals, help };
}

/**
 * A command's full help: summary, usage, flags (aligned), details.
 * @param spec The command.
 * @returns The help text, ending with a newline.
 */
export function renderHelp(spec: CommandSpec): string {
  const flags: Array<[string, FlagSpec]> = [...Object.entries(spec.flags), ["help", HELP_FLAG]];
  const labels = flags.map(([name, flag]) => {
    const short = flag.short === undefined ? "    " : `-${flag.short}, `;
    return `${short}--${name}${flag.type === "string" ? ` ${flag.placeholder ?? "VALUE"}` : ""}`;
  });
  const width = Math.max(...labels.map((label) => label.length));
  const lines = [
    `seedlab ${spec.name}: ${spec.summary}`,
    "",
    usageLine(spec),
    "",
    "Flags:",
    ...flags.map(
      ([, flag], index) =>
        `  ${(labels[index] as string).padEnd(width)}  ${flag.description}${flag.multiple ? " (repeatable)" : ""}`,
    ),
  ];
  if (spec.details !== undefined) lines.push("", spec.details.trimEnd());
  return lines.join("\n") + "\n";
}

/**
 * The value of a string flag.
 * @param values Parsed flags.
 * @param name The long flag name, without `--`.
 * @returns Its value, or undefined when not given.
 */
export function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * Whether a boolean flag was given.
 * @param values Parsed flags.
 * @param name The long flag name, without `--`.
 * @returns True when given.
 */
export function booleanFlag(values: FlagValues, name: string): boolean {
  return values[name] === true;
}

/**
 * The values of a repeatable flag.
 * @param values Parsed flags.
 * @param name The long flag name, without `--`.
 * @returns Its values in the order given (empty when not given).
 */
export function listFlag(values: FlagValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : [];
}

/**
 * Reads a whole number from a flag's text.
 * @param flag The flag as written in messages, e.g. `--runs`.
 * @param text The value given.
 * @param options `minimum`, `maximum` (optional), `fix`: what to do instead; `spec`: the command, for the error.
 * @returns The number.
 * @throws {UsageError} When the text is not a whole number in range.
 */
export function readInteger(
  flag: string,
  text: string,
  { minimum, maximum, fix, spec }: { minimum: number; maximum?: number; fix: string; spec: CommandSpec },
): number {
  const value = /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < minimum || (maximum !== undefined && value > maximum)) {
    const range = maximum === undefined ? `from ${minimum} and up` : `from ${minimum} to ${maximum}`;
    throw new UsageError(expected(flag, `a whole number ${range}`, text, fix), {
      usage: usageLine(spec),
      command: spec.name,
    });
  }
  return value;
}

/**
 * Reads a number from a flag's text.
 * @param flag The flag as written in messages, e.g. `--temperature`.
 * @param text The value given.
 * @param options `minimum`, `maximum`, `aboveMinimum` (the minimum itself excluded), `fix`, `spec`.
 * @returns The number.
 * @throws {UsageError} When the text is not a finite number in range.
 */
export function readNumber(
  flag: string,
  text: string,
  {
    minimum,
    maximum,
    aboveMinimum = false,
    fix,
    spec,
  }: { minimum: number; maximum: number; aboveMinimum?: boolean; fix: string; spec: CommandSpec },
): number {
  const value = text.trim() === "" ? Number.NaN : Number(text);
  if (!Number.isFinite(value) || value < minimum || (aboveMinimum && value === minimum) || value > maximum) {
    const range = aboveMinimum ? `above ${minimum} and at most ${maximum}` : `from ${minimum} to ${maximum}`;
    throw new UsageError(expected(flag, `a number ${range}`, text, fix), {
      usage: usageLine(spec),
      command: spec.name,
    });
  }
  return value;
}

/**
 * Reads one `--param key=value`: the value is parsed as JSON (`5`, `true`, `["\n"]`, `{"type":"text"}`),
 * and taken as a plain string when it is not valid JSON (`user=alice`).
 * @param text The flag's value.
 * @param spec The command, for the error.
 * @returns The parameter name and its value.
 * @throws {UsageError} When there is no `=` or the name is empty.
 */
export function readParameter(text: string, spec: CommandSpec): [string, unknown] {
  const equals = text.indexOf("=");
  const key = equals === -1 ? "" : text.slice(0, equals).trim();
  if (equals === -1 || key === "") {
    throw new UsageError(
      expected(
        "--param",
        "NAME=VALUE",
        text,
        `Write e.g. --param top_logprobs=3 or --param 'stop=["\\n"]' (the value is JSON, else a string).`,
      ),
      { usage: usageLine(spec), command: spec.name },
    );
  }
  const valueText = text.slice(equals + 1);
  try {
    return [key, JSON.parse(valueText)];
  } catch {
    return [key, valueText];
  }
}
