/**
 * A batch's pairwise word similarity as an SVG heatmap.
 */
import type { Comparison } from "../analysis/compare-runs";
import { escapeHtml } from "./html";

/**
 * A batch's pairwise word similarity as a heatmap: one row and one column per successful run,
 * stronger blue = more similar (1 = identical words), the value written in each cell.
 * @param comparison The result of `compareRuns` (its `similarity.matrix`).
 * @param options `labels`: row labels by `run.index` (default "run i"; escaped here); `title`: the heading.
 * @returns An inline `<svg class="seedlab-heatmap">`.
 */
export function renderHeatmapSvg(
  comparison: Comparison,
  {
    labels = {},
    title = "Word similarity between runs (1 = identical)",
  }: { labels?: Record<number, string>; title?: string } = {},
): string {
  const indexes = comparison.similarity.runIndexes;
  const count = indexes.length;
  const size = count <= 8 ? 34 : count <= 16 ? 26 : 18;
  const labelOf = (index: number): string => {
    const label = labels[index] ?? `run ${index}`;
    return label.length > 28 ? `${label.slice(0, 27)}…` : label;
  };
  const labelWidth = Math.min(200, 16 + Math.max(30, ...indexes.map((index) => labelOf(index).length * 6.5)));
  const top = 40;
  const gridWidth = count * size;
  // Wide enough for the grid and for the legend line below it.
  const width = Math.max(labelWidth + gridWidth + 10, 5 * 52 + 220);
  const legendY = top + gridWidth + 14;
  const height = legendY + 30;
  const parts: string[] = [];
  parts.push(`<text x="0" y="14" font-size="13" font-weight="600" fill="currentColor">${escapeHtml(title)}</text>`);
  indexes.forEach((runIndex, column) => {
    parts.push(
      `<text x="${labelWidth + column * size + size / 2}" y="${top - 6}" font-size="10" fill="currentColor" text-anchor="middle">${runIndex}</text>`,
    );
  });
  comparison.similarity.matrix.forEach((values, rowPosition) => {
    const rowIndex = indexes[rowPosition] as number;
    const y = top + rowPosition * size;
    parts.push(
      `<text x="${labelWidth - 6}" y="${y + size / 2 + 4}" font-size="11" fill="currentColor" text-anchor="end">${escapeHtml(labelOf(rowIndex))}</text>`,
    );
    values.forEach((similarity, column) => {
      const x = labelWidth + column * size;
      const columnIndex = indexes[column] as number;
      parts.push(
        `<rect x="${x}" y="${y}" width="${size - 1}" height="${size - 1}" fill="rgb(56,139,253)" fill-opacity="${(0.05 + 0.6 * similarity).toFixed(3)}" stroke="rgba(128,128,128,0.35)">` +
          `<title>${escapeHtml(`${labelOf(rowIndex)} vs ${labelOf(columnIndex)}: similarity ${similarity.toFixed(3)}`)}</title></rect>`,
      );
      if (size >= 26) {
        parts.push(
          `<text x="${x + size / 2}" y="${y + size / 2 + 4}" font-size="${size >= 34 ? 10 : 8}" fill="currentColor" text-anchor="middle" pointer-events="none">${similarity === 1 ? "1" : similarity.toFixed(2)}</text>`,
        );
      }
    });
  });
  if (count === 0)
    parts.push(
      `<text x="0" y="${top + 14}" font-size="12" fill="currentColor" fill-opacity="0.75">no successful run</text>`,
    );
  // Legend: five swatches from 0 to 1.
  [0, 0.25, 0.5, 0.75, 1].forEach((value, position) => {
    const x = position * 52;
    parts.push(
      `<rect x="${x}" y="${legendY}" width="14" height="14" fill="rgb(56,139,253)" fill-opacity="${(0.05 + 0.6 * value).toFixed(3)}" stroke="rgba(128,128,128,0.35)"/>`,
    );
    parts.push(`<text x="${x + 18}" y="${legendY + 11}" font-size="10" fill="currentColor">${value}</text>`);
  });
  parts.push(
    `<text x="${5 * 52}" y="${legendY + 11}" font-size="10" fill="currentColor" fill-opacity="0.75">0 = no words in common, 1 = identical</text>`,
  );
  return (
    `<svg class="seedlab-heatmap" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" style="color:inherit;display:block;margin:0.5em 0;font-family:sans-serif">` +
    `<title>${escapeHtml(title)}</title>` +
    parts.join("") +
    "</svg>"
  );
}
