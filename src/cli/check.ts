/**
 * `seedlab check SUITE`: runs every prompt of a suite file N times and checks the reproducibility
 * the suite expects (minimum identical share, allowed fingerprints). Prints a readable report,
 * optionally writes a JSON report and JUnit XML, and exits 1 when any prompt falls short: a CI step.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Batch, ChatRun } from "../core/types";
import { runBatch } from "../core/batch";
import type { ChatRequest } from "../core/chat";
import { compareRuns, type Comparison } from "../analysis/compare-runs";
import { renderDiffText } from "../render/text-diff";
import { renderVerdict } from "../render/verdict";
import { parseCommandOrHelp, readInteger, stringFlag, type CommandSpec } from "./args";
import { EXIT_CODES } from "../core/errors";
import {
  BACKEND_FLAGS,
  COLOR_FLAGS,
  colorChoice,
  createProgressBar,
  describeBackend,
  openBackendWithNotice,
  safeURL,
  settingsFromFlags,
  type CommandContext,
} from "./context";
import { renderJunitXml, type JunitCase } from "./junit";
import { readSuite, type Suite, type SuitePrompt } from "./suite";

export { SuiteError } from "./suite";

/** The `check` command's flags and help. */
export const CHECK_COMMAND: CommandSpec = {
  name: "check",
  summary: "run a suite of prompts and fail when outputs are less reproducible than it expects.",
  usage: "check [options] SUITE",
  positionals: { minimum: 1, maximum: 1, names: ["SUITE"] },
  flags: {
    runs: {
      type: "string",
      short: "n",
      placeholder: "N",
      description: "Runs per prompt for every prompt, overriding the suite's.",
    },
    json: {
      type: "string",
      placeholder: "FILE",
      description: "Also write the report as JSON to FILE (`-` = stdout; the text report then goes to stderr).",
    },
    junit: { type: "string", placeholder: "FILE", description: "Also write JUnit XML to FILE, for CI test reports." },
    ...BACKEND_FLAGS,
    ...COLOR_FLAGS,
  },
  details: [
    "SUITE is a JSON file (see examples/suite.json):",
    "  {",
    '    "name": "Seeded stories stay identical",',
    '    "runs": 5,                                // per prompt; default 5',
    '    "minIdenticalShare": 1,                   // share of runs equal to the most common output; default 1',
    '    "allowedFingerprints": ["fp_..."],        // optional; "none" = no fingerprint; default: any',
    '    "parameters": { "seed": 123, "temperature": 0, "max_tokens": 40 },   // defaults for every prompt',
    '    "prompts": [',
    '      { "name": "story", "system": "You are a storyteller.", "user": "Once upon a time" },',
    '      { "name": "hot", "user": "The cat", "parameters": { "temperature": 1 }, "minIdenticalShare": 0.6, "runs": 10 }',
    "    ]",
    "  }",
    "A prompt's own runs / minIdenticalShare / allowedFingerprints win over the suite's; its parameters are merged",
    "over the suite's. `model` in parameters wins over --model. (The file is plain JSON: no comments.)",
    "",
    "Examples:",
    "  seedlab check examples/suite.json",
    "  seedlab check suite.json --backend openai --junit out/seedlab.xml --json out/seedlab.json",
    "",
    "Exit codes: 0 every prompt passed, 1 a prompt failed (or its requests failed), 2 bad usage or suite file",
    "(nothing sent), 3 backend error, 130 interrupted.",
  ].join("\n"),
};

/** The outcome of one prompt. */
export interface PromptOutcome {
  name: string;
  /** `passed`; `failed`: the expectation was not met; `error`: requests failed. */
  status: "passed" | "failed" | "error";
  requestedRuns: number;
  minIdenticalShare: number;
  allowedFingerprints: string[] | null;
  succeeded: number;
  failed: number;
  identicalCount: number;
  /** In [0, 1]; 0 when no run succeeded. */
  identicalShare: number;
  distinctOutputs: number;
  /** Fingerprints that answered ("none" for responses without one), most common first. */
  fingerprints: string[];
  /** Fingerprints not in `allowedFingerprints`. */
  unexpectedFingerprints: string[];
  /** Why it did not pass, one sentence each; empty when it passed. */
  problems: string[];
  /** The verdict line (see `renderVerdict`). */
  verdict: string;
  parametersHash: string | null;
  durationMs: number;
  runs: ChatRun[];
}

/** The JSON report `--json` writes. */
export interface CheckReport {
  suite: string;
  file: string;
  passed: boolean;
  backend: { kind: string; model: string; baseURL: string };
  startedAt: string;
  durationMs: number;
  summary: { prompts: number; passed: number; failed: number; errors: number };
  prompts: PromptOutcome[];
}

const percent = (share: number): string => `${Math.round(share * 1000) / 10}%`;
const indent = (text: string, prefix: string): string =>
  text
    .split("\n")
    .map((line) => prefix + line)
    .join("\n");

/**
 * Judges one prompt's batch against its expectations.
 * @param prompt The suite prompt.
 * @param batch Its runs.
 * @returns The outcome, with a sentence per problem.
 */
