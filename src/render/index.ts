/**
 * Renderers: HTML and terminal text for diffs, single responses, batches and verdicts. All return
 * strings; a notebook displays them (`tslab.display.html(...)`), a CLI prints them.
 */
export { DIFF_STYLES, diffTexts, escapeHtml, renderDiffHtml, renderDiffText, shouldUseColor, type DiffGranularity } from "./diff";
export { TABLE_STYLES, findReference, htmlCell, htmlHeader, renderBatchHtml, renderDiffLegendHtml, renderRunHtml, type BatchHtmlOptions } from "./batch-html";
export { renderBatchText, renderRunText, type TextRenderOptions } from "./batch-text";
export { renderVerdict } from "./verdict";
