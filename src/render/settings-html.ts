/**
 * The settings in use and the backend they opened, as a table.
 */
import { escapeHtml, cell, header, row, table } from "./html";

/**
 * The settings in use and the backend they opened, as a two-column table.
 * @param described The record from `describeSettings` (never holds the key, only "set"/"not set").
 * @param backend The open backend's kind, model and base URL, when there is one; for the local model also which
 *   server it uses (`server`) and how long opening took (`startSeconds`, from `openBackendWithProgress`).
 * @returns An HTML table.
 */
export function renderSettingsHtml(
  described: Record<string, string>,
  backend?: { kind: string; model: string; baseURL: string; server?: string | null; startSeconds?: number },
): string {
  const rows = Object.entries(described).map(([name, value]) =>
    row(cell(`<code>${escapeHtml(name)}</code>`) + cell(escapeHtml(value))),
  );
  const parts =
    backend === undefined
      ? ["Settings"]
      : [
          `Backend: ${backend.kind}`,
          `model ${backend.model}`,
          backend.baseURL,
          ...(backend.server ? [`server: ${backend.server}`] : []),
          ...(backend.startSeconds === undefined ? [] : [`opened in ${backend.startSeconds.toFixed(1)} s`]),
        ];
  const caption = parts.join(" · ");
  return table("settings", header(["Setting", "Value"]) + `<tbody>${rows.join("")}</tbody>`, caption);
}
