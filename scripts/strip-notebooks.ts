/**
 * `npm run strip-notebooks [FILE.ipynb...]`: removes outputs, execution counts, run timings and the
 * kernel's `language_info` (see `stripNotebook`) from the notebooks (default: every notebook in notebooks/), in place, and writes them in Jupyter's own
 * layout, so an edit made in Jupyter can be committed. Prints each notebook it changed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { stripNotebook } from "./notebook-files";
import { PROJECT_ROOT, listNotebooks } from "./run-notebooks";

function main(): void {
  const files = process.argv.length > 2 ? process.argv.slice(2) : listNotebooks();
  let changed = 0;
  for (const file of files) {
    if (!file.endsWith(".ipynb"))
      throw new Error(
        `Expected notebook files (.ipynb), got "${file}". Run it without arguments to strip every notebook in notebooks/.`,
      );
    const before = readFileSync(file, "utf8");
    const after = stripNotebook(before);
    if (after === before) continue;
    writeFileSync(file, after);
    changed += 1;
    console.log(`cleaned ${relative(PROJECT_ROOT, file) || file}`);
  }
  console.log(
    changed === 0
      ? "The notebooks carry no outputs: nothing to strip."
      : `${changed} notebook(s) cleaned: no outputs, no execution counts.`,
  );
}

try {
  main();
} catch (error) {
  console.error(`seedlab strip-notebooks: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
