/**
 * A running batch's progress as a one-line bar, for a display updated in place.
 */
import type { BatchProgress } from "../core/types";

/**
 * A one-line progress bar for a running batch (for a display updated in place).
 * @param progress The latest progress report.
 * @returns An HTML line, e.g. "■■■□□ 3/5 finished · 1 failed".
 */
export function renderProgressHtml(progress: BatchProgress): string {
  const width = Math.min(progress.total, 40);
  const filled = progress.total === 0 ? width : Math.round((progress.finished / progress.total) * width);
  const bar = "■".repeat(filled) + "□".repeat(width - filled);
  const failed = progress.failed > 0 ? ` · ${progress.failed} failed` : "";
  const done = progress.finished === progress.total ? " · done" : "";
  return `<div class="seedlab-progress" style="font-family:monospace;color:inherit">${bar} ${progress.finished}/${progress.total} finished${failed}${done}</div>`;
}
