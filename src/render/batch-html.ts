/**
 * The guide's HTML tables, as self-contained strings (inline styles, everything escaped): one
 * response, and a batch with each response's diff against a reference run. Styles use translucent
 * backgrounds and inherited text colours so they read in light and dark Jupyter themes, and override
 * Jupyter's own table defaults (centred, right-aligned, fixed layout, black text).
 */
import type { Batch, ChatRun } from "../core/types";
import { compareRuns, type Comparison } from "../analysis/compare-runs";
import { findReference, isBatch, isSucceeded, runsOf } from "../core/runs";
import { renderDiffHtml, type DiffGranularity } from "./text-diff";
import { DIFF_STYLES, TABLE_STYLES, escapeHtml, cell, header, row, table } from "./html";
import { renderVerdict } from "./verdict";

const numberCell = (value: number | null): string => cell(value === null ? "—" : String(value), TABLE_STYLES.number);
const fingerprintCell = (run: ChatRun): string => {
  if (!isSucceeded(run)) return cell("—");
  if (run.systemFingerprint === null) return cell("none", TABLE_STYLES.muted);
  return cell(`<code>${escapeHtml(run.systemFingerprint)}</code>`);
};
/** The response, or for a failed run its error. */
const responseCell = (run: ChatRun): string => {
  if (isSucceeded(run)) return cell(escapeHtml(run.content), TABLE_STYLES.text);
  const error = run.error;
  const text =
    error === null
      ? "<strong>No content</strong>"
      : `<strong>${escapeHtml(error.type)}${error.status === null ? "" : ` (HTTP ${error.status})`}</strong>: ${escapeHtml(error.message)}`;
  return cell(text, `${TABLE_STYLES.text};${TABLE_STYLES.error}`);
};

/**
 * The guide's table for one response: response, system fingerprint, prompt tokens, completion tokens
 * (a failed run shows its error instead).
 * @param run One run.
 * @returns An HTML `<table class="seedlab-table seedlab-run">`.
 */
export function renderRunHtml(run: ChatRun): string {
  const cells =
    responseCell(run) + fingerprintCell(run) + numberCell(run.promptTokens) + numberCell(run.completionTokens);
  return table(
    "run",
    header(["Response", "System fingerprint", "Prompt tokens", "Completion tokens"]) + `<tbody>${row(cells)}</tbody>`,
  );
}

/** Options of {@link renderBatchHtml}. */
export interface BatchHtmlOptions {
  /** `run.index` of the run others are diffed against; default the first successful run. */
  referenceIndex?: number;
  /** `word` (default) or `character`. */
  granularity?: DiffGranularity;
  /** A caption; default the batch's label and verdict. Empty string: no caption. */
  caption?: string;
  /** A comparison already computed (default: computed here). */
  comparison?: Comparison;
}

/**
 * The guide's batch table: run #, response, system fingerprint, prompt tokens, completion tokens, and
 * each response's word diff against the reference run (added words in green `<ins>`, missing ones in
 * red `<del>`); failed runs show their error. The caption holds the label and the verdict line.
 * @param batch A batch, or its runs.
 * @param options `referenceIndex`, `granularity`, `caption`, `comparison`.
 * @returns An HTML `<table class="seedlab-table seedlab-batch">`.
 */
export function renderBatchHtml(
  batch: Batch | readonly ChatRun[],
  { referenceIndex, granularity = "word", caption, comparison }: BatchHtmlOptions = {},
): string {
  const runs = runsOf(batch);
  const reference = findReference(runs, referenceIndex);
  const verdict = renderVerdict(comparison ?? compareRuns(runs));
  const captionText = caption ?? (isBatch(batch) ? `${batch.label} — ${verdict}` : verdict);
  const difference = (run: ChatRun): string => {
    if (!isSucceeded(run)) return cell("—");
    if (reference === null || run.index === reference.index) return cell("reference", TABLE_STYLES.muted);
    if (run.content === reference.content) return cell("identical", TABLE_STYLES.muted);
    const diff = renderDiffHtml(reference.content, run.content, { granularity });
    return cell(`<span class="seedlab-diff">${diff}</span>`, TABLE_STYLES.text);
  };
  const rows = runs.map((run) =>
    row(
      cell(String(run.index), TABLE_STYLES.number) +
        responseCell(run) +
        fingerprintCell(run) +
        numberCell(run.promptTokens) +
        numberCell(run.completionTokens) +
        difference(run),
    ),
  );
  const differenceHeader = reference === null ? "Difference" : `Difference from run ${reference.index}`;
  const headers = ["Run", "Response", "System fingerprint", "Prompt tokens", "Completion tokens", differenceHeader];
  return table("batch", header(headers) + `<tbody>${rows.join("")}</tbody>`, captionText);
}

/**
 * A legend for the diff colours, to show once above or below diff tables.
 * @param options `reference`: what the texts were compared with (default "the reference run").
 * @returns An HTML fragment.
 */
export function renderDiffLegendHtml({ reference = "the reference run" }: { reference?: string } = {}): string {
  return `<span class="seedlab-legend"><ins style="${DIFF_STYLES.added}">added</ins> / <del style="${DIFF_STYLES.removed}">missing</del> compared with ${escapeHtml(reference)}</span>`;
}
