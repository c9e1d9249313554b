/**
 * The reproducibility report (`buildReport`) as a table, one row per prompt, captioned with TARr@N.
 */
import type { ReproducibilityReport } from "../analysis/report";
import { TABLE_STYLES, escapeHtml, decimal, percent, cell, header, row, table } from "./html";

const yesNo = (value: boolean): string => (value ? "yes" : "no");

/**
 * The reproducibility report as a table, one row per prompt, captioned with TARr@N.
 * @param report The result of `buildReport`.
 * @param options `caption`: replaces the default caption (TARr@N, failed runs, fingerprint finding); "" for none.
 * @returns An HTML `<table class="seedlab-table seedlab-report">`.
 */
export function renderReportHtml(report: ReproducibilityReport, { caption }: { caption?: string } = {}): string {
  const n = report.runsPerPrompt === null ? "N" : String(report.runsPerPrompt);
  const rows = report.prompts.map((prompt) => {
    const counts = prompt.distinctOutputs.map((output) => `${output.count}×`).join(" + ") || "—";
    const fingerprints =
      prompt.fingerprints
        .map(
          (group) =>
            `<code>${escapeHtml(group.fingerprint ?? "none")}</code> × ${group.count} → ${group.distinctOutputs} ${group.distinctOutputs === 1 ? "text" : "texts"}`,
        )
        .join("<br>") || "—";
    const parameters = prompt.parametersIdentical ? "identical" : `differ: ${prompt.differingParameters.join(", ")}`;
    return row(
      cell(escapeHtml(prompt.label)) +
        cell(`${prompt.succeeded}${prompt.failed > 0 ? ` (+${prompt.failed} failed)` : ""}`, TABLE_STYLES.number) +
        cell(prompt.allIdentical ? "<strong>yes</strong>" : "no") +
        cell(`${prompt.distinctOutputs.length} <span style="${TABLE_STYLES.muted}">(${escapeHtml(counts)})</span>`) +
        cell(prompt.succeeded === 0 ? "—" : percent(prompt.mostCommonShare), TABLE_STYLES.number) +
        cell(decimal(prompt.similarity.mean), TABLE_STYLES.number) +
        cell(decimal(prompt.similarity.minimum), TABLE_STYLES.number) +
        cell(fingerprints) +
        cell(yesNo(prompt.differsWithinFingerprint)) +
        cell(escapeHtml(parameters), prompt.parametersIdentical ? "" : TABLE_STYLES.error),
    );
  });
  const failed = report.failedRuns > 0 ? ` · ${report.failedRuns} of ${report.totalRuns} runs failed` : "";
  const within = report.differsWithinFingerprint ? " · texts differ within one fingerprint" : "";
  const defaultCaption = `TARr@${n} = ${report.identicalPrompts}/${report.prompts.length} prompts with all ${n} outputs identical (${percent(report.tarr)})${failed}${within}`;
  return table(
    "report",
    header([
      "Prompt",
      "Runs",
      `All ${n} identical`,
      "Distinct outputs (runs each)",
      "Most common output",
      "Mean similarity",
      "Lowest similarity",
      "Fingerprints → texts",
      "Texts differ within a fingerprint",
      "Parameters",
    ]) + `<tbody>${rows.join("")}</tbody>`,
    caption ?? defaultCaption,
  );
}
