// The notebooks, executed for real: Jupyter (Debian's nbclient) runs every committed notebook on the
// tslab kernel against the local model, as `npm run walkthrough` does. A recognisable fake API key is
// set (with SEEDLAB_BACKEND=local, so no request goes to OpenAI) and searched for in every output.
// The assertions read what a user sees: the tables' captions, the diff markup, the check rows.
// What runs and what is checked is the committed (or staged) version of each notebook, read with git,
// whatever a Jupyter session autosaved into the working copy.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import { randomBytes } from "node:crypto";
import { committedFile } from "../scripts/notebook-files";
import { listNotebooks, runNotebooks, type NotebookResult } from "../scripts/run-notebooks";

interface NotebookCell {
  cell_type: string;
  source: string | string[];
  execution_count?: number | null;
  outputs?: Array<{
    output_type: string;
    name?: string;
    text?: string | string[];
    data?: Record<string, string | string[]>;
  }>;
}
interface Notebook {
  cells: NotebookCell[];
}

const FAKE_KEY = `sk-seedlab-notebook-test-${randomBytes(12).toString("hex")}`;
const joined = (value: string | string[] | undefined): string =>
  Array.isArray(value) ? value.join("") : (value ?? "");
const readNotebook = (path: string): Notebook => JSON.parse(readFileSync(path, "utf8")) as Notebook;
const committedNotebook = (path: string): Notebook => JSON.parse(committedFile(path).text) as Notebook;

let outputDir: string;
const results = new Map<string, NotebookResult>();

before(async () => {
  outputDir = mkdtempSync(join(tmpdir(), "seedlab-notebooks-"));
  const env: NodeJS.ProcessEnv = { ...process.env, OPENAI_API_KEY: FAKE_KEY, SEEDLAB_BACKEND: "local" };
  delete env.OPENAI_BASE_URL;
  const inputDir = join(outputDir, "committed");
  mkdirSync(inputDir);
  const notebooks = listNotebooks().map((path) => {
    const input = join(inputDir, basename(path));
    writeFileSync(input, committedFile(path).text);
    return input;
  });
  // Said on stderr so `npm test` is not silent while the notebooks run (they are only asserted once all are done).
  process.stderr.write(`Executing ${notebooks.length} notebooks on the tslab kernel...\n`);
  const onResult = (result: NotebookResult): void =>
    void process.stderr.write(
      `  ${basename(result.notebook)}: ${result.ok ? "ran" : "FAILED"} in ${result.seconds} s\n`,
    );
  for (const result of await runNotebooks({ notebooks, outputDir, env, onResult }))
    results.set(basename(result.notebook), result);
});
after(() => rmSync(outputDir, { recursive: true, force: true }));

/** Every HTML output of an executed notebook, in order. */
function htmlOutputs(name: string): string[] {
  const result = results.get(name);
  assert.ok(result, `${name} was executed`);
  return readNotebook(result.executed).cells.flatMap((cell) =>
    (cell.outputs ?? []).map((output) => joined(output.data?.["text/html"])).filter((html) => html !== ""),
  );
}

