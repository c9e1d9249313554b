import { test } from "node:test";
import assert from "node:assert/strict";
import { compareRuns } from "../src/analysis/compare-runs";
import {
  escapeHtml,
  renderBatchHtml,
  renderBatchText,
  renderDiffHtml,
  renderDiffText,
  renderRunHtml,
  renderRunText,
  renderVerdict,
} from "../src/render";
import type { Batch } from "../src/core/types";
import { RATE_LIMITED, makeRun, makeRuns } from "./support/runs";

/** The markup without its inline styles and classes, so expectations stay compact. */
const bare = (html: string): string => html.replace(/ (class|style)="[^"]*"/g, "");
const batchOf = (outcomes: Parameters<typeof makeRuns>[0]): Batch => ({
  label: "seed 123, temperature 0",
  runs: makeRuns(outcomes),
  concurrency: 5,
  startedAt: "",
  durationMs: 1,
});

test("word diff as HTML: <del> for removed, <ins> for added, unchanged text as is", () => {
  assert.equal(
    bare(renderDiffHtml("New Value End", "New ValueMoreData End")),
    "New <del>Value</del><ins>ValueMoreData</ins> End",
  );
  assert.equal(bare(renderDiffHtml("same text", "same text")), "same text");
  assert.equal(bare(renderDiffHtml("", "added")), "<ins>added</ins>");
  assert.equal(bare(renderDiffHtml("gone", "")), "<del>gone</del>");
  assert.equal(bare(renderDiffHtml("cat", "cut", { granularity: "character" })), "c<del>a</del><ins>u</ins>t");
});

