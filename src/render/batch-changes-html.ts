/**
 * Two batches of the same requests compared run by run (`compareBatches`), and the same requests on two
 * backend configurations.
 */
import type { Batch } from "../core/types";
import { isSucceeded } from "../core/runs";
import { compareBatches, type BatchChanges } from "../analysis/compare-batches";
import { renderDiffHtml } from "./text-diff";
import { TABLE_STYLES, escapeHtml, cell, header, row, table } from "./html";

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
  {
    before = "before",
    after = "after",
    showSame = false,
  }: { before?: string; after?: string; showSame?: boolean } = {},
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
    if (pair.outcome === "failed")
      text = escapeHtml([pair.before.error?.message, pair.after.error?.message].filter(Boolean).join(" / "));
    else if (pair.outcome === "same") text = `<span style="${TABLE_STYLES.muted}">same text</span>`;
    else text = renderDiffHtml(pair.before.content, pair.after.content);
    const outcome = pair.sameParameters ? pair.outcome : `${pair.outcome} (parameters differ)`;
    return row(
      cell(String(pair.index), TABLE_STYLES.number) +
        cell(seed === undefined ? "—" : escapeHtml(String(seed)), TABLE_STYLES.number) +
        cell(escapeHtml(outcome)) +
        cell(
          `<code>${escapeHtml(pair.before.systemFingerprint ?? "none")}</code> → <code>${escapeHtml(pair.after.systemFingerprint ?? "none")}</code>`,
        ) +
        cell(text, TABLE_STYLES.text),
    );
  });
  const body =
    rows.length > 0
      ? rows.join("")
      : row(`<td colspan="5" style="${TABLE_STYLES.cell};${TABLE_STYLES.muted}">no text changed</td>`);
  return table(
    "batch-changes",
    header(["Run", "Seed", "Outcome", "System fingerprint", `Text (${after} diffed against ${before})`]) +
      `<tbody>${body}</tbody>`,
    caption,
  );
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
    const succeeded = batch.runs.filter(isSucceeded);
    const fingerprints = [...new Set(succeeded.map((run) => run.systemFingerprint ?? "none"))];
    const failed = batch.runs.length - succeeded.length;
    return row(
      cell(escapeHtml(batch.label)) +
        cell(fingerprints.map((value) => `<code>${escapeHtml(value)}</code>`).join(", ") || "—") +
        cell(String(batch.runs.length), TABLE_STYLES.number) +
        cell(String(failed), TABLE_STYLES.number),
    );
  });
  const summary = table(
    "fingerprint-change",
    header(["Configuration", "System fingerprint", "Requests", "Failed"]) + `<tbody>${rows.join("")}</tbody>`,
    "The same requests on two configurations",
  );
  return summary + renderBatchChangesHtml(compareBatches(before, after), { before: before.label, after: after.label });
}