export function judgePrompt(prompt: SuitePrompt, batch: Batch): PromptOutcome {
  const comparison: Comparison = compareRuns(batch.runs);
  const fingerprints = comparison.fingerprints.map((group) => group.fingerprint ?? "none");
  const unexpectedFingerprints =
    prompt.allowedFingerprints === null
      ? []
      : fingerprints.filter((fingerprint) => !prompt.allowedFingerprints?.includes(fingerprint));
  const problems: string[] = [];
  if (comparison.failed > 0) {
    const first = batch.runs.find((run) => run.error !== null);
    const error = first?.error;
    problems.push(
      `${comparison.failed} of ${comparison.total} requests failed` +
        (error === undefined || error === null
          ? "."
          : `; run #${first?.index}: ${error.type}${error.status === null ? "" : ` (HTTP ${error.status})`}: ${error.message}`),
    );
  }
  // A share computed from counts can land a hair under the threshold (0.8 = 4/5): compare counts instead.
  const required = Math.ceil(prompt.minIdenticalShare * comparison.succeeded - 1e-9);
  if (comparison.succeeded > 0 && comparison.mostCommonCount < required) {
    problems.push(
      `${comparison.mostCommonCount} of ${comparison.succeeded} runs identical (${percent(comparison.mostCommonShare)}), below the minimum ${percent(prompt.minIdenticalShare)}` +
        ` (${required} of ${comparison.succeeded}); ${comparison.distinctOutputs.length} distinct outputs.`,
    );
  }
  if (unexpectedFingerprints.length > 0) {
    problems.push(
      `fingerprint${unexpectedFingerprints.length === 1 ? "" : "s"} ${unexpectedFingerprints.map((value) => `"${value}"`).join(", ")} not allowed` +
        ` (allowed: ${(prompt.allowedFingerprints ?? []).map((value) => `"${value}"`).join(", ")}).`,
    );
  }
  return {
    name: prompt.name,
    status: comparison.failed > 0 ? "error" : problems.length > 0 ? "failed" : "passed",
    requestedRuns: prompt.runs,
    minIdenticalShare: prompt.minIdenticalShare,
    allowedFingerprints: prompt.allowedFingerprints,
    succeeded: comparison.succeeded,
    failed: comparison.failed,
    identicalCount: comparison.mostCommonCount,
    identicalShare: comparison.mostCommonShare,
    distinctOutputs: comparison.distinctOutputs.length,
    fingerprints,
    unexpectedFingerprints,
    problems,
    verdict: renderVerdict(comparison),
    parametersHash: batch.runs[0]?.parametersHash ?? null,
    durationMs: batch.durationMs,
    runs: batch.runs,
  };
}

/**
 * A prompt's block in the text report: `PASS`/`FAIL`/`ERROR`, name, verdict; for a prompt that did
 * not pass, its problems, the most common output and how up to two other outputs differ from it.
 * @param outcome The prompt's outcome.
 * @param options `color`: ANSI colours in the diffs.
 * @returns Text without a trailing newline.
 */
export function renderPromptOutcome(outcome: PromptOutcome, { color = false }: { color?: boolean } = {}): string {
  const status = outcome.status === "passed" ? "PASS " : outcome.status === "failed" ? "FAIL " : "ERROR";
  const shown = color
    ? outcome.status === "passed"
      ? `\u001b[32m${status}\u001b[0m`
      : `\u001b[31m${status}\u001b[0m`
    : status;
  const lines = [
    `${shown} ${outcome.name} · ${outcome.verdict} · required ≥ ${percent(outcome.minIdenticalShare)} identical`,
  ];
  if (outcome.status === "passed") return lines[0] as string;
  for (const problem of outcome.problems) lines.push(`      ${problem}`);
  lines.push(...renderOutputs(outcome, { color }));
  return lines.join("\n");
}

/**
 * The outputs of a prompt whose runs differ: the most common one whole, then how up to two others
 * differ from it (word diffs). Nothing when every successful run gave the same text.
 * @param outcome The prompt's outcome.
 * @param options `color`: ANSI colours in the diffs.
 * @returns Indented lines.
 */
export function renderOutputs(outcome: PromptOutcome, { color = false }: { color?: boolean } = {}): string[] {
  const [reference, ...others] = compareRuns(outcome.runs).distinctOutputs;
  if (reference === undefined || others.length === 0) return [];
  const runList = (indexes: number[]): string => indexes.map((index) => `#${index}`).join(", ");
  const lines = [
    `      most common output (run${reference.runIndexes.length === 1 ? "" : "s"} ${runList(reference.runIndexes)}):`,
    indent(reference.content, "        "),
  ];
  for (const other of others.slice(0, 2)) {
    const several = other.runIndexes.length > 1;
    lines.push(
      `      ${several ? "runs" : "run"} ${runList(other.runIndexes)} ${several ? "differ" : "differs"}:`,
      indent(renderDiffText(reference.content, other.content, { color }), "        "),
    );
  }
  if (others.length > 2)
    lines.push(
      `      ... and ${others.length - 2} more distinct output${others.length - 2 === 1 ? "" : "s"} (all runs are in the --json report).`,
    );
  return lines;
}

