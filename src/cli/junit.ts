/**
 * JUnit XML for CI systems (GitLab, Jenkins, GitHub test reporters): one `<testsuite>` per suite
 * file, one `<testcase>` per prompt, `<failure>` when reproducibility is below the expectation,
 * `<error>` when requests failed. Every text is escaped, and characters XML 1.0 forbids (model
 * output may hold control characters) are dropped, so the file always parses.
 */

/** One test case: a prompt's outcome as JUnit sees it. */
export interface JunitCase {
  name: string;
  /** `passed`, `failed` (expectation not met) or `error` (requests failed). */
  status: "passed" | "failed" | "error";
  /** Seconds. */
  timeSeconds: number;
  /** One line for the `message` attribute (empty when passed). */
  message: string;
  /** The full explanation, as the element's text. */
  details: string;
  /** Shown as `<system-out>` (e.g. the verdict and the outputs). */
  output: string;
}

/** A suite of test cases. */
export interface JunitSuite {
  name: string;
  /** ISO time the suite started. */
  timestamp: string;
  timeSeconds: number;
  /** `<property>` entries (backend, model, suite file); never a secret. */
  properties: Record<string, string>;
  cases: JunitCase[];
}

// Anything outside XML 1.0's Char production: C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF.
const INVALID_XML_CHARACTERS = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
// Colour codes would be dropped as controls, leaving "[31m" behind: remove whole sequences first.
const ANSI_SEQUENCES = /\u001b\[[0-9;]*[A-Za-z]/g;

/**
 * Escapes text for XML element content and attribute values, dropping characters XML cannot hold.
 * @param text Any text.
 * @returns Text safe inside an element or a double- or single-quoted attribute.
 */
export function escapeXml(text: string): string {
  return text
    .replace(ANSI_SEQUENCES, "")
    .replace(INVALID_XML_CHARACTERS, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/**
 * Renders JUnit XML.
 * @param suite The suite and its cases.
 * @returns The XML document, ending with a newline.
 */
export function renderJunitXml(suite: JunitSuite): string {
  const failures = suite.cases.filter((testCase) => testCase.status === "failed").length;
  const errors = suite.cases.filter((testCase) => testCase.status === "error").length;
  const time = suite.timeSeconds.toFixed(3);
  const counts = `tests="${suite.cases.length}" failures="${failures}" errors="${errors}" skipped="0" time="${time}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="seedlab check" ${counts}>`,
    `  <testsuite name="${escapeXml(suite.name)}" ${counts} timestamp="${escapeXml(suite.timestamp)}">`,
    "    <properties>",
    ...Object.entries(suite.properties).map(
      ([name, value]) => `      <property name="${escapeXml(name)}" value="${escapeXml(value)}"/>`,
    ),
    "    </properties>",
  ];
  for (const testCase of suite.cases) {
    lines.push(
      `    <testcase name="${escapeXml(testCase.name)}" classname="${escapeXml(suite.name)}" time="${testCase.timeSeconds.toFixed(3)}">`,
    );
    if (testCase.status !== "passed") {
      const element = testCase.status === "failed" ? "failure" : "error";
      const type = testCase.status === "failed" ? "ReproducibilityFailure" : "RequestError";
      lines.push(
        `      <${element} message="${escapeXml(testCase.message)}" type="${type}">${escapeXml(testCase.details)}</${element}>`,
      );
    }
    if (testCase.output !== "") lines.push(`      <system-out>${escapeXml(testCase.output)}</system-out>`);
    lines.push("    </testcase>");
  }
  lines.push("  </testsuite>", "</testsuites>");
  return lines.join("\n") + "\n";
}