test("HTML-special characters are escaped before wrapping, in diffs and tables", () => {
  assert.equal(escapeHtml(`<b>"Tom" & 'Jerry'</b>`), "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;");
  assert.equal(bare(renderDiffHtml("a <b> c", "a <i> & c")), "a &lt;<del>b</del><ins>i</ins>&gt; <ins>&amp; </ins>c");
  const table = renderBatchHtml(
    batchOf(["<script>alert(1)</script>", "x & y", { type: "BadRequestError", status: 400, message: "bad <tag>" }]),
  );
  assert.ok(!table.includes("<script>"));
  assert.ok(!table.includes("<tag>"));
  assert.ok(table.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert.ok(table.includes("x &amp; y"));
  const single = renderRunHtml(makeRun(0, "1 < 2 > 0", { fingerprint: "fp_<x>" }));
  assert.ok(single.includes("1 &lt; 2 &gt; 0") && single.includes("fp_&lt;x&gt;") && !single.includes("<x>"));
});

test("diff styles read in light and dark themes: translucent backgrounds, inherited text colour", () => {
  const html = renderDiffHtml("a", "b");
  assert.match(html, /<ins class="seedlab-added" style="background:rgba\([^)]*,0\.\d+\);color:inherit;[^"]*">b<\/ins>/);
  assert.match(
    html,
    /<del class="seedlab-removed" style="background:rgba\([^)]*,0\.\d+\);color:inherit;[^"]*">a<\/del>/,
  );
  const table = renderBatchHtml(batchOf(["a", "b"]));
  assert.ok(!/(^|[^-])color:(#|black|white|rgb\()/.test(table), "no fixed text colour");
});

test("word diff as terminal text: plain markers by default, ANSI colours only when asked", () => {
  assert.equal(renderDiffText("the cat sat", "the dog sat"), "the [-cat-]{+dog+} sat");
  assert.equal(renderDiffText("a", "a"), "a");
  const colored = renderDiffText("the cat sat", "the dog sat", { color: true });
  assert.equal(colored, "the \u001b[31m\u001b[9mcat\u001b[0m\u001b[32mdog\u001b[0m sat");
  assert.ok(!renderBatchText(batchOf(["a b", "a c"])).includes("\u001b["), "no escape codes unless asked");
});

test("verdict line", () => {
  const verdict = (outcomes: Parameters<typeof makeRuns>[0]): string => renderVerdict(compareRuns(makeRuns(outcomes)));
  assert.equal(verdict(["x", "x", "x", "x", "x"]), "5/5 identical · 1 fingerprint · parameters identical");
  assert.equal(
    verdict(["x", "x", "x", "y", "z"]),
    "3/5 identical · 3 distinct outputs · 1 fingerprint · parameters identical",
  );
  assert.equal(verdict(["x", "y", "z"]), "all 3 different · 1 fingerprint · parameters identical");
  assert.equal(
    verdict(["x", "x", RATE_LIMITED, "x", "x"]),
    "4/4 identical · 1 fingerprint · parameters identical · 1 failed",
  );
  assert.equal(verdict([RATE_LIMITED, RATE_LIMITED]), "no successful run · parameters identical · 2 failed");
  assert.equal(verdict(["only"]), "1/1 identical · 1 fingerprint · parameters identical");
  assert.equal(verdict(["x", "x", "y", "y"]), "2 texts, each returned twice · 1 fingerprint · parameters identical");
  assert.equal(verdict(["x", "y", "x", "y", "x", "y"]).split(" · ")[0], "2 texts, each returned 3 times");
  const mixed = [
    makeRun(0, "x", { fingerprint: null }),
    makeRun(1, "x", { fingerprint: "fp_b", parameters: { seed: 1 } }),
  ];
  assert.equal(renderVerdict(compareRuns(mixed)), "2/2 identical · 2 fingerprints · parameters differ: seed");
  assert.equal(
    renderVerdict(compareRuns([makeRun(0, "x", { fingerprint: null })])),
    "1/1 identical · no fingerprint · parameters identical",
  );
});

test("single-response table: response, fingerprint, prompt and completion tokens; null fingerprint shows none", () => {
  assert.equal(
    bare(renderRunHtml(makeRun(0, "Hello there"))),
    "<table><thead><tr><th>Response</th><th>System fingerprint</th><th>Prompt tokens</th><th>Completion tokens</th></tr></thead>" +
      "<tbody><tr><td>Hello there</td><td><code>fp_a</code></td><td>9</td><td>2</td></tr></tbody></table>",
  );
  assert.match(bare(renderRunHtml(makeRun(0, "Hi", { fingerprint: null }))), /<td>none<\/td>/);
  assert.match(
    bare(renderRunHtml(makeRun(0, RATE_LIMITED))),
    /<td><strong>RateLimitError \(HTTP 429\)<\/strong>: 429 Rate limit reached<\/td><td>—<\/td><td>—<\/td><td>—<\/td>/,
  );
});

test("batch table: caption with label and verdict, each run diffed against the reference, errors shown", () => {
  const html = bare(renderBatchHtml(batchOf(["the cat sat", "the cat sat", "the dog sat", RATE_LIMITED])));
  assert.ok(
    html.startsWith(
      "<table><caption>seed 123, temperature 0 — 2/3 identical · 2 distinct outputs · 1 fingerprint · parameters identical · 1 failed</caption>",
    ),
  );
  assert.ok(
    html.includes(
      "<th>Run</th><th>Response</th><th>System fingerprint</th><th>Prompt tokens</th><th>Completion tokens</th><th>Difference from run 0</th>",
    ),
  );
  const rows = html.split("<tr>").slice(2);
  assert.equal(
    rows[0],
    "<td>0</td><td>the cat sat</td><td><code>fp_a</code></td><td>9</td><td>3</td><td>reference</td></tr>",
  );
  assert.equal(
    rows[1],
    "<td>1</td><td>the cat sat</td><td><code>fp_a</code></td><td>9</td><td>3</td><td>identical</td></tr>",
  );
  assert.equal(
    rows[2],
    "<td>2</td><td>the dog sat</td><td><code>fp_a</code></td><td>9</td><td>3</td><td><span>the <del>cat</del><ins>dog</ins> sat</span></td></tr>",
  );
  assert.equal(
    rows[3],
    "<td>3</td><td><strong>RateLimitError (HTTP 429)</strong>: 429 Rate limit reached</td><td>—</td><td>—</td><td>—</td><td>—</td></tr></tbody></table>",
  );
});

test("batch table edge cases: failed reference falls back to the first success, chosen reference, empty output", () => {
  const html = bare(renderBatchHtml(batchOf([RATE_LIMITED, "", "b"])));
  assert.ok(html.includes("<th>Difference from run 1</th>"));
  assert.ok(
    html.includes(
      "<td>2</td><td>b</td><td><code>fp_a</code></td><td>9</td><td>1</td><td><span><ins>b</ins></span></td>",
    ),
  );
  const chosen = bare(renderBatchHtml(makeRuns(["a", "b"]), { referenceIndex: 1, caption: "" }));
  assert.ok(chosen.startsWith("<table><thead>"), "no caption when caption is empty");
  assert.ok(
    chosen.includes(
      "<td>0</td><td>a</td><td><code>fp_a</code></td><td>9</td><td>1</td><td><span><del>b</del><ins>a</ins></span></td>",
    ),
  );
  const allFailed = bare(renderBatchHtml(makeRuns([RATE_LIMITED])));
  assert.ok(allFailed.includes("<th>Difference</th>"));
});

test("very long outputs are kept whole and wrap (pre-wrap), in HTML and text", () => {
  const long = Array.from({ length: 3000 }, (_, i) => `word${i}`).join(" ");
  const changed = long.replace("word1500", "changed");
  const html = renderBatchHtml(batchOf([long, changed]));
  assert.ok(html.includes(long));
  assert.ok(html.includes("white-space:pre-wrap"));
  assert.ok(bare(html).includes("word1499 <del>word1500</del><ins>changed</ins> word1501"));
  assert.ok(renderBatchText(batchOf([long, changed])).includes("word1499 [-word1500-]{+changed+} word1501"));
});

test("text table and single response for terminals", () => {
  assert.equal(
    renderBatchText(
      batchOf(["the cat sat\non the mat", "the cat sat\non the mat", "the dog sat\non the mat", RATE_LIMITED]),
      { color: false },
    ),
    [
      "seed 123, temperature 0 — 2/3 identical · 2 distinct outputs · 1 fingerprint · parameters identical · 1 failed",
      "#0  fingerprint fp_a · prompt tokens 9 · completion tokens 5",
      "    the cat sat",
      "    on the mat",
      "#1  fingerprint fp_a · prompt tokens 9 · completion tokens 5",
      "    (identical to run #0)",
      "#2  fingerprint fp_a · prompt tokens 9 · completion tokens 5",
      "    the [-cat-]{+dog+} sat",
      "    on the mat",
      "#3  fingerprint — · prompt tokens — · completion tokens —",
      "    FAILED RateLimitError (HTTP 429): 429 Rate limit reached",
    ].join("\n"),
  );
  assert.equal(
    renderRunText(makeRun(0, "Hi", { fingerprint: null })),
    "fingerprint none · prompt tokens 9 · completion tokens 1\n    Hi",
  );
});
