/**
 * Saved runs: a batch's `ChatRun` records as JSON Lines (one run per line), so a long batch survives
 * an interruption and resumes where it stopped. Runs are appended as they finish (a crash loses at
 * most the line being written, which `readRuns` then ignores), and the file is rewritten compact
 * (one line per index) when the batch ends. Runs never hold an API key; error messages and contents
 * are scrubbed of the client's key once more before they are written.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { DEFAULT_CONCURRENCY, DEFAULT_RUNS } from "./constants";
import type { Batch, BatchProgress, ChatRun } from "./types";
import { buildChatParameters, hashParameters, redactSecrets, type ChatRequest } from "./chat";
import { runBatch, type BatchOptions } from "./batch";
import { NO_API_KEY } from "../client";
import { validateBatchOptions } from "./validate";
import { EXIT_CODES, SeedlabError, formatValue, invalidParameter } from "./errors";

/** Thrown when a saved-runs file cannot be used: a bad line, or runs of another request (exit code 2). */
export class SavedRunsError extends SeedlabError {
  override readonly name = "SavedRunsError";
  /** The file at fault. */
  readonly path: string;
  /** The 1-based line at fault, or null when the whole file is. */
  readonly line: number | null;

  /**
   * @param options `path`, `line` (null for the whole file), `message` (already naming both and the fix).
   */
  constructor({ path: file, line, message }: { path: string; line: number | null; message: string }) {
    super(message, { exitCode: EXIT_CODES.usage });
    this.path = file;
    this.line = line;
  }
}

/**
 * Writes runs as JSON Lines, one `ChatRun` per line, atomically: a temporary file in the same folder,
 * then a rename, so readers see the old file or the new one, never half of it. Creates the folder.
 * @param path The `.jsonl` file to write (replaced if it exists).
 * @param runs The runs, written in the order given.
 * @returns Nothing.
 * @throws {InvalidParameterError} When `path` is not a non-empty string.
 * @throws {Error} The file system's error when the folder cannot be created or written.
 */
