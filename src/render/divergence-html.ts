/**
 * First divergences (`findBatchDivergences`): where each run parts from the reference, the text around that
 * point, the alternatives both runs had there, and the positions as a dot plot.
 */
import type { Alternative, BatchDivergence, DivergenceUnit } from "../analysis/divergence";
import { DIFF_STYLES } from "./html";
import { TABLE_STYLES, escapeHtml, cell, header, row } from "./html";

/** A token made visible: quoted, with its spaces and newlines shown as JSON escapes (`" He"`, `"\n"`). */
const showToken = (token: string | null): string =>
  token === null
    ? `<span style="${TABLE_STYLES.muted}">(ended)</span>`
    : `<code>${escapeHtml(JSON.stringify(token))}</code>`;

const unitName = (unit: DivergenceUnit): string => (unit === "token" ? "token" : "character");

function renderAlternatives(alternatives: Alternative[] | null, otherToken: string | null, digits: number): string {
  if (alternatives === null) return `<span style="${TABLE_STYLES.muted}">no logprobs</span>`;
  const items = alternatives.map((alternative) => {
    const mark = alternative.chosen ? " ✔" : alternative.token === otherToken ? " ◆" : "";
    const text = `${showToken(alternative.token)} ${formatPercent(alternative.probability, digits)}${mark}`;
    return `<div style="white-space:nowrap${alternative.chosen ? ";font-weight:700" : ""}">${text}</div>`;
  });
  return items.join("");
}

const formatPercent = (probability: number, digits: number): string => `${(probability * 100).toFixed(digits)}%`;

/**
 * Decimals (of a percentage) needed to show that two runs' probabilities differ: 1 when they are equal
 * (same prefix, same configuration), more when a tiny numerical difference would otherwise print as a tie.
 */
function percentDigits(pairs: Array<[number | null | undefined, number | null | undefined]>): number {
  for (let digits = 1; digits < 8; digits += 1) {
    const hidden = pairs.some(
      ([a, b]) =>
        typeof a === "number" &&
        typeof b === "number" &&
        a !== b &&
        formatPercent(a, digits) === formatPercent(b, digits),
    );
    if (!hidden) return digits;
  }
  return 8;
}

/**
 * First divergences of a batch: a summary, the distribution of positions as a dot plot, then one row per
 * differing run with the text around the point where it parts from the reference (the reference's
 * continuation struck out, this run's underlined) and the top alternatives of both runs at that point.
 * @param divergence The result of `findBatchDivergences`.
 * @param options `caption`: a title put before the default summary line.
 * @returns An HTML `<div class="seedlab-divergence">`.
 */
