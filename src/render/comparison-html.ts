/**
 * A comparison's figures (`compareRuns`) with plain-words labels.
 */
import type { Comparison } from "../analysis/compare-runs";
import { renderVerdict } from "./verdict";
import { TABLE_STYLES, escapeHtml, decimal, percent, cell, row, table } from "./html";

/**
 * A comparison's figures with plain-words labels.
 * @param comparison The result of `compareRuns`.
 * @returns An HTML table, captioned with the verdict line.
 */
export function renderComparisonHtml(comparison: Comparison): string {
  const fingerprints =
    comparison.fingerprints.map((group) => `${group.fingerprint ?? "none"} × ${group.count}`).join(", ") || "—";
  const figures: Array<[string, string]> = [
    ["Runs (succeeded / failed)", `${comparison.total} (${comparison.succeeded} / ${comparison.failed})`],
    ["Distinct outputs", String(comparison.distinctOutputs.length)],
    [
      "Identical to the most common output",
      `${comparison.mostCommonCount}/${comparison.succeeded} (${percent(comparison.mostCommonShare)})`,
    ],
    ["Mean word similarity (1 = identical)", decimal(comparison.similarity.mean)],
    ["Lowest word similarity", decimal(comparison.similarity.minimum)],
    ["System fingerprints", fingerprints],
    [
      "Parameters",
      comparison.parametersIdentical
        ? "identical in every request"
        : `differ: ${comparison.differingParameters.join(", ")}`,
    ],
  ];
  const rows = figures.map(([name, value]) =>
    row(cell(escapeHtml(name)) + cell(escapeHtml(value), TABLE_STYLES.number)),
  );
  return table("comparison", `<tbody>${rows.join("")}</tbody>`, renderVerdict(comparison));
}
