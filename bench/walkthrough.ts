/**
 * `npm run bench:walkthrough [-- --jobs N] [-- --parts]`: runs the walkthrough the way
 * `npm run walkthrough` does (every notebook, cold, each in a fresh tslab kernel through Jupyter) and
 * prints where the time went: each notebook's total, its kernel start, its set-up cell and its slowest
 * cells with when their first output appeared; then the walkthrough total against the 20 s target, the
 * cells that showed nothing for their first 2 s, and those that later went more than 2 s without a new
 * output (a progress line that did not move). Prints figures; asserts nothing (speed is not a test).
 *
 * `--jobs N` executes N notebooks at once (default: what `npm run walkthrough` uses). `--parts` first
 * runs a probe notebook that separates the set-up cell's parts: the kernel start, tslab compiling a
 * trivial cell, the import of the compiled library (`./dist/index`), starting the local model server, one request.
 * Then, on Linux, where the CPU went: CPU-seconds of the tslab kernels, the model servers, Jupyter's executor and
 * the rest (bench/cpu-accounting.ts). The machine's load average is printed before and after: figures taken on a
 * busy machine are not comparable with a quiet one's.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { startCpuAccounting, type CpuBreakdown } from "./cpu-accounting";
import { ensureBuild } from "../scripts/ensure-build.mjs";
import { ensureJupyter } from "../scripts/ensure-jupyter.mjs";
import {
  listNotebooks,
  runNotebooks,
  writeCodeNotebook,
  WALKTHROUGH_JOBS,
  type CellTiming,
  type NotebookResult,
} from "../scripts/run-notebooks";

const TARGET_SECONDS = 20;
const SILENT_SECONDS = 2;
const SLOWEST_SHOWN = 3;

interface Cell {
  cell_type: string;
  source: string | string[];
}

function parseArgs(args: string[]): { jobs: number; parts: boolean } {
  let jobs = WALKTHROUGH_JOBS;
  let parts = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === "--parts") parts = true;
    else if (arg === "--jobs") {
      const value = Number(args[++index]);
      if (!Number.isInteger(value) || value < 1)
        throw new Error(`Expected \`--jobs\` to be a whole number from 1 up, got ${JSON.stringify(args[index])}.`);
      jobs = value;
    } else throw new Error(`Unknown argument ${JSON.stringify(arg)}. Use --jobs N and/or --parts.`);
  }
  return { jobs, parts };
}

const load = (): string => `load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`;
const seconds = (value: number | null | undefined): string =>
  value === null || value === undefined ? "?" : `${value.toFixed(1)} s`;

/** A cell's first line, shortened, to name it. */
function firstLine(cells: Cell[], index: number): string {
  const source = cells[index]?.source ?? "";
  const line = (Array.isArray(source) ? source.join("") : source).split("\n").find((text) => text.trim() !== "") ?? "";
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/**
 * A cell's name as Jupyter shows it after Run All: `[n]`, its place among the code cells (1 for the first).
 * The executor numbers cells from 0 counting markdown cells too.
 */
function codeCellName(cells: Cell[], index: number): string {
  const place = cells.slice(0, index + 1).filter((cell) => cell.cell_type === "code").length;
  return `[${place}]`;
}

/** Seconds until the cell showed anything, or null if it never did. */
const firstOutput = (cell: CellTiming): number | null => cell.outputs[0]?.[0] ?? null;

/** Seconds of the longest stretch without any new output (from the cell's start to its end). */
function longestSilence(cell: CellTiming): number {
  let previous = 0;
  let longest = 0;
  for (const [at] of cell.outputs) {
    longest = Math.max(longest, at - previous);
    previous = at;
  }
  return Math.max(longest, cell.seconds - previous);
}

async function probeParts(outputDir: string): Promise<void> {
  // Each cell times itself where it can; the executor times the rest.
  const cells = [
    "1 + 1",
    'import { loadSettings, openBackend } from "./dist/index";',
    "const started = Date.now();\nconst backend = await openBackend(loadSettings());\nconsole.log(Date.now() - started);",
    'await backend.client.chat.completions.create({ model: backend.model, messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 20, seed: 1 });',
    "await backend.close();",
  ];
  const path = writeCodeNotebook(join(outputDir, "parts.ipynb"), cells);
  const [result] = await runNotebooks({ notebooks: [path], outputDir: join(outputDir, "parts-out"), jobs: 1 });
  if (result === undefined || !result.ok)
    throw new Error(`The probe notebook failed: ${result?.message ?? "no result"}`);
  const executed = JSON.parse(readFileSync(result.executed, "utf8")) as {
    cells: Array<{ outputs?: Array<{ text?: string | string[] }> }>;
  };
  const serverMs = Number([executed.cells[2]?.outputs?.[0]?.text ?? ""].flat().join("").trim());
  const cellSeconds = (index: number): number => result.timing.cells[index]?.seconds ?? Number.NaN;
  console.log(`Parts of a set-up cell (probe notebook, ${load()}):`);
  console.log(`  kernel start (Jupyter starts tslab)          ${seconds(result.timing.kernelStartSeconds)}`);
  console.log(`  a trivial cell (tslab compiles \`1 + 1\`)      ${seconds(cellSeconds(0))}`);
  console.log(`  import from ./dist/index (compiled library)   ${seconds(cellSeconds(1))}`);
  console.log(
    `  openBackend (shared server, else its own)    ${seconds(serverMs / 1000)} (the cell: ${seconds(cellSeconds(2))})`,
  );
  console.log(`  one request, 20 tokens (the cell)            ${seconds(cellSeconds(3))}`);
  console.log("");
}

function report(results: NotebookResult[], wallSeconds: number, jobs: number): void {
  const late: string[] = [];
  const silent: string[] = [];
  for (const result of results) {
    const name = basename(result.notebook, ".ipynb");
    const cells = (JSON.parse(readFileSync(result.notebook, "utf8")) as { cells: Cell[] }).cells;
    const cellSum = result.timing.cells.reduce((sum, cell) => sum + cell.seconds, 0);
    const setUp = result.timing.cells[0];
    console.log(
      `${name}: ${seconds(result.seconds)}${result.ok ? "" : `  FAILED at cell ${result.failedCell === null ? "?" : codeCellName(cells, result.failedCell)}: ${result.message}`}`,
    );
    console.log(
      `  kernel start ${seconds(result.timing.kernelStartSeconds)} · cells ${seconds(cellSum)} · set-up cell ${seconds(setUp?.seconds)}`,
    );
    const slowest = [...result.timing.cells].sort((a, b) => b.seconds - a.seconds).slice(0, SLOWEST_SHOWN);
    for (const cell of slowest) {
      const shown = firstOutput(cell);
      console.log(
        `  ${seconds(cell.seconds).padStart(7)}  cell ${codeCellName(cells, cell.index).padEnd(4)}  first output ${shown === null ? "none" : `at ${seconds(shown)}`}, ` +
          `longest silence ${seconds(longestSilence(cell))}  ${firstLine(cells, cell.index)}`,
      );
    }
    for (const cell of result.timing.cells) {
      const shown = firstOutput(cell) ?? cell.seconds;
      if (shown > SILENT_SECONDS)
        late.push(`${name} cell ${codeCellName(cells, cell.index)} (first output at ${seconds(shown)})`);
      else if (longestSilence(cell) > SILENT_SECONDS)
        silent.push(`${name} cell ${codeCellName(cells, cell.index)} (${seconds(longestSilence(cell))})`);
    }
  }
  const verdict = wallSeconds <= TARGET_SECONDS ? "within" : `${(wallSeconds - TARGET_SECONDS).toFixed(1)} s over`;
  console.log("");
  console.log(
    `Walkthrough total: ${seconds(wallSeconds)} (${results.length} notebooks, ${jobs} at once) · target ${TARGET_SECONDS} s: ${verdict}`,
  );
  console.log(
    late.length === 0
      ? `Every cell showed something within ${SILENT_SECONDS} s.`
      : `Nothing shown for the first ${SILENT_SECONDS} s: ${late.join("; ")}`,
  );
  if (silent.length > 0)
    console.log(`Shown in time, then no new output for more than ${SILENT_SECONDS} s: ${silent.join("; ")}`);
}

function reportCpu(breakdown: CpuBreakdown | null, wallSeconds: number): void {
  if (breakdown === null) {
    console.log("Where the CPU went: measured on Linux only (from /proc).");
    return;
  }
  const cores = cpus().length;
  const parts = breakdown.byKind.map(
    ({ kind, seconds: used, processes }) =>
      `${kind} ${used.toFixed(1)} (${processes} process${processes === 1 ? "" : "es"})`,
  );
  console.log(
    `Where the CPU went, in CPU-seconds: ${parts.join(" · ")} · total ${breakdown.totalSeconds.toFixed(1)}, ` +
      `${(breakdown.totalSeconds / wallSeconds).toFixed(1)} of ${cores} cores busy on average. ` +
      `At this CPU, ${TARGET_SECONDS} s needs at most ${(TARGET_SECONDS * cores).toFixed(0)} CPU-seconds with every core busy.`,
  );
}

async function main(): Promise<number> {
  const { jobs, parts } = parseArgs(process.argv.slice(2));
  ensureJupyter({ need: "executor" });
  ensureBuild(); // The notebooks import dist/: a build here would otherwise land in the first kernel's start.
  const outputDir = mkdtempSync(join(tmpdir(), "seedlab-bench-walkthrough-"));
  try {
    console.log(`seedlab walkthrough benchmark · ${load()} at the start`);
    console.log("");
    if (parts) await probeParts(outputDir);
    const stopAccounting = startCpuAccounting();
    const started = performance.now();
    const results = await runNotebooks({ notebooks: listNotebooks(), outputDir, jobs });
    const wallSeconds = (performance.now() - started) / 1000;
    report(results, wallSeconds, jobs);
    reportCpu(stopAccounting === null ? null : stopAccounting(), wallSeconds);
    console.log(`(${load()} at the end)`);
    return results.every((result) => result.ok) ? 0 : 1;
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench:walkthrough: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