export function renderDivergenceHtml(divergence: BatchDivergence, { caption }: { caption?: string } = {}): string {
  const unit = unitName(divergence.unit);
  const summary = divergence.positionSummary;
  const defaultCaption =
    divergence.referenceIndex === null
      ? "No run succeeded: nothing to compare."
      : `Against run ${divergence.referenceIndex}: ${identicalToIt(divergence.identicalIndexes.length - 1)}, ${divergence.divergences.length} differ` +
        (divergence.failedIndexes.length > 0 ? `, ${divergence.failedIndexes.length} failed` : "") +
        (summary === null
          ? ""
          : ` · first difference at ${unit} ${summary.minimum === summary.maximum ? summary.minimum : `${summary.minimum} to ${summary.maximum} (median ${summary.median})`}` +
            ` · positions counted in ${unit}s${divergence.unitReason === null ? "" : ` (${divergence.unitReason})`}`);
  const rows = divergence.divergences.map((item) => {
    const context =
      `<span style="${TABLE_STYLES.muted}">${item.before.length < item.characterOffset ? "…" : ""}${escapeHtml(item.before)}</span>` +
      `<del style="${DIFF_STYLES.removed}">${escapeHtml(item.referenceAfter)}</del>` +
      `<br><span style="${TABLE_STYLES.muted}">${item.before.length < item.characterOffset ? "…" : ""}${escapeHtml(item.before)}</span>` +
      `<ins style="${DIFF_STYLES.added}">${escapeHtml(item.runAfter)}</ins>`;
    // The same candidate's probability in both runs: show enough decimals to tell them apart.
    const runProbabilityOf = new Map(
      (item.runAlternatives ?? []).map((alternative) => [alternative.token, alternative.probability] as const),
    );
    const digits = percentDigits(
      (item.referenceAlternatives ?? []).map((alternative): [number, number | undefined] => [
        alternative.probability,
        runProbabilityOf.get(alternative.token),
      ]),
    );
    const probability = (value: number | null): string => (value === null ? "—" : formatPercent(value, digits));
    const tokens =
      item.unit === "token"
        ? `<div>${showToken(item.referenceToken)} → ${showToken(item.runToken)}</div>` +
          `<div style="${TABLE_STYLES.muted}">p = ${probability(item.referenceTokenProbability)} → ${probability(item.runTokenProbability)}</div>`
        : "";
    return row(
      cell(String(item.runIndex), TABLE_STYLES.number) +
        cell(`${unit} ${item.position}`, TABLE_STYLES.number) +
        cell(tokens || `<span style="${TABLE_STYLES.muted}">—</span>`) +
        cell(context, TABLE_STYLES.text) +
        cell(renderAlternatives(item.referenceAlternatives, item.runToken, digits)) +
        cell(renderAlternatives(item.runAlternatives, item.referenceToken, digits)),
    );
  });
  const body =
    rows.length > 0
      ? rows.join("")
      : row(
          `<td colspan="6" style="${TABLE_STYLES.cell};${TABLE_STYLES.muted}">${divergence.referenceIndex === null ? "no successful run" : "every run has the reference's exact text"}</td>`,
        );
  const legend =
    divergence.divergences.length > 0
      ? `<div style="${TABLE_STYLES.muted};font-size:0.85em">Context: <del style="${DIFF_STYLES.removed}">reference's continuation</del> / <ins style="${DIFF_STYLES.added}">this run's continuation</ins>. Alternatives: top tokens and their probabilities at the first differing position (with as many decimals as it takes to show where the two runs' numbers differ); ✔ = the token that run emitted, ◆ = the token the other run emitted.</div>`
      : "";
  return (
    `<div class="seedlab-divergence" style="color:inherit">` +
    `<div style="${TABLE_STYLES.caption}">${escapeHtml(caption === undefined ? defaultCaption : `${caption} · ${defaultCaption}`)}</div>` +
    (divergence.positions.length > 0 ? renderPositionsSvg(divergence.positions, divergence.unit) : "") +
    `<table class="seedlab-table" style="${TABLE_STYLES.table}">` +
    header([
      "Run",
      "First differs at",
      "Token (reference → run)",
      `Context (run ${divergence.referenceIndex ?? "—"} above, this run below)`,
      "Alternatives in the reference",
      "Alternatives in this run",
    ]) +
    `<tbody>${body}</tbody></table>${legend}</div>`
  );
}

/**
 * A dot plot of divergence positions: one dot per run, stacked where runs part at the same position.
 * @param positions Positions (any order).
 * @param unit What they count.
 * @returns An inline `<svg class="seedlab-positions">`.
 */
export function renderPositionsSvg(positions: readonly number[], unit: DivergenceUnit): string {
  const width = 480;
  const left = 12;
  const right = 12;
  const radius = 5;
  const maximum = Math.max(1, ...positions);
  const stacks = new Map<number, number>();
  const dots: string[] = [];
  for (const position of [...positions].sort((a, b) => a - b)) {
    const level = stacks.get(position) ?? 0;
    stacks.set(position, level + 1);
    dots.push(
      `<circle cx="${(left + (position / maximum) * (width - left - right)).toFixed(1)}" cy="LEVEL${level}" r="${radius}" fill="rgb(56,139,253)" fill-opacity="0.7"><title>${escapeHtml(`${unitName(unit)} ${position}`)}</title></circle>`,
    );
  }
  const levels = Math.max(1, ...stacks.values());
  const axisY = 10 + levels * (2 * radius + 2);
  const height = axisY + 22;
  const placed = dots.map((dot) =>
    dot.replace(/LEVEL(\d+)/, (_match, level: string) => String(axisY - radius - 2 - Number(level) * (2 * radius + 2))),
  );
  return (
    `<svg class="seedlab-positions" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" style="color:inherit;display:block;margin:0.25em 0">` +
    `<title>${escapeHtml(`First-divergence positions (${unitName(unit)}s) of ${positions.length} runs`)}</title>` +
    `<line x1="${left}" y1="${axisY}" x2="${width - right}" y2="${axisY}" stroke="currentColor" stroke-opacity="0.5"/>` +
    `<text x="${left}" y="${axisY + 16}" font-size="11" fill="currentColor">${escapeHtml(`${unitName(unit)} 0`)}</text>` +
    `<text x="${width - right}" y="${axisY + 16}" font-size="11" fill="currentColor" text-anchor="end">${escapeHtml(`${unitName(unit)} ${maximum}`)}</text>` +
    `<text x="${width / 2}" y="${axisY + 16}" font-size="11" fill="currentColor" fill-opacity="0.75" text-anchor="middle">where each run first differs from the reference</text>` +
    placed.join("") +
    "</svg>"
  );
}

/** "no other run identical to it", "1 other run identical to it", "3 other runs identical to it". */
function identicalToIt(others: number): string {
  return others === 0
    ? "no other run identical to it"
    : `${others} other run${others === 1 ? "" : "s"} identical to it`;
}
