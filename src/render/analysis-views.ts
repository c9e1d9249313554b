/**
 * Views of the reproducibility measurements, as self-contained HTML and SVG strings: the suite
 * report, first divergences with the alternatives each run had there, the margin of every token of a
 * run, a batch's similarity heatmap, and a seed × temperature sweep. Everything is escaped before it
 * is wrapped; colours are translucent over inherited text colour, so they read in light and dark themes.
 * Each view carries a stable class (`seedlab-report`, `seedlab-divergence`, `seedlab-margins`,
 * `seedlab-heatmap`, `seedlab-sweep`) so tests and notebooks can find it.
 */
import type { Comparison } from "../analysis/compare-runs";
import type { ReproducibilityReport } from "../analysis/report";
import type { Alternative, BatchDivergence, DivergenceUnit, TokenMargin } from "../analysis/divergence";
import type { Sweep } from "../analysis/sweep";
import { DIFF_STYLES, escapeHtml } from "./diff";
import { TABLE_STYLES, htmlCell as cell, htmlHeader as header } from "./batch-html";

const row = (cells: string): string => `<tr style="background:transparent">${cells}</tr>`;
const percent = (share: number): string => `${Math.round(share * 100)}%`;
const decimal = (value: number | null): string => (value === null ? "—" : value.toFixed(2));
const yesNo = (value: boolean): string => (value ? "yes" : "no");
const table = (kind: string, body: string, caption: string): string =>
  `<table class="seedlab-table seedlab-${kind}" style="${TABLE_STYLES.table}">` +
  (caption === "" ? "" : `<caption style="${TABLE_STYLES.caption}">${escapeHtml(caption)}</caption>`) +
  body +
  "</table>";
/** A token made visible: quoted, with its spaces and newlines shown as JSON escapes (`" He"`, `"\n"`). */
const showToken = (token: string | null): string => (token === null ? `<span style="${TABLE_STYLES.muted}">(ended)</span>` : `<code>${escapeHtml(JSON.stringify(token))}</code>`);
const unitName = (unit: DivergenceUnit): string => (unit === "token" ? "token" : "character");

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
        .map((group) => `<code>${escapeHtml(group.fingerprint ?? "none")}</code> × ${group.count} → ${group.distinctOutputs} ${group.distinctOutputs === 1 ? "text" : "texts"}`)
        .join("<br>") || "—";
    const parameters = prompt.parametersIdentical ? "identical" : `differ: ${prompt.differingParameters.join(", ")}`;
    return row(
      cell(escapeHtml(prompt.label)) +
        cell(`${prompt.succeeded}${prompt.failed > 0 ? ` (+${prompt.failed} failed)` : ""}`, TABLE_STYLES.number) +
        cell(prompt.allIdentical ? "<strong>yes</strong>" : "no") +
        cell(`${prompt.distinctOutputs.length} <span style="${TABLE_STYLES.muted}">(${escapeHtml(counts)})</span>`) +
        cell(prompt.succeeded === 0 ? "—" : percent(prompt.mostCommonShare), TABLE_STYLES.number) +
        cell(decimal(prompt.meanSimilarity), TABLE_STYLES.number) +
        cell(decimal(prompt.minimumSimilarity), TABLE_STYLES.number) +
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
    header(["Prompt", "Runs", `All ${n} identical`, "Distinct outputs (runs each)", "Most common output", "Mean similarity", "Lowest similarity", "Fingerprints → texts", "Texts differ within a fingerprint", "Parameters"]) +
      `<tbody>${rows.join("")}</tbody>`,
    caption ?? defaultCaption,
  );
}

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
    const hidden = pairs.some(([a, b]) => typeof a === "number" && typeof b === "number" && a !== b && formatPercent(a, digits) === formatPercent(b, digits));
    if (!hidden) return digits;
  }
  return 8;
}

/**
 * First divergences of a batch: a summary, the distribution of positions as a dot plot, then one row per
 * differing run with the text around the point where it parts from the reference (the reference's
 * continuation struck out, this run's underlined) and the top alternatives of both runs at that point.
 * @param divergence The result of `findBatchDivergences`.
 * @param options `caption`: replaces the default summary line.
 * @returns An HTML `<div class="seedlab-divergence">`.
 */
