/**
 * `seedlab compare BEFORE AFTER`: two saved batches (`run --save`) compared run by run: which texts
 * changed and how (word diffs), whether the fingerprints changed, whether the requests differ.
 */
import * as path from "node:path";
import type { ChatRun } from "../core/types";
import { canonicalJson } from "../core/chat";
import { compareBatches, type BatchChanges, type RunPair } from "../analysis/compare-batches";
import { renderDiffText } from "../render/text-diff";
import { readRuns, SavedRunsError } from "../core/saved-runs";
import { booleanFlag, parseCommandOrHelp, type CommandSpec } from "./args";
import { COLOR_FLAGS, colorChoice, type CommandContext } from "./context";
import { EXIT_CODES, SeedlabError } from "../core/errors";

/** The `compare` command's flags and help. */
export const COMPARE_COMMAND: CommandSpec = {
  name: "compare",
  summary: "compare two saved batches run by run: changed texts, fingerprints, diffs.",
  usage: "compare [options] BEFORE.jsonl AFTER.jsonl",
  positionals: { minimum: 2, maximum: 2, names: ["BEFORE.jsonl", "AFTER.jsonl"] },
  flags: {
    json: { type: "boolean", description: "Print the comparison as JSON instead of text." },
    ...COLOR_FLAGS,
  },
  details: [
    "Runs are paired by position (run #0 with run #0). Save batches with `seedlab run --save FILE`.",
    "",
    "Example:",
    '  seedlab run "Once upon a time" --seed 1 --temperature 0 --save out/before.jsonl',
    '  seedlab run "Once upon a time" --seed 1 --temperature 0 --save out/after.jsonl --backend openai',
    "  seedlab compare out/before.jsonl out/after.jsonl",
    "",
    "Exit codes: 0 no text changed (and no run failed or is missing), 1 changes found, 2 bad usage or",
    "unreadable file.",
  ].join("\n"),
};

/** A saved file's name (as given) and its runs. */
export interface SavedBatch {
  file: string;
  runs: ChatRun[];
}

/** Top-level parameter keys whose values differ between two runs, sorted. */
function differingParameters(pair: RunPair): string[] {
  const keys = new Set([...Object.keys(pair.before.parameters), ...Object.keys(pair.after.parameters)]);
  const value = (run: ChatRun, key: string): string =>
    key in run.parameters ? canonicalJson(run.parameters[key]) : "(absent)";
  return [...keys].filter((key) => value(pair.before, key) !== value(pair.after, key)).sort();
}

/**
 * The comparison as text: both files' run counts and fingerprints, then one line per pair (with a
 * diff for a changed text), then the totals.
 * @param changes The result of `compareBatches`.
 * @param options `before`/`after`: each file's name and runs; `color`: ANSI colours in the diffs.
 * @returns Text without a trailing newline.
 */
