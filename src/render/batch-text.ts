/**
 * Terminal versions of the tables: plain text by default, ANSI colours only when asked
 * (see `shouldUseColor`). The reference run is shown whole; the others as "identical" or as a diff.
 */
import type { Batch, ChatRun } from "../core/types";
import { compareRuns, type Comparison } from "../analysis/compare-runs";
import { renderDiffText, type DiffGranularity } from "./text-diff";
import { findReference, isBatch, isSucceeded, runsOf } from "../core/runs";
import { renderVerdict } from "./verdict";

/** Options of the text renderers. */
export interface TextRenderOptions {
  /** ANSI colours (default false: `[-removed-]{+added+}` markers). */
  color?: boolean;
  /** `word` (default) or `character`. */
  granularity?: DiffGranularity;
}

const indent = (text: string, prefix = "    "): string =>
  text
    .split("\n")
    .map((line) => prefix + line)
    .join("\n");
const number = (value: number | null): string => (value === null ? "—" : String(value));
const fingerprint = (run: ChatRun): string => (isSucceeded(run) ? (run.systemFingerprint ?? "none") : "—");
const metaLine = (run: ChatRun): string =>
  `fingerprint ${fingerprint(run)} · prompt tokens ${number(run.promptTokens)} · completion tokens ${number(run.completionTokens)}`;
const errorLine = (run: ChatRun): string => {
  const error = run.error;
  if (error === null) return "FAILED: the response had no content";
  return `FAILED ${error.type}${error.status === null ? "" : ` (HTTP ${error.status})`}: ${error.message}`;
};

/**
 * One response for a terminal: a metadata line (fingerprint, prompt and completion tokens), then the
 * response (or the error) indented.
 * @param run One run.
 * @param options `color` (unused for one run, accepted for symmetry).
 * @returns Text without a trailing newline.
 */
export function renderRunText(run: ChatRun, _options: TextRenderOptions = {}): string {
  return `${metaLine(run)}\n${indent(isSucceeded(run) ? run.content : errorLine(run))}`;
}

/**
 * A batch for a terminal: the label and verdict, then per run a line `#i  fingerprint  prompt/completion
 * tokens` and the response: whole for the reference run, "identical to run #r" or a word diff for the
 * others, the error for failed runs.
 * @param batch A batch, or its runs.
 * @param options `color`, `granularity`, plus `referenceIndex` and a precomputed `comparison`.
 * @returns Text without a trailing newline.
 */
export function renderBatchText(
  batch: Batch | readonly ChatRun[],
  {
    color = false,
    granularity = "word",
    referenceIndex,
    comparison,
  }: TextRenderOptions & { referenceIndex?: number; comparison?: Comparison } = {},
): string {
  const runs = runsOf(batch);
  const reference = findReference(runs, referenceIndex);
  const verdict = renderVerdict(comparison ?? compareRuns(runs));
  const lines = [isBatch(batch) ? `${batch.label} — ${verdict}` : verdict];
  for (const run of runs) {
    lines.push(`#${run.index}  ${metaLine(run)}`);
    if (!isSucceeded(run)) lines.push(indent(errorLine(run)));
    else if (reference === null || run.index === reference.index) lines.push(indent(run.content));
    else if (run.content === reference.content) lines.push(indent(`(identical to run #${reference.index})`));
    else lines.push(indent(renderDiffText(reference.content, run.content, { color, granularity })));
  }
  return lines.join("\n");
}
