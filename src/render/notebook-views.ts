/**
 * The notebooks' other views, as self-contained HTML strings: the settings, a batch's live progress,
 * a comparison's figures, the verification checks, one-parameter variants, and a fingerprint change.
 */
import type { Batch, BatchProgress } from "../core/types";
import { compareBatches, type BatchChanges } from "../analysis/compare-batches";
import type { Comparison } from "../analysis/compare-runs";
import type { Check } from "../analysis/verify";
import type { VariantsResult } from "../analysis/variants";
import { escapeHtml, renderDiffHtml } from "./diff";
import { TABLE_STYLES, htmlCell as cell, htmlHeader as header } from "./batch-html";
import { renderVerdict } from "./verdict";

const table = (kind: string, body: string, caption = ""): string =>
  `<table class="seedlab-table seedlab-${kind}" style="${TABLE_STYLES.table}">` +
  (caption === "" ? "" : `<caption style="${TABLE_STYLES.caption}">${escapeHtml(caption)}</caption>`) +
  body +
  "</table>";
const row = (cells: string): string => `<tr style="background:transparent">${cells}</tr>`;
const percent = (share: number): string => `${Math.round(share * 100)}%`;
const decimal = (value: number | null): string => (value === null ? "—" : value.toFixed(2));

/**
 * The settings in use and the backend they opened, as a two-column table.
 * @param described The record from `describeSettings` (never holds the key, only "set"/"not set").
 * @param backend The open backend's kind, model and base URL, when there is one.
 * @returns An HTML table.
 */
export function renderSettingsHtml(described: Record<string, string>, backend?: { kind: string; model: string; baseURL: string }): string {
  const rows = Object.entries(described).map(([name, value]) => row(cell(`<code>${escapeHtml(name)}</code>`) + cell(escapeHtml(value))));
  const caption = backend === undefined ? "Settings" : `Backend: ${backend.kind} · model ${backend.model} · ${backend.baseURL}`;
  return table("settings", header(["Setting", "Value"]) + `<tbody>${rows.join("")}</tbody>`, caption);
}

/**
 * A one-line progress bar for a running batch (for a display updated in place).
 * @param progress The latest progress report.
 * @returns An HTML line, e.g. "■■■□□ 3/5 finished · 1 failed".
 */
export function renderProgressHtml(progress: BatchProgress): string {
  const width = Math.min(progress.total, 40);
  const filled = progress.total === 0 ? width : Math.round((progress.finished / progress.total) * width);
  const bar = "■".repeat(filled) + "□".repeat(width - filled);
  const failed = progress.failed > 0 ? ` · ${progress.failed} failed` : "";
  const done = progress.finished === progress.total ? " · done" : "";
  return `<div class="seedlab-progress" style="font-family:monospace;color:inherit">${bar} ${progress.finished}/${progress.total} finished${failed}${done}</div>`;
}

/**
 * A comparison's figures with plain-words labels.
 * @param comparison The result of `compareRuns`.
 * @returns An HTML table, captioned with the verdict line.
 */
export function renderComparisonHtml(comparison: Comparison): string {
  const fingerprints = comparison.fingerprints.map((group) => `${group.fingerprint ?? "none"} × ${group.count}`).join(", ") || "—";
  const figures: Array<[string, string]> = [
    ["Runs (succeeded / failed)", `${comparison.total} (${comparison.succeeded} / ${comparison.failed})`],
    ["Distinct outputs", String(comparison.distinctOutputs.length)],
    ["Identical to the most common output", `${comparison.identicalCount}/${comparison.succeeded} (${percent(comparison.identicalShare)})`],
    ["Mean word similarity (1 = identical)", decimal(comparison.similarity.mean)],
    ["Lowest word similarity", decimal(comparison.similarity.minimum)],
    ["System fingerprints", fingerprints],
    ["Parameters", comparison.parametersIdentical ? "identical in every request" : `differ: ${comparison.differingParameters.join(", ")}`],
  ];
  const rows = figures.map(([name, value]) => row(cell(escapeHtml(name)) + cell(escapeHtml(value), TABLE_STYLES.number)));
  return table("comparison", `<tbody>${rows.join("")}</tbody>`, renderVerdict(comparison));
}

const STATUS_MARK: Record<Check["status"], string> = {
  pass: `<span style="color:#2da44e;font-weight:700">✔ pass</span>`,
  fail: `<span style="color:#e5534b;font-weight:700">✘ fail</span>`,
  unknown: `<span style="opacity:0.75;font-weight:700">? unknown</span>`,
};

/**
 * The verification checks as pass / fail lines with what each finding means.
 * @param checks The result of `verifyReproducibility`.
 * @returns An HTML table with one row per check.
 */
export function renderChecksHtml(checks: readonly Check[]): string {
  const rows = checks.map((check) => row(cell(STATUS_MARK[check.status]) + cell(escapeHtml(check.name)) + cell(escapeHtml(check.summary), TABLE_STYLES.text) + cell(escapeHtml(check.meaning), TABLE_STYLES.text)));
  const passed = checks.filter((check) => check.status === "pass").length;
  return table("checks", header(["", "Check", "Found", "What it means"]) + `<tbody>${rows.join("")}</tbody>`, `Verification: ${passed}/${checks.length} checks pass`);
}

/**
 * The baseline and each one-change variant, with its text diffed against the baseline's.
 * @param result The result of `runVariants`.
 * @returns An HTML table.
 */