export function renderDivergenceHtml(divergence: BatchDivergence, { caption }: { caption?: string } = {}): string {
  const unit = unitName(divergence.unit);
  const summary = divergence.positionSummary;
  const defaultCaption =
    divergence.referenceIndex === null
      ? "No run succeeded: nothing to compare."
      : `Against run ${divergence.referenceIndex}: ${divergence.identicalIndexes.length} identical (reference included), ${divergence.divergences.length} differ` +
        (divergence.failedIndexes.length > 0 ? `, ${divergence.failedIndexes.length} failed` : "") +
        (summary === null
          ? ""
          : ` · first difference at ${unit} ${summary.minimum} to ${summary.maximum} (median ${summary.median})` +
            ` · positions counted in ${unit}s${divergence.unitReason === null ? "" : ` (${divergence.unitReason})`}`);
  const rows = divergence.divergences.map((item) => {
    const context =
      `<span style="${TABLE_STYLES.muted}">${item.before.length < item.characterOffset ? "…" : ""}${escapeHtml(item.before)}</span>` +
      `<del style="${DIFF_STYLES.removed}">${escapeHtml(item.referenceAfter)}</del>` +
      `<br><span style="${TABLE_STYLES.muted}">${item.before.length < item.characterOffset ? "…" : ""}${escapeHtml(item.before)}</span>` +
      `<ins style="${DIFF_STYLES.added}">${escapeHtml(item.runAfter)}</ins>`;
    // The same candidate's probability in both runs: show enough decimals to tell them apart.
    const runProbabilityOf = new Map((item.runAlternatives ?? []).map((alternative) => [alternative.token, alternative.probability] as const));
    const digits = percentDigits((item.referenceAlternatives ?? []).map((alternative): [number, number | undefined] => [alternative.probability, runProbabilityOf.get(alternative.token)]));
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
      : row(`<td colspan="6" style="${TABLE_STYLES.cell};${TABLE_STYLES.muted}">${divergence.referenceIndex === null ? "no successful run" : "every run has the reference's exact text"}</td>`);
  const legend =
    divergence.divergences.length > 0
      ? `<div style="${TABLE_STYLES.muted};font-size:0.85em">Context: <del style="${DIFF_STYLES.removed}">reference's continuation</del> / <ins style="${DIFF_STYLES.added}">this run's continuation</ins>. Alternatives: top tokens and their probabilities at the first differing position (with as many decimals as it takes to show where the two runs' numbers differ); ✔ = the token that run emitted, ◆ = the token the other run emitted.</div>`
      : "";
  return (
    `<div class="seedlab-divergence" style="color:inherit">` +
    `<div style="${TABLE_STYLES.caption}">${escapeHtml(caption ?? defaultCaption)}</div>` +
    (divergence.positions.length > 0 ? renderPositionsSvg(divergence.positions, divergence.unit) : "") +
    `<table class="seedlab-table" style="${TABLE_STYLES.table}">` +
    header(["Run", "First differs at", "Token (reference → run)", `Context (run ${divergence.referenceIndex ?? "—"} above, this run below)`, "Alternatives in the reference", "Alternatives in this run"]) +
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
    dots.push(`<circle cx="${(left + (position / maximum) * (width - left - right)).toFixed(1)}" cy="LEVEL${level}" r="${radius}" fill="rgb(56,139,253)" fill-opacity="0.7"><title>${escapeHtml(`${unitName(unit)} ${position}`)}</title></circle>`);
  }
  const levels = Math.max(1, ...stacks.values());
  const axisY = 10 + levels * (2 * radius + 2);
  const height = axisY + 22;
  const placed = dots.map((dot) => dot.replace(/LEVEL(\d+)/, (_match, level: string) => String(axisY - radius - 2 - Number(level) * (2 * radius + 2))));
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

/**
 * A run's text token by token, each token shaded by how fragile it was: the smaller its margin
 * (top-1 minus top-2 probability), the stronger the red; fragile tokens are also underlined. Hover a
 * token for its probability and its two best candidates.
 * @param margins The result of `computeMargins`.
 * @param options `fragileBelow`: the threshold used (default 0.1, for the caption); `caption`: replaces the default.
 * @returns An HTML `<div class="seedlab-margins">`.
 */
export function renderMarginsHtml(margins: readonly TokenMargin[], { fragileBelow = 0.1, caption }: { fragileBelow?: number; caption?: string } = {}): string {
  const fragile = margins.filter((margin) => margin.fragile).length;
  const sampledBelowTop = margins.filter((margin) => margin.sampledBelowTop).length;
  const measured = margins.filter((margin) => margin.margin !== null).length;
  const defaultCaption =
    measured === 0 && margins.length > 0
      ? `No margins: the run's logprobs list fewer than 2 candidates per token. Request top_logprobs: 5.`
      : `${fragile} of ${margins.length} tokens are fragile (top-1 minus top-2 probability below ${fragileBelow})` +
        (measured < margins.length ? ` · ${margins.length - measured} without a runner-up` : "") +
        (sampledBelowTop > 0 ? ` · ${sampledBelowTop} tokens were sampled below the most likely one` : "");
  const spans = margins.map((margin) => {
    const describe = (candidate: { token: string; probability: number } | null): string => (candidate === null ? "none" : `${JSON.stringify(candidate.token)} ${(candidate.probability * 100).toFixed(1)}%`);
    const title = `token ${margin.position} ${JSON.stringify(margin.token)}: p = ${(margin.probability * 100).toFixed(1)}%; top ${describe(margin.top)}, runner-up ${describe(margin.runnerUp)}, margin ${decimal(margin.margin)}`;
    let style = "border-radius:2px";
    if (margin.margin !== null) {
      // Shade grows as the margin shrinks; fragile tokens get a clear floor and an underline.
      const strength = Math.max(0, 1 - margin.margin / Math.max(fragileBelow * 4, 1e-9));
      const alpha = margin.fragile ? 0.35 + 0.35 * (1 - margin.margin / fragileBelow) : 0.3 * strength;
      if (alpha > 0.02) style += `;background:rgba(248,81,73,${alpha.toFixed(2)})`;
      if (margin.fragile) style += ";text-decoration:underline dotted";
    }
    if (margin.sampledBelowTop) style += ";outline:1px dashed rgba(128,128,128,0.8)";
    return `<span class="seedlab-token${margin.fragile ? " seedlab-fragile" : ""}" title="${escapeHtml(title)}" style="${style}">${escapeHtml(margin.token)}</span>`;
  });
  return (
    `<div class="seedlab-margins" style="color:inherit;margin:0.5em 0">` +
    `<div style="${TABLE_STYLES.caption}">${escapeHtml(caption ?? defaultCaption)}</div>` +
    `<div style="${TABLE_STYLES.text};border:1px solid rgba(128,128,128,0.45);padding:0.5em;line-height:1.7">${spans.join("")}</div>` +
    `<div style="${TABLE_STYLES.muted};font-size:0.85em">Red = small margin (the model nearly chose another token there); underlined = fragile; dashed box = sampled below the most likely token. Hover a token for its numbers.</div>` +
    "</div>"
  );
}

/**
 * A batch's pairwise word similarity as a heatmap: one row and one column per successful run,
 * stronger blue = more similar (1 = identical words), the value written in each cell.
 * @param comparison The result of `compareRuns` (its `similarity.matrix`).
 * @param options `labels`: row labels by `run.index` (default "run i"; escaped here); `title`: the heading.
 * @returns An inline `<svg class="seedlab-heatmap">`.
 */
export function renderHeatmapSvg(comparison: Comparison, { labels = {}, title = "Word similarity between runs (1 = identical)" }: { labels?: Record<number, string>; title?: string } = {}): string {
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
    parts.push(`<text x="${labelWidth + column * size + size / 2}" y="${top - 6}" font-size="10" fill="currentColor" text-anchor="middle">${runIndex}</text>`);
  });
  comparison.similarity.matrix.forEach((values, rowPosition) => {
    const rowIndex = indexes[rowPosition] as number;
    const y = top + rowPosition * size;
    parts.push(`<text x="${labelWidth - 6}" y="${y + size / 2 + 4}" font-size="11" fill="currentColor" text-anchor="end">${escapeHtml(labelOf(rowIndex))}</text>`);
    values.forEach((similarity, column) => {
      const x = labelWidth + column * size;
      const columnIndex = indexes[column] as number;
      parts.push(
        `<rect x="${x}" y="${y}" width="${size - 1}" height="${size - 1}" fill="rgb(56,139,253)" fill-opacity="${(0.05 + 0.6 * similarity).toFixed(3)}" stroke="rgba(128,128,128,0.35)">` +
          `<title>${escapeHtml(`${labelOf(rowIndex)} vs ${labelOf(columnIndex)}: similarity ${similarity.toFixed(3)}`)}</title></rect>`,
      );
      if (size >= 26) {
        parts.push(`<text x="${x + size / 2}" y="${y + size / 2 + 4}" font-size="${size >= 34 ? 10 : 8}" fill="currentColor" text-anchor="middle" pointer-events="none">${similarity === 1 ? "1" : similarity.toFixed(2)}</text>`);
      }
    });
  });
  if (count === 0) parts.push(`<text x="0" y="${top + 14}" font-size="12" fill="currentColor" fill-opacity="0.75">no successful run</text>`);
  // Legend: five swatches from 0 to 1.
  [0, 0.25, 0.5, 0.75, 1].forEach((value, position) => {
    const x = position * 52;
    parts.push(`<rect x="${x}" y="${legendY}" width="14" height="14" fill="rgb(56,139,253)" fill-opacity="${(0.05 + 0.6 * value).toFixed(3)}" stroke="rgba(128,128,128,0.35)"/>`);
    parts.push(`<text x="${x + 18}" y="${legendY + 11}" font-size="10" fill="currentColor">${value}</text>`);
  });
  parts.push(`<text x="${5 * 52}" y="${legendY + 11}" font-size="10" fill="currentColor" fill-opacity="0.75">0 = no words in common, 1 = identical</text>`);
  return (
    `<svg class="seedlab-heatmap" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" style="color:inherit;display:block;margin:0.5em 0;font-family:sans-serif">` +
    `<title>${escapeHtml(title)}</title>` +
    parts.join("") +
    "</svg>"
  );
}

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
      return cell(`<strong>${outputName(sweepCell.outputNumber)}</strong>`, `text-align:center;background:hsla(${hue},70%,50%,0.28)`);
    });
    const seeds = sweepRow.cells.length - sweepRow.failed;
    const verdict = sweepRow.collapsed
      ? "collapses: one text for every seed"
      : `fans out: ${sweepRow.distinctOutputs} texts from ${seeds} ${seeds === 1 ? "seed" : "seeds"}${sweepRow.failed > 0 ? `, ${sweepRow.failed} failed` : ""}`;
    return row(cell(String(sweepRow.temperature), TABLE_STYLES.number) + cells.join("") + cell(String(sweepRow.distinctOutputs), TABLE_STYLES.number) + cell(decimal(sweepRow.meanSimilarity), TABLE_STYLES.number) + cell(escapeHtml(verdict)));
  });
  const grid = table(
    "sweep-grid",
    header(["Temperature", ...sweep.seeds.map((seed) => `seed ${seed}`), "Distinct texts", "Mean similarity", "Outcome"]) + `<tbody>${rows.join("")}</tbody>`,
    `Seed × temperature: same letter = same text (${sweep.outputs.length} distinct texts in all)`,
  );
  const legendRows = sweep.outputs.map((output, number) => {
    const hue = OUTPUT_HUES[number % OUTPUT_HUES.length] as number;
    const preview = output.length > previewCharacters ? `${output.slice(0, previewCharacters)}…` : output;
    return row(cell(`<strong>${outputName(number)}</strong>`, `text-align:center;background:hsla(${hue},70%,50%,0.28)`) + cell(escapeHtml(preview), TABLE_STYLES.text));
  });
  const legend = table("sweep-texts", header(["Text", "Beginning"]) + `<tbody>${legendRows.join("")}</tbody>`, "");
  return `<div class="seedlab-sweep" style="color:inherit">${grid}${legend}</div>`;
}