export function writeRuns(path: string, runs: readonly ChatRun[]): void {
  validatePath(path);
  fs.mkdirSync(nodePath.dirname(nodePath.resolve(path)), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    fs.writeFileSync(temporary, runs.map((run) => serialiseRun(run)).join(""));
    fs.renameSync(temporary, path);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Appends one run as a line. A last line left unfinished by an interrupted write is dropped first,
 * so the new line never glues onto it.
 * @param path The `.jsonl` file (created with its folder if missing).
 * @param run The run to append.
 * @returns Nothing.
 * @throws {InvalidParameterError} When `path` is not a non-empty string.
 * @throws {Error} The file system's error when it cannot be written.
 */
export function appendRun(path: string, run: ChatRun): void {
  validatePath(path);
  fs.mkdirSync(nodePath.dirname(nodePath.resolve(path)), { recursive: true });
  repairUnfinishedLine(path);
  fs.appendFileSync(path, serialiseRun(run));
}

/**
 * Reads saved runs. Every line must be a `ChatRun`; when an index appears on several lines, the last
 * one wins (a retried run appended after its failure); an unfinished last line (a write that was
 * interrupted: no final newline, not JSON) is ignored.
 * @param path The `.jsonl` file.
 * @returns The runs, sorted by index, one per index.
 * @throws {SavedRunsError} Naming the file and line of the first bad line, and what to do.
 * @throws {Error} The file system's error (e.g. ENOENT) when the file cannot be read.
 */
export function readRuns(path: string): ChatRun[] {
  validatePath(path);
  const text = fs.readFileSync(path, "utf8");
  const lines = text.split("\n");
  const unfinished = lines.pop() ?? ""; // "" when the file ends with a newline
  const byIndex = new Map<number, ChatRun>();
  const take = (line: string, number: number): void => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw badLine(path, number, `is not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    const problem = findRunProblem(value);
    if (problem !== null) throw badLine(path, number, `is not a saved run: ${problem}`);
    const run = value as ChatRun;
    byIndex.set(run.index, run);
  };
  lines.forEach((line, position) => take(line, position + 1));
  if (unfinished.trim() !== "" && isJson(unfinished)) take(unfinished, lines.length + 1);
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

/** Options of {@link runSavedBatch}: those of `runBatch`, plus the file. */
export type SavedBatchOptions = BatchOptions & {
  /** The request, as for `runBatch`. */
  request: ChatRequest;
  /** Runs in the batch. Default 5. */
  runs?: number;
  /** The `.jsonl` file that holds the runs (created with its folder if missing). */
  path: string;
};

/**
 * A `runBatch` that saves each run to `path` as it finishes and resumes from what `path` holds: the
 * successful runs of the same request (same `parametersHash`) are kept and not sent again, failed or
 * missing ones are sent. When the batch ends the file is rewritten with one line per index.
 * Progress events count the whole batch (`finished` includes the resumed runs).
 * @param options `runBatch`'s options (`client`, `request`, `runs` = 5, `concurrency`, `onProgress`, `label`, `signal`, ...) and `path`.
 * @returns The whole batch (resumed and new runs, by index) and `resumed`, how many runs were taken from the file.
 * @throws {InvalidParameterError} For bad input, before anything is sent.
 * @throws {SavedRunsError} When the file holds a bad line or runs of a different request; nothing is sent.
 */
export async function runSavedBatch({
  path: file,
  request,
  runs = DEFAULT_RUNS,
  concurrency = DEFAULT_CONCURRENCY,
  onProgress,
  ...options
}: SavedBatchOptions): Promise<Batch & { resumed: number }> {
  validatePath(file);
  validateBatchOptions({ runs, concurrency });
  const parameters = buildChatParameters(request);
  const hash = hashParameters(parameters);
  const apiKey = options.client.apiKey;
  const saved = fs.existsSync(file) ? readRuns(file) : [];
  const other = saved.find((run) => run.parametersHash !== hash);
  if (other !== undefined) {
    throw new SavedRunsError({
      path: file,
      line: null,
      message: `${file} holds runs of a different request (parametersHash ${other.parametersHash}; this request's is ${hash}). Save this request to another file (the \`path\` option; \`--save FILE\` on the command line), or delete ${file} to start over (\`--overwrite\` on the command line).`,
    });
  }
  const byIndex = new Map<number, ChatRun>(saved.map((run) => [run.index, run]));
  const indexes = Array.from({ length: runs }, (_, index) => index).filter(
    (index) => byIndex.get(index)?.error !== null,
  );
  const resumed = runs - indexes.length;
  // The file is only appended to from here on (appendRun drops an unfinished last line first), so
  // an interruption at any point leaves every finished run on disk.

  // The caller's callback may throw: keep saving every run, stop calling it, raise its error at the end (as runBatch does).
  let progressError: { error: unknown } | null = null;
  const progress = (event: BatchProgress): void => {
    appendRun(file, scrub(event.run, apiKey));
    if (onProgress === undefined || progressError !== null) return;
    try {
      onProgress({ ...event, finished: resumed + event.finished, total: runs });
    } catch (error) {
      progressError = { error };
    }
  };
  const batch = await runBatch({ ...options, request, runs, concurrency, indexes, onProgress: progress });

  for (const run of batch.runs) byIndex.set(run.index, scrub(run, apiKey));
  // Runs beyond `runs` (saved by a longer batch of the same request) stay in the file, not in the result.
  const all = [...byIndex.values()].sort((a, b) => a.index - b.index);
  writeRuns(file, all);
  if (progressError !== null) throw (progressError as { error: unknown }).error;
  return { ...batch, runs: all.filter((run) => run.index < runs), resumed };
}

function validatePath(file: unknown): asserts file is string {
  if (typeof file !== "string" || file.trim() === "") {
    throw invalidParameter("path", "a file path", file, 'Use e.g. "out/runs/seed-123.jsonl".');
  }
}

function serialiseRun(run: ChatRun): string {
  return JSON.stringify(scrub(run, null)) + "\n";
}

/**
 * Removes the key from the texts a server could echo it into: error messages lose the key and
 * anything shaped like an OpenAI key; contents lose the exact key only (model output is kept as is).
 */
function scrub(run: ChatRun, apiKey: string | null): ChatRun {
  const error = run.error === null ? null : { ...run.error, message: redactSecrets(run.error.message, apiKey) };
  const secret = apiKey !== null && apiKey !== NO_API_KEY && apiKey.length >= 4 ? apiKey : null;
  const content =
    run.content === null || secret === null || !run.content.includes(secret)
      ? run.content
      : run.content.split(secret).join("[redacted]");
  return { ...run, content, error };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Drops an unfinished last line (no final newline, not JSON); ends a finished one that lacks its newline. */
function repairUnfinishedLine(file: string): void {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return; // no file yet
  }
  if (size === 0) return;
  const last = Buffer.alloc(1);
  const descriptor = fs.openSync(file, "r");
  try {
    fs.readSync(descriptor, last, 0, 1, size - 1);
  } finally {
    fs.closeSync(descriptor);
  }
  if (last[0] === 0x0a) return;
  const text = fs.readFileSync(file, "utf8");
  const lineStart = text.lastIndexOf("\n") + 1;
  if (isJson(text.slice(lineStart))) fs.appendFileSync(file, "\n");
  else fs.truncateSync(file, Buffer.byteLength(text.slice(0, lineStart)));
}

function badLine(file: string, line: number, problem: string): SavedRunsError {
  return new SavedRunsError({
    path: file,
    line,
    message: `Line ${line} of ${file} ${problem}. Every line of a saved-runs file is one ChatRun as JSON (as writeRuns, runSavedBatch or \`seedlab run --save\` write them): check that this is such a file; if it is, fix or delete that line.`,
  });
}

const NULLABLE_STRINGS = ["content", "systemFingerprint", "finishReason", "responseModel"] as const;
const NULLABLE_NUMBERS = ["promptTokens", "completionTokens", "seedUsed"] as const;

/** What makes a parsed line not a `ChatRun`, or null when it is one. */
function findRunProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return `expected an object, got ${formatValue(value)}`;
  const run = value as Record<string, unknown>;
  if (typeof run.index !== "number" || !Number.isSafeInteger(run.index) || run.index < 0)
    return `\`index\` should be an integer from 0, got ${formatValue(run.index)}`;
  for (const key of NULLABLE_STRINGS) {
    if (run[key] !== null && typeof run[key] !== "string")
      return `\`${key}\` should be a string or null, got ${formatValue(run[key])}`;
  }
  for (const key of NULLABLE_NUMBERS) {
    if (run[key] !== null && typeof run[key] !== "number")
      return `\`${key}\` should be a number or null, got ${formatValue(run[key])}`;
  }
  if (run.logprobs !== null && !Array.isArray(run.logprobs))
    return `\`logprobs\` should be an array or null, got ${formatValue(run.logprobs)}`;
  if (typeof run.latencyMs !== "number") return `\`latencyMs\` should be a number, got ${formatValue(run.latencyMs)}`;
  if (typeof run.attempts !== "number" || !Number.isSafeInteger(run.attempts) || run.attempts < 0)
    return `\`attempts\` should be an integer from 0, got ${formatValue(run.attempts)}`;
  const parameters = run.parameters as Record<string, unknown> | null | undefined;
  if (
    typeof parameters !== "object" ||
    parameters === null ||
    typeof parameters.model !== "string" ||
    !Array.isArray(parameters.messages)
  ) {
    return `\`parameters\` should be the request body { model, messages, ... }, got ${formatValue(run.parameters)}`;
  }
  if (typeof run.parametersHash !== "string" || !/^[0-9a-f]{16}$/.test(run.parametersHash))
    return `\`parametersHash\` should be 16 hex digits, got ${formatValue(run.parametersHash)}`;
  if (typeof run.startedAt !== "string")
    return `\`startedAt\` should be an ISO time, got ${formatValue(run.startedAt)}`;
  const error = run.error as Record<string, unknown> | null | undefined;
  if (error !== null) {
    if (
      typeof error !== "object" ||
      error === undefined ||
      typeof error.type !== "string" ||
      typeof error.message !== "string" ||
      (error.status !== null && typeof error.status !== "number")
    ) {
      return `\`error\` should be null or { type, status, message }, got ${formatValue(run.error)}`;
    }
  }
  return null;
}
