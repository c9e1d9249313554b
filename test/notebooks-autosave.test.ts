// After using the notebooks in Jupyter, the working copies hold outputs and execution counts
// (autosave) and `.ipynb_checkpoints/` appears. The suite must still check and execute what is
// committed, and `npm run strip-notebooks` must bring a used notebook back to its committed bytes.
// Done in a scratch git repository holding the committed notebooks, with a real autosaved notebook:
// notebook 01 executed by Jupyter (nbclient on the tslab kernel), outputs and all.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import { committedFile, stripNotebook } from "../scripts/notebook-files";
import { PROJECT_ROOT, listNotebooks, runNotebooks, type NotebookResult } from "../scripts/run-notebooks";

interface Cell {
  cell_type: string;
  execution_count?: number | null;
  outputs?: Output[];
}
interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
}

const NAME = "01-reproducible-outputs.ipynb";
const STALE = "stale output from an earlier session";
let scratch: string;
let repo: string;
let committed: string;
let used: NotebookResult;

const git = (...args: string[]): string => execFileSync("git", args, { cwd: repo, encoding: "utf8" });
const codeCells = (text: string): Cell[] =>
  (JSON.parse(text) as { cells: Cell[] }).cells.filter((cell) => cell.cell_type === "code");

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), "seedlab-autosave-"));
  repo = join(scratch, "repo");
  mkdirSync(join(repo, "notebooks"), { recursive: true });
  copyFileSync(join(PROJECT_ROOT, ".gitignore"), join(repo, ".gitignore"));
  // Committed as `npm run strip-notebooks` writes them (Jupyter's layout: sorted keys).
  for (const path of listNotebooks())
    writeFileSync(join(repo, "notebooks", basename(path)), stripNotebook(committedFile(path).text));
  git("init", "-q");
  git("add", ".");
  git("-c", "user.name=seedlab test", "-c", "user.email=test@localhost", "commit", "-qm", "notebooks");
  committed = readFileSync(join(repo, "notebooks", NAME), "utf8");

  // Use notebook 01 as Jupyter does: execute it, and let "autosave" write the result over the working copy.
  const [result] = await runNotebooks({
    notebooks: [join(repo, "notebooks", NAME)],
    outputDir: join(scratch, "executed"),
    env: { ...process.env, SEEDLAB_BACKEND: "local" },
  });
  assert.ok(result?.ok, `notebook 01 runs: ${result?.message}`);
  used = result;
  copyFileSync(used.executed, join(repo, "notebooks", NAME));
  mkdirSync(join(repo, "notebooks", ".ipynb_checkpoints"));
  copyFileSync(
    used.executed,
    join(repo, "notebooks", ".ipynb_checkpoints", NAME.replace(".ipynb", "-checkpoint.ipynb")),
  );
});
after(() => rmSync(scratch, { recursive: true, force: true }));

test("the autosaved working copy has outputs, yet the clean-notebook check reads the committed version", () => {
  const working = readFileSync(join(repo, "notebooks", NAME), "utf8");
  assert.ok(
    codeCells(working).some((cell) => (cell.outputs ?? []).length > 0),
    "the working copy holds outputs",
  );
  for (const path of listNotebooks(join(repo, "notebooks"))) {
    const { text, source } = committedFile(path, repo);
    assert.equal(source, "git");
    for (const cell of codeCells(text)) {
      assert.deepEqual(cell.outputs, [], `${basename(path)}: the committed version has no outputs`);
      assert.equal(cell.execution_count ?? null, null);
    }
  }
});

test("a staged edit is what the check reads", () => {
  const path = join(repo, "notebooks", NAME);
  const edited = JSON.parse(committed) as { metadata: Record<string, unknown> };
  edited.metadata.seedlab_test = "staged";
  writeFileSync(path, JSON.stringify(edited, null, 1) + "\n");
  git("add", path);
  try {
    assert.match(committedFile(path, repo).text, /"seedlab_test": "staged"/);
  } finally {
    git("reset", "-q", path);
    copyFileSync(used.executed, path);
  }
  assert.equal(committedFile(path, repo).text, committed);
});

test(".ipynb_checkpoints/ does not show in git status", () => {
  const status = git("status", "--porcelain", "--untracked-files=all");
  assert.doesNotMatch(status, /ipynb_checkpoints/);
  assert.match(
    status,
    new RegExp(`M notebooks/${NAME.replace(/\./g, "\\.")}`),
    "the autosaved notebook shows as modified",
  );
});

test("an execution starts from outputs stripped: stale outputs of a used notebook never survive", async () => {
  // The used notebook, with a stale stream output added to every code cell, executed again.
  const stale = JSON.parse(readFileSync(used.executed, "utf8")) as { cells: Cell[] };
  for (const cell of stale.cells)
    if (cell.cell_type === "code")
      cell.outputs = [...(cell.outputs ?? []), { output_type: "stream", name: "stdout", text: STALE }];
  const input = join(scratch, "stale", NAME);
  mkdirSync(join(scratch, "stale"));
  writeFileSync(input, JSON.stringify(stale, null, 1));
  const [again] = await runNotebooks({
    notebooks: [input],
    outputDir: join(scratch, "again"),
    env: { ...process.env, SEEDLAB_BACKEND: "local" },
  });
  assert.ok(again?.ok, again?.message ?? "");
  const text = readFileSync(again.executed, "utf8");
  assert.ok(!text.includes(STALE), "no stale output survives");
  assert.deepEqual(
    codeCells(text).map((cell) => cell.execution_count),
    codeCells(text).map((_, index) => index + 1),
    "execution counts start at 1",
  );
});

test("stripping the project's committed notebooks changes their layout and language_info at most, never their cells", () => {
  for (const path of listNotebooks()) {
    const { text } = committedFile(path);
    const original = JSON.parse(text) as { metadata: Record<string, unknown> };
    delete original.metadata.language_info; // the kernel's self-description, rewritten by every save
    assert.deepEqual(JSON.parse(stripNotebook(text)), original, basename(path));
    assert.equal(stripNotebook(stripNotebook(text)), stripNotebook(text), "stripping twice changes nothing");
  }
});

test("npm run strip-notebooks brings the used notebook back to its committed bytes", () => {
  const path = join(repo, "notebooks", NAME);
  assert.equal(stripNotebook(readFileSync(path, "utf8")), committed);
  const result = spawnSync("npm", ["run", "--silent", "strip-notebooks", "--", path], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /cleaned .*01-reproducible-outputs\.ipynb/);
  assert.equal(readFileSync(path, "utf8"), committed);
  assert.equal(git("status", "--porcelain", "--untracked-files=all"), "", "nothing left to commit");
  const twice = spawnSync("npm", ["run", "--silent", "strip-notebooks", "--", path], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  });
  assert.match(twice.stdout, /nothing to strip/);
});