/**
 * Runs `seedlab check`.
 * @param args The arguments after `check`.
 * @param context Streams, environment, working folder, abort signal.
 * @returns The exit code (see `EXIT_CODES`).
 * @throws {UsageError} For bad usage; {@link SuiteError} for a bad suite file; both before anything is sent.
 */
export async function checkCommand(args: readonly string[], context: CommandContext): Promise<number> {
  const spec = CHECK_COMMAND;
  const parsed = parseCommandOrHelp(spec, args, context.stdout);
  if (parsed === null) return EXIT_CODES.ok;
  const { values, positionals } = parsed;
  const runsText = stringFlag(values, "runs");
  const runsOverride =
    runsText === undefined
      ? undefined
      : readInteger("--runs", runsText, { minimum: 1, fix: "Use e.g. 5 runs per prompt.", spec });
  const jsonTarget = stringFlag(values, "json");
  const junitTarget = stringFlag(values, "junit");
  const jsonToStdout = jsonTarget === "-";
  const report = jsonToStdout ? context.stderr : context.stdout;
  const color = colorChoice(values, report, spec);
  const settings = settingsFromFlags(values, spec, context);
  const suiteFile = positionals[0] as string;
  const suite: Suite = readSuite(suiteFile, path.resolve(context.cwd, suiteFile));
  const prompts = suite.prompts.map((prompt) =>
    runsOverride === undefined ? prompt : { ...prompt, runs: runsOverride },
  );

  const startedAt = new Date().toISOString();
  const started = performance.now();
  const backend = await openBackendWithNotice(settings, context.stderr);
  const outcomes: PromptOutcome[] = [];
  try {
    report.write(
      `seedlab check ${suiteFile} · ${suite.name} · ${prompts.length} prompt${prompts.length === 1 ? "" : "s"} · ${describeBackend(backend)}\n`,
    );
    for (const [position, prompt] of prompts.entries()) {
      if (context.signal.aborted) break;
      const progress = createProgressBar(context.stderr, `[${position + 1}/${prompts.length}] ${prompt.name}`);
      const request = { model: backend.model, ...prompt.request } as ChatRequest;
      const batch = await runBatch({
        client: backend.client,
        request,
        runs: prompt.runs,
        concurrency: settings.concurrency,
        signal: context.signal,
        onProgress: progress.update,
        label: prompt.name,
      });
      progress.clear();
      if (context.signal.aborted) break;
      const outcome = judgePrompt(prompt, batch);
      outcomes.push(outcome);
      report.write(renderPromptOutcome(outcome, { color }) + "\n");
    }
  } finally {
    await backend.close();
  }
  if (context.signal.aborted) {
    report.write(`Interrupted after ${outcomes.length} of ${prompts.length} prompts; no report files written.\n`);
    return EXIT_CODES.interrupted;
  }

  const failedNames = outcomes.filter((outcome) => outcome.status !== "passed").map((outcome) => outcome.name);
  const checkReport: CheckReport = {
    suite: suite.name,
    file: suiteFile,
    passed: failedNames.length === 0,
    backend: { kind: backend.kind, model: backend.model, baseURL: safeURL(backend.baseURL) },
    startedAt,
    durationMs: performance.now() - started,
    summary: {
      prompts: outcomes.length,
      passed: outcomes.length - failedNames.length,
      failed: outcomes.filter((outcome) => outcome.status === "failed").length,
      errors: outcomes.filter((outcome) => outcome.status === "error").length,
    },
    prompts: outcomes,
  };
  report.write(
    checkReport.passed
      ? `\nAll ${outcomes.length} prompt${outcomes.length === 1 ? "" : "s"} passed.\n`
      : `\n${checkReport.summary.passed} of ${outcomes.length} prompts passed. Failed: ${failedNames.map((name) => JSON.stringify(name)).join(", ")}.\n`,
  );

  if (jsonTarget !== undefined) {
    const json = JSON.stringify(checkReport, null, 2) + "\n";
    if (jsonToStdout) context.stdout.write(json);
    else writeFile(path.resolve(context.cwd, jsonTarget), json);
  }
  if (junitTarget !== undefined) {
    const cases: JunitCase[] = outcomes.map((outcome) => ({
      name: outcome.name,
      status: outcome.status,
      timeSeconds: outcome.durationMs / 1000,
      message: outcome.problems[0] ?? "",
      details: outcome.problems.join("\n"),
      output: withOutputs(outcome),
    }));
    const properties = {
      suite: suiteFile,
      backend: backend.kind,
      model: backend.model,
      baseURL: safeURL(backend.baseURL),
    };
    writeFile(
      path.resolve(context.cwd, junitTarget),
      renderJunitXml({
        name: suite.name,
        timestamp: startedAt,
        timeSeconds: checkReport.durationMs / 1000,
        properties,
        cases,
      }),
    );
  }
  return checkReport.passed ? EXIT_CODES.ok : EXIT_CODES.failed;
}

/** The verdict, then the outputs when they differ (plain text). */
function withOutputs(outcome: PromptOutcome): string {
  return [outcome.verdict, ...renderOutputs(outcome)].join("\n");
}

function writeFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}
