/**
 * A run's text token by token, shaded by each token's margin (`computeMargins`): where the model nearly chose
 * another token.
 */
import type { TokenMargin } from "../analysis/divergence";
import { TABLE_STYLES, escapeHtml, decimal } from "./html";

/**
 * A run's text token by token, each token shaded by how fragile it was: the smaller its margin
 * (top-1 minus top-2 probability), the stronger the red; fragile tokens are also underlined. Hover a
 * token for its probability and its two best candidates.
 * @param margins The result of `computeMargins`.
 * @param options `fragileBelow`: the threshold used (default 0.1, for the caption); `caption`: replaces the default.
 * @returns An HTML `<div class="seedlab-margins">`.
 */
export function renderMarginsHtml(
  margins: readonly TokenMargin[],
  { fragileBelow = 0.1, caption }: { fragileBelow?: number; caption?: string } = {},
): string {
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
    const describe = (candidate: { token: string; probability: number } | null): string =>
      candidate === null ? "none" : `${JSON.stringify(candidate.token)} ${(candidate.probability * 100).toFixed(1)}%`;
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
