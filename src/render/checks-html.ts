/**
 * The verification checks (`verifyReproducibility`) as pass / fail lines with what each finding means.
 */
import type { Check } from "../analysis/verify";
import { TABLE_STYLES, escapeHtml, cell, header, row, table } from "./html";

const STATUS_MARK: Record<Check["status"], string> = {
  pass: `<span style="color:#2da44e;font-weight:700">✔ pass</span>`,
  fail: `<span style="color:#e5534b;font-weight:700">✘ fail</span>`,
  unknown: `<span style="opacity:0.75;font-weight:700">? unknown</span>`,
};

/**
 * The verification checks as pass / fail lines with what each finding means.
 * @param checks The result of `verifyReproducibility`.
 * @returns An HTML table with one row per check.
 */
export function renderChecksHtml(checks: readonly Check[]): string {
  const rows = checks.map((check) =>
    row(
      cell(STATUS_MARK[check.status], TABLE_STYLES.nowrap) +
        cell(escapeHtml(check.name)) +
        cell(escapeHtml(check.summary), TABLE_STYLES.text) +
        cell(escapeHtml(check.meaning), TABLE_STYLES.text),
    ),
  );
  const passed = checks.filter((check) => check.status === "pass").length;
  return table(
    "checks",
    header(["", "Check", "Found", "What it means"]) + `<tbody>${rows.join("")}</tbody>`,
    `Verification: ${passed}/${checks.length} checks pass`,
  );
}
