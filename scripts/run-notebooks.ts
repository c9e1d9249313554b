/**
 * Executes notebooks headless on the tslab kernel through Jupyter (nbclient, on the first Python found
 * that has it: see scripts/find-jupyter.mjs), writing executed copies and HTML exports. Used by
 * `npm run walkthrough` and by the tests.
 */
import { spawn } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { EXECUTOR_MODULES, findPython } from "./find-jupyter.mjs";
import { SHARED_SERVER_VARIABLE, startSharedServer } from "../src/local/shared";
import { ensureBuild } from "./ensure-build.mjs";
import { ensureKernelSnapshot } from "./kernel-snapshot.mjs";

export const PROJECT_ROOT = resolve(__dirname, "..");
const EXECUTOR = join(PROJECT_ROOT, "scripts", "execute-notebooks.py");

/** What happened to one notebook. */
export interface NotebookResult {
  notebook: string;
  ok: boolean;
  /** Number of code cells. */
  cells: number;
  seconds: number;
  /** The executed copy (.ipynb), written even when a cell failed. */
  executed: string;
  html: string;
  /** Index (among all cells) of the first failing cell, or null. */
  failedCell: number | null;
  /** The failing cell's error message, or null. */
  message: string | null;
  /** Where the time went (see execute-notebooks.py). */
  timing: NotebookTiming;
}

/** When the kernel was ready and how long each executed code cell took. */
export interface NotebookTiming {
  /** Seconds from the start until the kernel answered (null if it never did). */
  kernelStartSeconds: number | null;
  cells: CellTiming[];
}

/** One executed code cell. */
export interface CellTiming {
  /** Index among all cells (markdown included). */
  index: number;
  seconds: number;
  /**
   * Each output as it arrived: seconds since the cell started, and its kind: `display`,
   * `display:live` (a display later updated in place), `update`, `stream`, `result` or `error`.
   */
  outputs: Array<[number, string]>;
}

/**
 * Writes a notebook of code cells for the seedlab kernel (for probes and tests that need one of their own).
 * @returns the path written.
 */
export function writeCodeNotebook(path: string, cells: string[]): string {
  const notebook = {
    cells: cells.map((source) => ({ cell_type: "code", source, metadata: {}, outputs: [], execution_count: null })),
    metadata: { kernelspec: { name: "seedlab", display_name: "TypeScript (seedlab)", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  writeFileSync(path, JSON.stringify(notebook));
  return path;
}

/** The committed notebooks, in course order. */
export function listNotebooks(folder: string = join(PROJECT_ROOT, "notebooks")): string[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith(".ipynb"))
    .sort()
    .map((name) => join(folder, name));
}

/**
 * Notebooks executed at once by `npm run walkthrough` and the notebook tests, each in its own kernel,
 * all borrowing one local model server that `runNotebooks` starts (see src/local/shared.ts): a kernel
 * spends most of its first cell starting (one core), so running them together keeps both cores of a
 * laptop busy (`npm run bench:walkthrough -- --jobs 1` compares).
 */
export const WALKTHROUGH_JOBS = 3;

/**
 * Executes the notebooks, each in a fresh kernel, up to `jobs` at once.
 * @param options.notebooks paths of the notebooks to run
 * @param options.outputDir where executed copies and HTML go
 * @param options.jobs notebooks executed at once (default `WALKTHROUGH_JOBS`)
 * @param options.env environment of the kernels (default: this process's). Unless it already announces one in
 *   `SEEDLAB_SHARED_SERVER`, one local model server is started for the run (when its settings name the local
 *   backend), lent to the kernels and stopped when they are done.
 * @param options.onResult called as each notebook finishes (with several jobs: in the order they finish)
 * @returns one result per notebook, in the order of `notebooks`; never throws for a failing cell
 * @throws {Error} when no Python has nbclient (with the fix), or the executor itself cannot start
 */
export function runNotebooks({
  notebooks,
  outputDir,
  env = process.env,
  jobs = WALKTHROUGH_JOBS,
  onResult = () => {},
}: {
  notebooks: string[];
  outputDir: string;
  env?: NodeJS.ProcessEnv;
  jobs?: number;
  onResult?: (result: NotebookResult) => void;
}): Promise<NotebookResult[]> {
  return new Promise((resolvePromise, reject) => {
    const python = findPython(EXECUTOR_MODULES, env);
    if (python === null) {
      throw new Error(
        `No Python that imports ${EXECUTOR_MODULES.join(", ")} was found (tried SEEDLAB_PYTHON, python3, python, py -3, the Python of \`jupyter\`). Install Jupyter (\`node scripts/ensure-jupyter.mjs\` says how), or set SEEDLAB_PYTHON to a Python that has them.`,
      );
    }
    // The kernels and the shared server run dist/: build it once here (a no-op when fresh), then the kernels'
    // startup snapshot (a no-op unless Node or the installed packages changed).
    ensureBuild({ root: PROJECT_ROOT });
    ensureKernelSnapshot({ root: PROJECT_ROOT });
    const shared = env[SHARED_SERVER_VARIABLE] ? null : startSharedServer({ owner: ownerName(), env });
    const kernelEnv = shared === null ? env : { ...env, [SHARED_SERVER_VARIABLE]: shared.announcement };
    const child = spawn(
      python.command,
      [...python.args, EXECUTOR, "--jobs", String(jobs), "--output-dir", outputDir, ...notebooks],
      {
        cwd: PROJECT_ROOT,
        env: { ...kernelEnv, PYTHONWARNINGS: "ignore" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const results: NotebookResult[] = [];
    let buffered = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line.startsWith("{")) continue;
        const result = JSON.parse(line) as NotebookResult;
        results.push(result);
        onResult(result);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", (error) => {
      void shared?.close();
      reject(error);
    });
    child.on("close", async () => {
      await shared?.close();
      if (results.length < notebooks.length) {
        reject(
          new Error(
            `The notebook executor stopped after ${results.length} of ${notebooks.length} notebooks:\n${stderr.trim()}`,
          ),
        );
      } else {
        resolvePromise(
          notebooks.map((notebook) => results.find((result) => result.notebook === notebook) as NotebookResult),
        );
      }
    });
  });
}

/** Who starts the shared server, as the kernels show it: the npm script (`npm run walkthrough`), else this file. */
function ownerName(): string {
  const script = process.env.npm_lifecycle_event;
  if (script === undefined) return "scripts/run-notebooks.ts";
  return script === "start" || script === "test" ? `npm ${script}` : `npm run ${script}`;
}
