/**
 * The committed notebooks, whatever Jupyter autosaved into the working copy: the tests read the
 * staged version (`git show :notebooks/NAME.ipynb`, which is the committed one when nothing is
 * staged) and execute it with its outputs stripped. `npm run strip-notebooks` strips the working
 * copies, for people who want to commit an edit.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { PROJECT_ROOT } from "./run-notebooks";

interface NotebookJson {
  metadata?: Record<string, unknown>;
  cells?: Array<{
    cell_type?: string;
    outputs?: unknown[];
    execution_count?: number | null;
    metadata?: Record<string, unknown>;
  }>;
}

/** `value` with every object's keys sorted, as Jupyter's nbformat writes notebooks. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

/**
 * A notebook without outputs, execution counts, the run timings some front ends record (cells'
 * `metadata.execution`) or the kernel's self-description (`metadata.language_info`, which Jupyter
 * rewrites from the running kernel on every save: tslab reports version 3.7.2 whatever it runs),
 * written as Jupyter writes it (keys sorted, one-space indent, final newline), so a notebook saved
 * by Jupyter and stripped has no diff beyond real edits.
 * @param text The notebook's JSON.
 * @returns The stripped notebook's JSON.
 * @throws {Error} When `text` is not a notebook (no `cells` array).
 */
export function stripNotebook(text: string): string {
  const notebook = JSON.parse(text) as NotebookJson;
  if (!Array.isArray(notebook.cells))
    throw new Error("Expected a Jupyter notebook (JSON with a `cells` array), got something else.");
  if (notebook.metadata !== undefined) delete notebook.metadata.language_info;
  for (const cell of notebook.cells) {
    if (cell.metadata !== undefined) delete cell.metadata.execution;
    if (cell.cell_type !== "code") continue;
    cell.outputs = [];
    cell.execution_count = null;
  }
  return JSON.stringify(sortKeys(notebook), null, 1) + "\n";
}

/**
 * The staged version of a file of the repository (the committed one when nothing is staged), or the
 * working copy when `root` is not a git checkout or the file is not tracked.
 * @param path The file's path.
 * @param root The repository root. Default: this project.
 * @returns The file's text and where it came from.
 */
export function committedFile(
  path: string,
  root: string = PROJECT_ROOT,
): { text: string; source: "git" | "working copy" } {
  const name = relative(root, path).split("\\").join("/");
  try {
    const text = execFileSync("git", ["show", `:${name}`], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      maxBuffer: 64 * 1024 * 1024,
    });
    return { text, source: "git" };
  } catch {
    return { text: readFileSync(path, "utf8"), source: "working copy" };
  }
}
