/**
 * The settings in use and the backend they opened, as a table.
 */
import { escapeHtml, cell, header, row, table } from "./html";

/**
 * The settings in use and the backend they opened, as a two-column table.
 * @param described The record from `describeSettings` (never holds the key, only "set"/"not set").
 * @param backend The open backend's kind, model and base URL, when there is one.
 * @returns An HTML table.
 */
export function renderSettingsHtml(
  described: Record<string, string>,
  backend?: { kind: string; model: string; baseURL: string },
): string {
  const rows = Object.entries(described).map(([name, value]) =>
    row(cell(`<code>${escapeHtml(name)}</code>`) + cell(escapeHtml(value))),
  );
  const caption =
    backend === undefined ? "Settings" : `Backend: ${backend.kind} · model ${backend.model} · ${backend.baseURL}`;
  return table("settings", header(["Setting", "Value"]) + `<tbody>${rows.join("")}</tbody>`, caption);
}
