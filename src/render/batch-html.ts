/**
 * The guide's HTML tables, as self-contained strings (inline styles, everything escaped): one
 * response, and a batch with each response's diff against a reference run. Styles use translucent
 * backgrounds and inherited text colours so they read in light and dark Jupyter themes, and override
 * Jupyter's own table defaults (centred, right-aligned, fixed layout, black text).
 */
import type { Batch, ChatRun } from "../core/types";
import { compareRuns, type Comparison } from "../analysis/compare-runs";
import { DIFF_STYLES, escapeHtml, renderDiffHtml, type DiffGranularity } from "./diff";
import { renderVerdict } from "./verdict";

/** The inline styles of the tables, exported so a notebook can match them. */
export const TABLE_STYLES = {
  table: "border-collapse:collapse;margin:0.5em 0;table-layout:auto;color:inherit;font-size:0.9em",
  caption: "caption-side:top;text-align:left;padding:0.25em 0;font-weight:600;color:inherit",
  cell: "border:1px solid rgba(128,128,128,0.45);padding:0.35em 0.6em;text-align:left;vertical-align:top;color:inherit;background:transparent",
  text: "white-space:pre-wrap;overflow-wrap:anywhere;max-width:40em",
  number: "text-align:right;font-variant-numeric:tabular-nums",
  error: "background:rgba(248,81,73,0.15)",
  muted: "opacity:0.7;font-style:italic",
} as const;

/**
 * One table cell in the tables' style.
 * @param content Cell HTML, ALREADY escaped.
 * @param extra More inline CSS (e.g. `TABLE_STYLES.text`).
 * @returns A `<td>`.
 */
export function htmlCell(content: string, extra = ""): string {
  return `<td style="${TABLE_STYLES.cell}${extra ? ";" + extra : ""}">${content}</td>`;
}

/**
 * A table header row in the tables' style.
 * @param names Column names (plain text; escaped here).
 * @returns A `<thead>`.
 */
export function htmlHeader(names: string[]): string {
  return `<thead><tr style="background:transparent">${names.map((name) => `<th style="${TABLE_STYLES.cell}">${escapeHtml(name)}</th>`).join("")}</tr></thead>`;
}

const cell = htmlCell;
const header = htmlHeader;
const numberCell = (value: number | null): string => cell(value === null ? "—" : String(value), TABLE_STYLES.number);
const fingerprintCell = (run: ChatRun): string =>
  run.error !== null ? cell("—") : run.systemFingerprint === null ? cell("none", TABLE_STYLES.muted) : cell(`<code>${escapeHtml(run.systemFingerprint)}</code>`);
const errorText = (run: ChatRun): string => {
  const error = run.error;
  if (error === null) return "";
  return `<strong>${escapeHtml(error.type)}${error.status === null ? "" : ` (HTTP ${error.status})`}</strong>: ${escapeHtml(error.message)}`;
};

/**
 * The guide's table for one response: response, system fingerprint, prompt tokens, completion tokens
 * (a failed run shows its error instead).
 * @param run One run.
 * @returns An HTML `<table class="seedlab-table seedlab-run">`.
 */
export function renderRunHtml(run: ChatRun): string {
  const response = run.error === null ? cell(escapeHtml(run.content ?? ""), TABLE_STYLES.text) : cell(errorText(run), `${TABLE_STYLES.text};${TABLE_STYLES.error}`);
  return (
    `<table class="seedlab-table seedlab-run" style="${TABLE_STYLES.table}">` +
    header(["Response", "System fingerprint", "Prompt tokens", "Completion tokens"]) +
    `<tbody><tr style="background:transparent">${response}${fingerprintCell(run)}${numberCell(run.promptTokens)}${numberCell(run.completionTokens)}</tr></tbody></table>`
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
export function renderBatchHtml(batch: Batch | readonly ChatRun[], { referenceIndex, granularity = "word", caption, comparison }: BatchHtmlOptions = {}): string {
  const runs = [...(isBatch(batch) ? batch.runs : batch)].sort((a, b) => a.index - b.index);
  const reference = findReference(runs, referenceIndex);
  const verdict = renderVerdict(comparison ?? compareRuns(runs));
  const captionText = caption ?? (isBatch(batch) ? `${batch.label} — ${verdict}` : verdict);
  const rows = runs.map((run) => {
    let response: string;
    let difference: string;
    if (run.error !== null) {
      response = cell(errorText(run), `${TABLE_STYLES.text};${TABLE_STYLES.error}`);
      difference = cell("—");
    } else {
      const content = run.content ?? "";
      response = cell(escapeHtml(content), TABLE_STYLES.text);
      if (reference === null || run.index === reference.index) difference = cell("reference", TABLE_STYLES.muted);
      else if (content === reference.content) difference = cell("identical", TABLE_STYLES.muted);
      else difference = cell(`<span class="seedlab-diff">${renderDiffHtml(reference.content ?? "", content, { granularity })}</span>`, TABLE_STYLES.text);
    }
    return `<tr style="background:transparent">${cell(String(run.index), TABLE_STYLES.number)}${response}${fingerprintCell(run)}${numberCell(run.promptTokens)}${numberCell(run.completionTokens)}${difference}</tr>`;
  });
  return (
    `<table class="seedlab-table seedlab-batch" style="${TABLE_STYLES.table}">` +
    (captionText === "" ? "" : `<caption style="${TABLE_STYLES.caption}">${escapeHtml(captionText)}</caption>`) +
    header(["Run", "Response", "System fingerprint", "Prompt tokens", "Completion tokens", reference === null ? "Difference" : `Difference from run ${reference.index}`]) +
    `<tbody>${rows.join("")}</tbody></table>`
  );
}

/**
 * A legend for the diff colours, to show once above or below diff tables.
 * @param options `reference`: what the texts were compared with (default "the reference run").
 * @returns An HTML fragment.
 */
export function renderDiffLegendHtml({ reference = "the reference run" }: { reference?: string } = {}): string {
  return `<span class="seedlab-legend"><ins style="${DIFF_STYLES.added}">added</ins> / <del style="${DIFF_STYLES.removed}">missing</del> compared with ${escapeHtml(reference)}</span>`;
}

/**
 * The run others are diffed against.
 * @param runs The runs.
 * @param referenceIndex The `run.index` asked for, if any.
 * @returns That run if it succeeded, else the first successful run; null when none succeeded.
 */
export function findReference(runs: readonly ChatRun[], referenceIndex?: number): ChatRun | null {
  const succeeded = runs.filter((run) => run.error === null && run.content !== null);
  return succeeded.find((run) => run.index === referenceIndex) ?? succeeded[0] ?? null;
}

function isBatch(value: Batch | readonly ChatRun[]): value is Batch {
  return !Array.isArray(value);
}