export function renderVariantsHtml(result: VariantsResult): string {
  const baselineText = result.baseline.content;
  const baselineRow = row(
    cell("baseline") + cell("—", TABLE_STYLES.muted) + cell(baselineText === null ? escapeHtml(result.baseline.error?.message ?? "") : escapeHtml(baselineText), TABLE_STYLES.text),
  );
  const rows = result.outcomes.map((outcome) => {
    let verdict: string;
    let shown: string;
    if (outcome.run.error !== null || baselineText === null) {
      verdict = "failed";
      shown = escapeHtml(outcome.run.error?.message ?? "the baseline failed");
    } else if (outcome.identicalToBaseline) {
      verdict = "identical";
      shown = `<span style="${TABLE_STYLES.muted}">same text as the baseline</span>`;
    } else {
      verdict = `differs (word similarity ${decimal(outcome.similarityToBaseline)})`;
      shown = renderDiffHtml(baselineText, outcome.run.content ?? "");
    }
    return row(cell(escapeHtml(outcome.label)) + cell(escapeHtml(verdict)) + cell(shown, TABLE_STYLES.text));
  });
  const changed = result.outcomes.filter((outcome) => !outcome.identicalToBaseline).length;
  const caption = `${changed} of ${result.outcomes.length} variants changed the output`;
  return table("variants", header(["Request", "Compared with the baseline", "Text (diff against the baseline)"]) + `<tbody>${baselineRow}${rows.join("")}</tbody>`, caption);
}

/**
 * Two batches of the same requests compared run by run (see `compareBatches`): which texts changed,
 * with each changed text diffed against its earlier version.
 * @param changes The result of `compareBatches(before, after)`.
 * @param options.before A name for the earlier batch, e.g. "batch size 512". Default "before".
 * @param options.after A name for the later batch. Default "after".
 * @param options.showSame Also list pairs whose text did not change (default false: only a count).
 * @returns An HTML table captioned with the fingerprints and the counts.
 */
export function renderBatchChangesHtml(
  changes: BatchChanges,
  { before = "before", after = "after", showSame = false }: { before?: string; after?: string; showSame?: boolean } = {},
): string {
  const fingerprintLine = changes.fingerprintChanged
    ? `fingerprint ${changes.fingerprintsBefore.join(", ") || "—"} → ${changes.fingerprintsAfter.join(", ") || "—"}`
    : `same fingerprint (${changes.fingerprintsBefore.join(", ") || "—"})`;
  const counts = [`${changes.changed} of ${changes.pairs.length} texts changed`];
  if (changes.failed > 0) counts.push(`${changes.failed} failed`);
  if (changes.parameterChanges > 0) counts.push(`${changes.parameterChanges} with different parameters`);
  if (changes.unpaired.length > 0) counts.push(`${changes.unpaired.length} unpaired`);
  const caption = `${before} → ${after}: ${fingerprintLine}; ${counts.join(", ")}`;
  const shown = changes.pairs.filter((pair) => showSame || pair.outcome !== "same");
  const rows = shown.map((pair) => {
    const seed = pair.before.parameters.seed;
    let text: string;
    if (pair.outcome === "failed") text = escapeHtml([pair.before.error?.message, pair.after.error?.message].filter(Boolean).join(" / "));
    else if (pair.outcome === "same") text = `<span style="${TABLE_STYLES.muted}">same text</span>`;
    else text = renderDiffHtml(pair.before.content ?? "", pair.after.content ?? "");
    const outcome = pair.sameParameters ? pair.outcome : `${pair.outcome} (parameters differ)`;
    return row(
      cell(String(pair.index), TABLE_STYLES.number) +
        cell(seed === undefined ? "—" : escapeHtml(String(seed)), TABLE_STYLES.number) +
        cell(escapeHtml(outcome)) +
        cell(`<code>${escapeHtml(pair.before.systemFingerprint ?? "none")}</code> → <code>${escapeHtml(pair.after.systemFingerprint ?? "none")}</code>`) +
        cell(text, TABLE_STYLES.text),
    );
  });
  const body = rows.length > 0 ? rows.join("") : row(`<td colspan="5" style="${TABLE_STYLES.cell};${TABLE_STYLES.muted}">no text changed</td>`);
  return table("batch-changes", header(["Run", "Seed", "Outcome", "System fingerprint", `Text (${after} diffed against ${before})`]) + `<tbody>${body}</tbody>`, caption);
}

/**
 * The same requests sent to two backend configurations: one line per configuration (its
 * fingerprint and whether it repeated itself), then the run-by-run changes between them.
 * @param before The batch from the first configuration (its `label` names it, e.g. "batch size 512").
 * @param after The same requests on the second configuration.
 * @returns An HTML fragment: a summary table and the changes table (see `renderBatchChangesHtml`).
 */
export function renderFingerprintChangeHtml(before: Batch, after: Batch): string {
  const rows = [before, after].map((batch) => {
    const fingerprints = [...new Set(batch.runs.filter((run) => run.error === null).map((run) => run.systemFingerprint ?? "none"))];
    const failed = batch.runs.filter((run) => run.error !== null).length;
    return row(
      cell(escapeHtml(batch.label)) +
        cell(fingerprints.map((value) => `<code>${escapeHtml(value)}</code>`).join(", ") || "—") +
        cell(String(batch.runs.length), TABLE_STYLES.number) +
        cell(String(failed), TABLE_STYLES.number),
    );
  });
  const summary = table("fingerprint-change", header(["Configuration", "System fingerprint", "Requests", "Failed"]) + `<tbody>${rows.join("")}</tbody>`, "The same requests on two configurations");
  return summary + renderBatchChangesHtml(compareBatches(before, after), { before: before.label, after: after.label });
}
