/**
 * Renderers: HTML, SVG and terminal text for runs, batches, diffs, verdicts and the analysis views. All return
 * strings; a notebook displays them (`tslab.display.html(...)`), the command line prints them.
 */
// Named, not `export *`: an ES module importing this CommonJS-compiled file sees only names it can detect.
export { DIFF_STYLES, TABLE_STYLES, escapeHtml, htmlCell, htmlHeader, htmlRow, htmlTable } from "./html";
export { diffTexts, renderDiffHtml, renderDiffText, shouldUseColor, type DiffGranularity } from "./text-diff";
export { renderVerdict } from "./verdict";
export { renderBatchHtml, renderDiffLegendHtml, renderRunHtml, type BatchHtmlOptions } from "./batch-html";
export { renderBatchText, renderRunText, type TextRenderOptions } from "./batch-text";
export { renderSettingsHtml } from "./settings-html";
export { renderProgressHtml } from "./progress-html";
export { renderComparisonHtml } from "./comparison-html";
export { renderChecksHtml } from "./checks-html";
export { renderVariantsHtml } from "./variants-html";
export { renderBatchChangesHtml, renderFingerprintChangeHtml } from "./batch-changes-html";
export { renderReportHtml } from "./report-html";
export { renderDivergenceHtml, renderPositionsSvg } from "./divergence-html";
export { renderMarginsHtml } from "./margins-html";
export { renderHeatmapSvg } from "./heatmap-svg";
export { renderSweepHtml } from "./sweep-html";