/** The HTML outputs whose caption starts with `prefix`, and their captions. */
function tablesCaptioned(name: string, prefix: string): Array<{ html: string; caption: string }> {
  return htmlOutputs(name)
    .flatMap((html) =>
      [...html.matchAll(/<table class="seedlab-table[^"]*"[\s\S]*?<\/table>/g)].map((match) => match[0]),
    )
    .map((html) => ({ html, caption: /<caption[^>]*>([\s\S]*?)<\/caption>/.exec(html)?.[1] ?? "" }))
    .filter((table) => table.caption.startsWith(prefix));
}

test("the committed notebooks carry no outputs and no execution counts, and open and close as a course", () => {
  const notebooks = listNotebooks();
  assert.ok(notebooks.length >= 2);
  for (const path of notebooks) {
    const notebook = committedNotebook(path);
    for (const cell of notebook.cells.filter((cell) => cell.cell_type === "code")) {
      assert.deepEqual(cell.outputs, [], `${basename(path)}: a code cell has outputs`);
      assert.equal(cell.execution_count ?? null, null, `${basename(path)}: a code cell has an execution count`);
    }
    const markdown = notebook.cells.filter((cell) => cell.cell_type === "markdown").map((cell) => joined(cell.source));
    assert.match(markdown[0] ?? "", /\*\*What you will learn:\*\*/, `${basename(path)} opens with what it teaches`);
    assert.match(markdown[0] ?? "", /\*\*Time:\*\*/, `${basename(path)} says how long it takes`);
    assert.match(markdown.at(-1) ?? "", /^## Takeaway/m, `${basename(path)} ends with the takeaway`);
  }
});

test("every notebook runs through Jupyter on the tslab kernel without a failing cell", () => {
  assert.equal(results.size, listNotebooks().length);
  for (const [name, result] of results) {
    assert.ok(result.ok, `${name}: cell ${result.failedCell} failed: ${result.message}`);
    const title = /<title>([^<]*)<\/title>/.exec(readFileSync(result.html, "utf8"))?.[1];
    assert.equal(title, name.replace(/\.ipynb$/, ""), "the HTML export is titled with the notebook's name");
  }
});

test("the fake API key appears nowhere in the executed notebooks or their HTML exports; the settings say it is set", () => {
  for (const [name, result] of results) {
    for (const path of [result.executed, result.html]) {
      const text = readFileSync(path, "utf8");
      assert.ok(!text.includes(FAKE_KEY), `${name}: the key is in ${path}`);
      assert.ok(!text.includes(FAKE_KEY.slice(0, 24)), `${name}: part of the key is in ${path}`);
    }
  }
  const settings = tablesCaptioned("01-reproducible-outputs.ipynb", "Backend: local");
  assert.equal(settings.length, 1);
  assert.match(settings[0]?.html ?? "", /<code>OPENAI_API_KEY<\/code><\/td><td[^>]*>set<\/td>/);
});

test("notebook 01: the guide's tables, unseeded outputs vary with inline diffs, seeded 5/5 identical, checks pass", () => {
  const name = "01-reproducible-outputs.ipynb";
  const single = htmlOutputs(name).filter((html) => html.includes("seedlab-run"));
  assert.equal(single.length, 1, "step 2 shows one response as the guide's table");
  for (const column of ["Response", "System fingerprint", "Prompt tokens", "Completion tokens"])
    assert.ok(single[0]?.includes(`>${column}</th>`), column);

  const [unseeded] = tablesCaptioned(name, "no seed, temperature 0.7 — ");
  assert.ok(unseeded, "the unseeded batch table");
  const distinct = Number(
    /(?:all (\d+) different|(\d+) distinct outputs)/.exec(unseeded.caption)?.slice(1).find(Boolean) ?? 1,
  );
  assert.ok(distinct > 1, `unseeded batch: ${unseeded.caption}`);
  assert.match(
    unseeded.html,
    /<(ins|del) class="seedlab-(added|removed)"/,
    "the unseeded table shows word diffs inline",
  );

  const [seeded] = tablesCaptioned(name, "seed 123, temperature 0 — ");
  assert.ok(seeded, "the seeded batch table");
  assert.match(seeded.caption, /^seed 123, temperature 0 — 5\/5 identical · 1 fingerprint · parameters identical$/);

  const checks = tablesCaptioned(name, "Verification: ");
  assert.equal(checks.length, 2, "step 5 verifies the seeded batch, then the unseeded one");
  assert.equal(checks[0]?.caption, "Verification: 3/3 checks pass");
  for (const check of ["content", "fingerprint", "parameters"]) {
    assert.match(
      checks[0]?.html ?? "",
      new RegExp(`✔ pass</span></td><td[^>]*>${check}</td>`),
      `seeded ${check} check passes`,
    );
  }
  assert.match(checks[1]?.html ?? "", /✘ fail<\/span><\/td><td[^>]*>content<\/td>/, "the unseeded content check fails");
  assert.match(
    checks[1]?.html ?? "",
    /✔ pass<\/span><\/td><td[^>]*>parameters<\/td>/,
    "the unseeded parameters are identical",
  );

  const neighbour = htmlOutputs(name)
    .join("\n")
    .match(
      /Compare with your neighbour:<\/b> seed 123 at temperature 0 → text <code>[0-9a-f]{6}<\/code> · seed 1 at temperature 0\.7 → text <code>[0-9a-f]{6}<\/code> · fingerprint <code>(fp_[0-9a-f]{12})<\/code>/,
    );
  assert.ok(neighbour, "step 5 ends with the line to compare with a neighbour");
  assert.ok(seeded.html.includes(neighbour[1]!), "the neighbour line names the seeded batch's fingerprint");
});

test("notebook 02: changing one parameter changes the seeded output; another fingerprint changes some seeded texts", () => {
  const name = "02-considerations.ipynb";
  const variantTable = tablesCaptioned(name, "").find((table) => table.html.includes("seedlab-variants"));
  assert.ok(variantTable, "the variants table");
  const verdicts = [...variantTable.html.matchAll(/<tr[^>]*><td[^>]*>([^<]*)<\/td><td[^>]*>([^<]*)<\/td>/g)].map(
    (match) => [match[1], match[2]],
  );
  const verdictOf = (label: string): string | undefined =>
    verdicts.find(([rowLabel]) => rowLabel?.startsWith(label))?.[1];
  assert.equal(verdictOf("the baseline again"), "identical", "the control repeats the baseline");
  for (const label of ["max_tokens", "top_p", "temperature", "seed", "prompt"]) {
    assert.match(verdictOf(label) ?? "", /^differs/, `changing ${label} changes the output`);
  }
  assert.match(variantTable.html, /<(ins|del) class="seedlab-(added|removed)"/);

  // Attention in float32 and in float16, as a server running another engine build would compute it.
  const [change] = tablesCaptioned(name, "float32 attention ");
  assert.ok(change, "the fingerprint-change table");
  assert.match(change.caption, /^float32 attention → float16 attention: /);
  const fingerprints = /fingerprint (fp_[0-9a-f]+) → (fp_[0-9a-f]+)/.exec(change.caption);
  assert.ok(fingerprints && fingerprints[1] !== fingerprints[2], `two fingerprints: ${change.caption}`);
  const changed = Number(/(\d+) of 20 texts changed/.exec(change.caption)?.[1] ?? 0);
  assert.ok(changed > 0 && changed < 20, `some seeded texts change with the fingerprint: ${change.caption}`);
  assert.match(change.html, /<(ins|del) class="seedlab-(added|removed)"/);
});

test("notebook 03: the report (seeded TARr 1, unseeded below 1), the heatmap, divergences with alternatives, two fingerprints, the sweep, saved runs", () => {
  const name = "03-measuring-reproducibility.ipynb";
  const html = htmlOutputs(name).join("\n");
  const reports = tablesCaptioned(name, "TARr@");
  const seededReport = /^TARr@5 = (\d+)\/(\d+) /.exec(reports[0]?.caption ?? "");
  assert.ok(
    seededReport && seededReport[1] === seededReport[2],
    `the seeded suite is fully reproduced: ${reports[0]?.caption}`,
  );
  const unseededReport = /^TARr@5 = (\d+)\/(\d+) /.exec(reports[1]?.caption ?? "");
  assert.ok(
    unseededReport && Number(unseededReport[1]) < Number(unseededReport[2]),
    `the unseeded suite is not: ${reports[1]?.caption}`,
  );
  assert.match(reports[0]?.html ?? "", /seedlab-report/);

  assert.match(html, /<svg class="seedlab-heatmap"[^>]*>[\s\S]*<\/svg>/, "the similarity heatmap is inline SVG");
  const divergence = /<div class="seedlab-divergence"[\s\S]*?<\/table>/.exec(html)?.[0] ?? "";
  assert.match(divergence, /positions counted in tokens/);
  assert.match(divergence, /Alternatives in the reference/);
  assert.ok((divergence.match(/\d+(\.\d+)?%/g) ?? []).length >= 4, "alternatives come with their probabilities");
  assert.match(html, /<div class="seedlab-margins"/);
  assert.match(html, /<div class="seedlab-sweep"/);

  const result = results.get(name);
  assert.ok(result);
  const markdownOutputs = readNotebook(result.executed).cells.flatMap((cell) =>
    (cell.outputs ?? []).map((output) => joined(output.data?.["text/markdown"])),
  );
  const flips = markdownOutputs
    .map((text) => /^(\d+) of (\d+) seeds give another text on float16 attention/.exec(text))
    .find((match) => match !== null);
  assert.ok(flips && Number(flips[1]) > 0, "another fingerprint changes some seeded texts");

  const [saved] = tablesCaptioned(name, "saved → again: ");
  assert.ok(saved, "a saved batch compared with a new run");
  assert.match(saved.caption, /same fingerprint \(fp_[0-9a-f]+\); 0 of \d+ texts changed/);
});

// A cell that sends a request or a batch or starts a server can take more than 2 s (one request to OpenAI can):
// it must show a live display (what is running, n of N) before anything else, updated in place, and end it done.
const LONG_CELL =
  /\b(openBackend\w*|getChatResponse|runBatch|runRequests|runSuite|runSweep|runVariants|runOnTwoConfigurations)\(/;

test("every long cell shows a live progress display first, updated in place, before its result", () => {
  let long = 0;
  for (const [name, result] of results) {
    const executed = readNotebook(result.executed);
    for (const timing of result.timing.cells) {
      const cell = executed.cells[timing.index];
      if (cell === undefined || !LONG_CELL.test(joined(cell.source))) continue;
      long += 1;
      const where = `${name} cell ${timing.index} (${joined(cell.source).split("\n")[0]})`;
      const kinds = timing.outputs.map(([, kind]) => kind);
      assert.equal(
        kinds[0],
        "display:live",
        `${where}: its first output is a display later updated in place, got ${kinds.join(", ")}`,
      );
      assert.ok(kinds.indexOf("update") > 0, `${where}: the progress display is updated`);
      const progress = (cell.outputs ?? [])
        .map((output) => joined(output.data?.["text/html"]))
        .find((html) => html.includes("seedlab-progress"));
      assert.ok(progress, `${where}: the progress display stays in the output`);
      assert.match(progress, /data-state="done"/, `${where}: the progress display ends done: ${progress}`);
    }
  }
  assert.ok(long >= 10, `the long cells were found (${long})`);
});

test("each Set-up cell says it connects to the shared local model server, then which server and how long it took", () => {
  for (const [name, result] of results) {
    const cells = readNotebook(result.executed).cells;
    const setUp = cells.find(
      (cell) => cell.cell_type === "code" && /openBackendWithProgress\(/.test(joined(cell.source)),
    );
    assert.ok(setUp, `${name} has a Set-up cell`);
    const html = (setUp.outputs ?? []).map((output) => joined(output.data?.["text/html"])).join("\n");
    assert.match(
      html,
      // runNotebooks lends its kernels one server (src/local/shared.ts): no kernel starts its own.
      /Local model stories260K · server: shared, started by [^·<]+ · opened in \d+\.\d s · http:\/\/127\.0\.0\.1:\d+\/v1/,
      `${name}: ${html.slice(0, 300)}`,
    );
    const first = result.timing.cells.find((timing) => timing.index === cells.indexOf(setUp));
    assert.equal(first?.outputs[0]?.[1], "display:live", `${name}: "connecting" shows first, then is replaced`);
  }
});
