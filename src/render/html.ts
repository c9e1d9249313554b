/**
 * The small HTML helpers every view uses, in one place: escaping, the inline styles (translucent backgrounds and
 * inherited text colours, so they read in Jupyter's light and dark themes and override its table defaults), table
 * cells, rows, headers and tables, and the number formats of the views.
 */

/**
 * Escapes text for HTML element content and attribute values (`& < > " '`).
 * @param text Any text.
 * @returns The escaped text.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Inline styles of added and removed text: translucent backgrounds, inherited text colour. */
export const DIFF_STYLES = {
  added: "background:rgba(46,160,67,0.28);color:inherit;text-decoration:none;border-radius:2px",
  removed: "background:rgba(248,81,73,0.28);color:inherit;text-decoration:line-through;border-radius:2px",
} as const;

/** The inline styles of the tables, exported so a notebook can match them. */
export const TABLE_STYLES = {
  table: "border-collapse:collapse;margin:0.5em 0;table-layout:auto;color:inherit;font-size:0.9em",
  caption: "caption-side:top;text-align:left;padding:0.25em 0;font-weight:600;color:inherit",
  cell:
    "border:1px solid rgba(128,128,128,0.45);padding:0.35em 0.6em;text-align:left;vertical-align:top;" +
    "color:inherit;background:transparent",
  text: "white-space:pre-wrap;overflow-wrap:anywhere;max-width:40em",
  number: "text-align:right;font-variant-numeric:tabular-nums",
  /** A cell that must not wrap (a status mark such as "✔ pass"). */
  nowrap: "white-space:nowrap",
  error: "background:rgba(248,81,73,0.15)",
  muted: "opacity:0.7;font-style:italic",
} as const;

/**
 * One table cell in the tables' style.
 * @param content Cell HTML, ALREADY escaped.
 * @param extra More inline CSS (e.g. `TABLE_STYLES.text`).
 * @returns A `<td>`.
 */
export function htmlCell(content: string, extra = ""): string {
  return `<td style="${TABLE_STYLES.cell}${extra ? ";" + extra : ""}">${content}</td>`;
}

/**
 * A table header row in the tables' style.
 * @param names Column names (plain text; escaped here).
 * @returns A `<thead>`.
 */
export function htmlHeader(names: readonly string[]): string {
  const cells = names.map((name) => `<th style="${TABLE_STYLES.cell}">${escapeHtml(name)}</th>`).join("");
  return `<thead><tr style="background:transparent">${cells}</tr></thead>`;
}

/**
 * A table row (Jupyter's striped rows turned off).
 * @param cells The row's cells, HTML.
 * @returns A `<tr>`.
 */
export function htmlRow(cells: string): string {
  return `<tr style="background:transparent">${cells}</tr>`;
}

/**
 * A table with the class `seedlab-table seedlab-KIND` and an optional caption.
 * @param kind The view's name, e.g. `report` (gives the class `seedlab-report`).
 * @param body The header and body HTML.
 * @param caption Plain text (escaped here); "" for none.
 * @returns A `<table>`.
 */
export function htmlTable(kind: string, body: string, caption = ""): string {
  const captionHtml = caption === "" ? "" : `<caption style="${TABLE_STYLES.caption}">${escapeHtml(caption)}</caption>`;
  return `<table class="seedlab-table seedlab-${kind}" style="${TABLE_STYLES.table}">${captionHtml}${body}</table>`;
}

/**
 * A share as a whole percentage.
 * @param share A number in [0, 1].
 * @returns E.g. "67%".
 */
export function formatShare(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/**
 * A number with two decimals, or a dash for none.
 * @param value A number, or null.
 * @returns E.g. "0.67" or "—".
 */
export function formatDecimal(value: number | null): string {
  return value === null ? "—" : value.toFixed(2);
}

// Short names for the renderers in this folder, which build tables cell by cell.
export {
  formatDecimal as decimal,
  formatShare as percent,
  htmlCell as cell,
  htmlHeader as header,
  htmlRow as row,
  htmlTable as table,
};
