/**
 * A seed × temperature sweep (`summarizeSweep`) as a grid of lettered texts, and the start of each text.
 */
import type { Sweep } from "../analysis/sweep";
import { TABLE_STYLES, escapeHtml, decimal, cell, header, row, table } from "./html";

const OUTPUT_HUES = [210, 30, 130, 280, 0, 180, 60, 330, 100, 250];

const outputName = (number: number): string => {
  let name = "";
  let rest = number;
  do {
    name = String.fromCharCode(65 + (rest % 26)) + name;
    rest = Math.floor(rest / 26) - 1;
  } while (rest >= 0);
  return name;
};

/**
 * A seed × temperature sweep as a grid: one row per temperature, one column per seed, each cell the
 * name of its text (same letter = same text), then whether the row collapsed to one text or fanned out;
 * below, the start of each distinct text.
 * @param sweep The result of `summarizeSweep`.
 * @param options `previewCharacters`: how much of each text to show in the legend (default 60).
 * @returns An HTML `<div class="seedlab-sweep">` holding the grid and the legend.
 */
export function renderSweepHtml(sweep: Sweep, { previewCharacters = 60 }: { previewCharacters?: number } = {}): string {
  const rows = sweep.rows.map((sweepRow) => {
    const bySeed = new Map(sweepRow.cells.map((sweepCell) => [sweepCell.seed, sweepCell] as const));
    const cells = sweep.seeds.map((seed) => {
      const sweepCell = bySeed.get(seed);
      if (sweepCell === undefined) return cell("", TABLE_STYLES.muted);
      if (sweepCell.outputNumber === null) return cell("failed", TABLE_STYLES.error);
      const hue = OUTPUT_HUES[sweepCell.outputNumber % OUTPUT_HUES.length] as number;
      return cell(
        `<strong>${outputName(sweepCell.outputNumber)}</strong>`,
        `text-align:center;background:hsla(${hue},70%,50%,0.28)`,
      );
    });
    const seeds = sweepRow.cells.length - sweepRow.failed;
    const verdict = sweepRow.collapsed
      ? "collapses: one text for every seed"
      : `fans out: ${sweepRow.distinctOutputs} texts from ${seeds} ${seeds === 1 ? "seed" : "seeds"}${sweepRow.failed > 0 ? `, ${sweepRow.failed} failed` : ""}`;
    return row(
      cell(String(sweepRow.temperature), TABLE_STYLES.number) +
        cells.join("") +
        cell(String(sweepRow.distinctOutputs), TABLE_STYLES.number) +
        cell(decimal(sweepRow.meanSimilarity), TABLE_STYLES.number) +
        cell(escapeHtml(verdict)),
    );
  });
  const grid = table(
    "sweep-grid",
    header([
      "Temperature",
      ...sweep.seeds.map((seed) => `seed ${seed}`),
      "Distinct texts",
      "Mean similarity",
      "Outcome",
    ]) + `<tbody>${rows.join("")}</tbody>`,
    `Seed × temperature: same letter = same text (${sweep.outputs.length} distinct texts in all)`,
  );
  const legendRows = sweep.outputs.map((output, number) => {
    const hue = OUTPUT_HUES[number % OUTPUT_HUES.length] as number;
    const preview = output.length > previewCharacters ? `${output.slice(0, previewCharacters)}…` : output;
    return row(
      cell(`<strong>${outputName(number)}</strong>`, `text-align:center;background:hsla(${hue},70%,50%,0.28)`) +
        cell(escapeHtml(preview), TABLE_STYLES.text),
    );
  });
  const legend = table("sweep-texts", header(["Text", "Beginning"]) + `<tbody>${legendRows.join("")}</tbody>`, "");
  return `<div class="seedlab-sweep" style="color:inherit">${grid}${legend}</div>`;
}