export function renderBatchChangesText(
  changes: BatchChanges,
  { before, after, color = false }: { before: SavedBatch; after: SavedBatch; color?: boolean },
): string {
  const runCount = (runs: readonly ChatRun[]): string => `${runs.length} run${runs.length === 1 ? "" : "s"}`;
  const lines = [
    `before: ${before.file} · ${runCount(before.runs)} · fingerprints ${changes.fingerprintsBefore.join(", ") || "—"}`,
    `after:  ${after.file} · ${runCount(after.runs)} · fingerprints ${changes.fingerprintsAfter.join(", ") || "—"}`,
    changes.fingerprintChanged
      ? `Fingerprint changed: ${changes.fingerprintsBefore.join(", ") || "—"} → ${changes.fingerprintsAfter.join(", ") || "—"} (the backend changed: expect different outputs).`
      : "Fingerprint unchanged.",
  ];
  if (changes.parameterChanges > 0) {
    const keys = [
      ...new Set(changes.pairs.flatMap((pair) => (pair.sameParameters ? [] : differingParameters(pair)))),
    ].sort();
    lines.push(
      `Requests differ in ${changes.parameterChanges} of ${changes.pairs.length} pairs (${keys.join(", ") || "parameters"}): their texts are not expected to match.`,
    );
  }
  lines.push("");
  for (const pair of changes.pairs) {
    const differing = pair.sameParameters ? [] : differingParameters(pair);
    const request = pair.sameParameters ? "same request" : `request differs: ${differing.join(", ") || "parameters"}`;
    if (pair.outcome === "failed") {
      const failure =
        pair.before.error !== null
          ? `before failed: ${pair.before.error.type}`
          : `after failed: ${pair.after.error?.type ?? "no content"}`;
      lines.push(`#${pair.index}  failed · ${failure} · ${request}`);
    } else if (pair.outcome === "same") {
      lines.push(`#${pair.index}  same · ${request}`);
    } else {
      lines.push(`#${pair.index}  changed · similarity ${pair.similarity.toFixed(2)} · ${request}`);
      const diff = renderDiffText(pair.before.content, pair.after.content, { color });
      lines.push(
        diff
          .split("\n")
          .map((line) => `    ${line}`)
          .join("\n"),
      );
    }
  }
  if (changes.unpaired.length > 0)
    lines.push(`Runs in only one file: ${changes.unpaired.map((index) => `#${index}`).join(", ")}.`);
  const summary = [`${changes.same} same`, `${changes.changed} changed`];
  if (changes.failed > 0) summary.push(`${changes.failed} failed`);
  if (changes.parameterChanges > 0) summary.push(`${changes.parameterChanges} with a different request`);
  if (changes.unpaired.length > 0) summary.push(`${changes.unpaired.length} unpaired`);
  lines.push(
    "",
    `${changes.changed === 0 && changes.failed === 0 && changes.unpaired.length === 0 ? "No changes" : "Changes"}: ${summary.join(" · ")}.`,
  );
  return lines.join("\n");
}

/**
 * Runs `seedlab compare`.
 * @param args The arguments after `compare`.
 * @param context Streams, environment, working folder, abort signal.
 * @returns 0 when nothing changed, 1 when texts changed or runs failed or are missing (see `EXIT_CODES`).
 * @throws {UsageError} For bad usage; `SavedRunsError` for a bad file.
 */
export async function compareCommand(args: readonly string[], context: CommandContext): Promise<number> {
  const spec = COMPARE_COMMAND;
  const parsed = parseCommandOrHelp(spec, args, context.stdout);
  if (parsed === null) return EXIT_CODES.ok;
  const { values, positionals } = parsed;
  const color = colorChoice(values, context.stdout, spec);
  const [beforeFile, afterFile] = positionals as [string, string];
  const before: SavedBatch = { file: beforeFile, runs: readSavedRuns(beforeFile, context.cwd) };
  const after: SavedBatch = { file: afterFile, runs: readSavedRuns(afterFile, context.cwd) };
  const changes = compareBatches(before.runs, after.runs);
  if (booleanFlag(values, "json")) {
    context.stdout.write(JSON.stringify(changes, null, 2) + "\n");
  } else {
    context.stdout.write(renderBatchChangesText(changes, { before, after, color }) + "\n");
  }
  return changes.changed === 0 && changes.failed === 0 && changes.unpaired.length === 0
    ? EXIT_CODES.ok
    : EXIT_CODES.failed;
}

/** Reads a saved file; a missing or unreadable file is bad usage (exit 2), named with the path as given. */
function readSavedRuns(file: string, cwd: string): ChatRun[] {
  try {
    return readRuns(path.resolve(cwd, file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new SavedFileError(
        `Cannot read ${file}: it does not exist. Save a batch with \`seedlab run --save ${file}\`.`,
      );
    if (code !== undefined) throw new SavedFileError(`Cannot read ${file}: ${(error as Error).message}.`);
    if (error instanceof SavedRunsError) throw new SavedFileError(error.message);
    throw error;
  }
}

/** A saved-runs file that cannot be opened: exit code 2. */
export class SavedFileError extends SeedlabError {
  override readonly name = "SavedFileError";

  /** @param message Which file, why, and what to do. */
  constructor(message: string) {
    super(message, { exitCode: EXIT_CODES.usage });
  }
}
