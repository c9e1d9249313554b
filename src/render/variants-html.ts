/**
 * The baseline and each one-change variant (`runVariants`), each text diffed against the baseline's.
 */
import { isSucceeded } from "../core/runs";
import type { VariantsResult } from "../analysis/variants";
import { renderDiffHtml } from "./text-diff";
import { TABLE_STYLES, escapeHtml, decimal, cell, header, row, table } from "./html";

/**
 * The baseline and each one-change variant, with its text diffed against the baseline's.
 * @param result The result of `runVariants`.
 * @returns An HTML table.
 */
export function renderVariantsHtml(result: VariantsResult): string {
  const baseline = result.baseline;
  const baselineText = isSucceeded(baseline) ? baseline.content : (baseline.error?.message ?? "");
  const baselineRow = row(
    cell("baseline") + cell("—", TABLE_STYLES.muted) + cell(escapeHtml(baselineText), TABLE_STYLES.text),
  );
  const rows = result.outcomes.map((outcome) => {
    const run = outcome.run;
    let verdict: string;
    let shown: string;
    if (!isSucceeded(run) || !isSucceeded(baseline)) {
      verdict = "failed";
      shown = escapeHtml(run.error?.message ?? "the baseline failed");
    } else if (outcome.identicalToBaseline) {
      verdict = "identical";
      shown = `<span style="${TABLE_STYLES.muted}">same text as the baseline</span>`;
    } else {
      verdict = `differs (word similarity ${decimal(outcome.similarityToBaseline)})`;
      shown = renderDiffHtml(baseline.content, run.content);
    }
    return row(cell(escapeHtml(outcome.label)) + cell(escapeHtml(verdict)) + cell(shown, TABLE_STYLES.text));
  });
  const changed = result.outcomes.filter((outcome) => !outcome.identicalToBaseline).length;
  const caption = `${changed} of ${result.outcomes.length} requests differ from the baseline`;
  const headers = header(["Request", "Compared with the baseline", "Text (diff against the baseline)"]);
  return table("variants", headers + `<tbody>${baselineRow}${rows.join("")}</tbody>`, caption);
}
