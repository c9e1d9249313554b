/**
 * `npm run walkthrough [-- notebooks/02-....ipynb]`: executes every notebook (or the ones named),
 * several at once (`WALKTHROUGH_JOBS`), headless, through Jupyter on the tslab kernel; writes executed copies and HTML
 * exports into out/; prints a line per notebook; exits 1 if any cell failed.
 */
import { join, relative } from "node:path";
import { ensureJupyter } from "./ensure-jupyter.mjs";
import { listNotebooks, PROJECT_ROOT, runNotebooks, WALKTHROUGH_JOBS } from "./run-notebooks";

async function main(): Promise<number> {
  ensureJupyter({ need: "executor" });
  const named = process.argv.slice(2);
  const notebooks = named.length > 0 ? named : listNotebooks();
  const outputDir = join(PROJECT_ROOT, "out");
  const jobs = Math.min(WALKTHROUGH_JOBS, notebooks.length);
  const width = Math.max(...notebooks.map((notebook) => relative(PROJECT_ROOT, notebook).length));
  console.log(
    `Executing ${notebooks.length === 1 ? "1 notebook" : `${notebooks.length} notebooks`} on the tslab kernel, ${jobs} at once, into ${relative(process.cwd(), outputDir) || "."}/ ...`,
  );
  const results = await runNotebooks({
    notebooks,
    outputDir,
    jobs,
    onResult: (result) => {
      const name = relative(PROJECT_ROOT, result.notebook);
      if (result.ok) {
        console.log(
          `ok    ${name.padEnd(width)}  ${String(result.cells).padStart(2)} code cells  ${result.seconds.toFixed(1).padStart(5)} s  → ${relative(process.cwd(), result.html)}`,
        );
      } else {
        console.log(
          `FAIL  ${name}  cell ${(result.failedCell ?? 0) + 1} (counting markdown cells) failed after ${result.seconds} s: ${result.message}`,
        );
        console.log(`      partial output: ${relative(process.cwd(), result.executed)}`);
      }
    },
  });
  const failed = results.filter((result) => !result.ok).length;
  console.log(
    failed === 0
      ? results.length === 1
        ? "The notebook ran."
        : `All ${results.length} notebooks ran.`
      : `${failed} of ${results.length} ${results.length === 1 ? "notebook" : "notebooks"} failed.`,
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`seedlab walkthrough: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
