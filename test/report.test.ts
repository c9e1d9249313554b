// The reproducibility report, the sweep summary and their renderers on synthetic records (the texts
// are test data, not model output): edge cases the real model will not produce on demand.
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import type { Batch, ChatRun } from "../src/core/types";
import { buildReport, runSuite } from "../src/analysis/report";
import { runSweep, summarizeSweep } from "../src/analysis/sweep";
import { compareRuns } from "../src/analysis/compare-runs";
import { InvalidParameterError } from "../src/core/validate";
import { renderHeatmapSvg, renderReportHtml, renderSweepHtml } from "../src/render/index";
import { RATE_LIMITED, makeRun, makeRuns } from "./support/runs";

const batchOf = (label: string, runs: ChatRun[]): Batch => ({
  label,
  runs,
  concurrency: 5,
  startedAt: "2025-01-01T00:00:00.000Z",
  durationMs: 1,
});

test("TARr@N counts prompts whose N outputs are all the same string; similarity and counts per prompt", () => {
  const report = buildReport({
    batches: [
      batchOf("same", makeRuns(["a b c", "a b c", "a b c"])),
      batchOf("two texts", makeRuns(["a b c", "a b d", "a b c"])),
      batchOf("whitespace", makeRuns(["a b", "a  b", "a b"])),
    ],
  });
  assert.equal(report.runsPerPrompt, 3);
  assert.equal(report.identicalPrompts, 1);
  assert.equal(report.tarr, 1 / 3);
  const [same, two, whitespace] = report.prompts;
  assert.equal(same?.allIdentical, true);
  assert.equal(same?.mostCommonShare, 1);
  assert.equal(same?.similarity.minimum, 1);
  assert.equal(two?.allIdentical, false);
  assert.deepEqual(
    two?.distinctOutputs.map((output) => [output.content, output.count]),
    [
      ["a b c", 2],
      ["a b d", 1],
    ],
  );
  assert.equal(two?.mostCommonShare, 2 / 3);
  assert.ok((two?.similarity.minimum ?? 1) < 1 && (two?.similarity.minimum ?? 0) > 0);
  assert.ok(
    (two?.similarity.mean ?? 0) > (two?.similarity.minimum ?? 1),
    "one identical pair lifts the mean above the minimum",
  );
  // String identity, not word similarity: an extra space makes a different output, though its words are identical.
  assert.equal(whitespace?.allIdentical, false);
  assert.equal(whitespace?.similarity.minimum, 1);
});

test("all identical, all different, one run, empty outputs", () => {
  const report = buildReport({
    batches: [
      batchOf("all different", makeRuns(["one", "two", "three", "four"])),
      batchOf("one run", makeRuns(["alone"])),
      batchOf("empty", makeRuns(["", "", ""])),
      batchOf("empty and not", makeRuns(["", "x"])),
    ],
  });
  const [different, one, empty, mixed] = report.prompts;
  assert.equal(different?.distinctOutputs.length, 4);
  assert.equal(different?.mostCommonShare, 0.25);
  assert.equal(different?.similarity.minimum, 0);
  assert.equal(one?.allIdentical, true, "one run agrees with itself");
  assert.equal(one?.similarity.mean, null);
  assert.equal(empty?.allIdentical, true, "empty texts are outputs too");
  assert.equal(empty?.similarity.mean, 1);
  assert.equal(mixed?.allIdentical, false);
  assert.equal(mixed?.similarity.minimum, 0);
  assert.equal(report.runsPerPrompt, null, "the prompts had different numbers of runs");
  assert.equal(report.tarr, 0.5);
});

test("failed runs: counted, left out of the texts, and a prompt with a failure does not count for TARr", () => {
  const report = buildReport({
    batches: [
      batchOf("p", makeRuns(["a", RATE_LIMITED, "a"])),
      batchOf("all failed", makeRuns([RATE_LIMITED, RATE_LIMITED])),
    ],
  });
  const [partial, allFailed] = report.prompts;
  assert.equal(partial?.succeeded, 2);
  assert.equal(partial?.failed, 1);
  assert.equal(partial?.distinctOutputs.length, 1);
  assert.equal(partial?.allIdentical, false);
  assert.equal(partial?.mostCommonShare, 1);
  assert.equal(allFailed?.distinctOutputs.length, 0);
  assert.equal(allFailed?.fingerprints.length, 0);
  assert.equal(allFailed?.allIdentical, false);
  assert.equal(report.failedRuns, 3);
  assert.equal(report.totalRuns, 5);
  assert.equal(report.tarr, 0);
  const html = renderReportHtml(report);
  assert.match(html, /3 of 5 runs failed/);
  assert.match(html, /\+1 failed/);
});

test("differs within one fingerprint vs only between fingerprints", () => {
  const between = [
    makeRun(0, "x", { fingerprint: "fp_a" }),
    makeRun(1, "x", { fingerprint: "fp_a" }),
    makeRun(2, "y", { fingerprint: "fp_b" }),
    makeRun(3, "y", { fingerprint: "fp_b" }),
  ];
  const within = [
    makeRun(0, "x", { fingerprint: "fp_a" }),
    makeRun(1, "y", { fingerprint: "fp_a" }),
    makeRun(2, "x", { fingerprint: null }),
  ];
  const agreeing = [makeRun(0, "x", { fingerprint: "fp_a" }), makeRun(1, "x", { fingerprint: "fp_b" })];
  const report = buildReport({
    batches: [batchOf("between", between), batchOf("within", within), batchOf("agreeing", agreeing)],
  });
  const [onlyBetween, alsoWithin, agree] = report.prompts;
  assert.equal(onlyBetween?.differsWithinFingerprint, false);
  assert.equal(onlyBetween?.differsBetweenFingerprints, true);
  assert.deepEqual(
    onlyBetween?.fingerprints.map((group) => [group.fingerprint, group.count, group.distinctOutputs]),
    [
      ["fp_a", 2, 1],
      ["fp_b", 2, 1],
    ],
  );
  assert.equal(alsoWithin?.differsWithinFingerprint, true);
  assert.deepEqual(
    alsoWithin?.fingerprints.map((group) => [group.fingerprint, group.distinctOutputs]),
    [
      ["fp_a", 2],
      [null, 1],
    ],
  );
  assert.equal(agree?.differsWithinFingerprint, false);
  assert.equal(agree?.differsBetweenFingerprints, false, "two fingerprints, one text");
  assert.equal(report.differsWithinFingerprint, true);
  const html = renderReportHtml(report);
  assert.match(html, /<code>none<\/code> × 1 → 1 text/);
  assert.match(html, /texts differ within one fingerprint/);
});

test("prompts whose runs sent different parameters are named", () => {
  const runs = [makeRun(0, "x"), makeRun(1, "y", { parameters: { seed: 7 } })];
  const report = buildReport({ batches: [batchOf("mixed seeds", runs)] });
  assert.deepEqual(report.promptsWithDifferingParameters, ["mixed seeds"]);
  assert.deepEqual(report.prompts[0]?.differingParameters, ["seed"]);
  assert.match(renderReportHtml(report), /differ: seed/);
});

test("bad input to buildReport and runSuite fails before any request, naming the parameter", async () => {
  assert.throws(
    () => buildReport({ batches: [] }),
    (error: unknown) =>
      error instanceof InvalidParameterError && error.parameter === "batches" && /`batches`/.test(error.message),
  );
  assert.throws(
    () => buildReport({ batches: [batchOf("empty", [])] }),
    (error: unknown) => error instanceof InvalidParameterError && error.parameter === "batches[0]",
  );
  // A client whose every request would fail loudly: none must be sent.
  let requests = 0;
  const client = new OpenAI({
    apiKey: "test",
    baseURL: "http://127.0.0.1:9/v1",
    maxRetries: 0,
    fetch: async () => {
      requests += 1;
      throw new Error("no request expected");
    },
  });
  await assert.rejects(
    runSuite({ client, prompts: [] }),
    (error: unknown) => error instanceof InvalidParameterError && error.parameter === "prompts",
  );
  await assert.rejects(
    runSuite({
      client,
      prompts: [{ request: { model: "m", user: "ok" } }, { request: { model: "m", user: "bad", temperature: 3 } }],
    }),
    (error: unknown) => error instanceof InvalidParameterError && error.parameter === "temperature",
    "the second prompt's bad temperature is caught before the first prompt is sent",
  );
  await assert.rejects(
    runSuite({ client, prompts: [{ request: { model: "m", user: "ok" } }], runs: 0 }),
    (error: unknown) => error instanceof InvalidParameterError && error.parameter === "runs",
  );
  await assert.rejects(
    runSweep({ client, request: { model: "m", user: "ok" }, seeds: [1, 1], temperatures: [0] }),
    (error: unknown) => error instanceof InvalidParameterError && error.parameter === "seeds",
  );
  await assert.rejects(
    runSweep({ client, request: { model: "m", user: "ok" }, seeds: [1], temperatures: [0, 2.5] }),
    (error: unknown) => error instanceof InvalidParameterError && error.parameter === "temperatures[1]",
  );
  await assert.rejects(
    runSweep({ client, request: { model: "m", user: "ok" }, seeds: [], temperatures: [0] }),
    (error: unknown) => error instanceof InvalidParameterError && error.parameter === "seeds",
  );
  assert.equal(requests, 0);
});

test("report HTML escapes labels and fingerprints", () => {
  const runs = [
    makeRun(0, "<b>x</b>", { fingerprint: "fp_<script>" }),
    makeRun(1, "y & z", { fingerprint: "fp_<script>" }),
  ];
  const html = renderReportHtml(buildReport({ batches: [batchOf(`"Mars" <news> & 'more'`, runs)] }));
  assert.match(html, /^<table class="seedlab-table seedlab-report"/);
  assert.ok(!html.includes("<script>") && !html.includes("<news>") && !html.includes("<b>"));
  assert.ok(html.includes("&quot;Mars&quot; &lt;news&gt; &amp; &#39;more&#39;"));
  assert.ok(html.includes("fp_&lt;script&gt;"));
});

test("heatmap: one cell per pair of successful runs, values from compareRuns, labels escaped", () => {
  const comparison = compareRuns(makeRuns(["a b c d", "a b c d", RATE_LIMITED, "w x y z"]));
  const svg = renderHeatmapSvg(comparison, { labels: { 0: 'seed <1> & "fp"' }, title: "T <x>" });
  assert.match(svg, /^<svg class="seedlab-heatmap"/);
  assert.equal(
    (svg.match(/<rect [^>]*fill-opacity="[^"]*" stroke="rgba\(128,128,128,0\.35\)"><title>/g) ?? []).length,
    9,
    "3 successful runs: 3 × 3 cells",
  );
  assert.ok(svg.includes("seed &lt;1&gt; &amp; &quot;fp&quot; vs run 1: similarity 1.000"));
  assert.ok(svg.includes("run 0") === false, "the custom label replaces run 0's default");
  assert.ok(svg.includes("run 3 vs run 1: similarity 0.000"));
  assert.ok(svg.includes("T &lt;x&gt;") && !svg.includes("<x>"));
  assert.ok(!svg.includes("run 2"), "the failed run has no row");
  // Colours: more similar = more opaque; text uses the theme's colour.
  assert.ok(svg.includes('fill="currentColor"'));
  const empty = renderHeatmapSvg(compareRuns(makeRuns([RATE_LIMITED])));
  assert.match(empty, /no successful run/);
});

function sweepRun(index: number, seed: number, temperature: number, content: string | typeof RATE_LIMITED): ChatRun {
  return makeRun(index, content, { parameters: { seed, temperature } });
}

test("sweep: one text for every seed at temperature 0 collapses; higher temperatures fan out; same text, same name", () => {
  const runs = [
    sweepRun(0, 2, 0, "greedy"),
    sweepRun(1, 1, 0, "greedy"),
    sweepRun(2, 3, 0, "greedy"),
    sweepRun(3, 1, 1, "greedy"),
    sweepRun(4, 2, 1, "other"),
    sweepRun(5, 3, 1, RATE_LIMITED),
    sweepRun(6, 1, 0.5, "greedy"),
    sweepRun(7, 2, 0.5, "greedy"),
    sweepRun(8, 3, 0.5, "greedy"),
  ];
  const sweep = summarizeSweep({ batch: runs });
  assert.deepEqual(sweep.seeds, [1, 2, 3]);
  assert.deepEqual(sweep.temperatures, [0, 0.5, 1]);
  assert.deepEqual(sweep.outputs, ["greedy", "other"]);
  const [cold, warm, hot] = sweep.rows;
  assert.equal(cold?.collapsed, true);
  assert.deepEqual(
    cold?.cells.map((cell) => cell.seed),
    [1, 2, 3],
    "cells in seed order whatever the run order",
  );
  assert.equal(warm?.collapsed, true);
  assert.equal(hot?.collapsed, false);
  assert.equal(hot?.failed, 1);
  assert.equal(hot?.distinctOutputs, 2);
  assert.deepEqual(
    hot?.cells.map((cell) => cell.outputNumber),
    [0, 1, null],
  );
  const html = renderSweepHtml(sweep);
  assert.match(html, /^<div class="seedlab-sweep"/);
  assert.match(html, /collapses: one text for every seed/);
  assert.match(html, /fans out: 2 texts from 2 seeds, 1 failed/);
  assert.match(html, />failed</);
});

test("sweep: runs without a seed or repeated cells are rejected; texts are escaped", () => {
  const noSeed = makeRun(0, "x", { parameters: { seed: undefined, temperature: 0 } });
  delete (noSeed.parameters as { seed?: number }).seed;
  assert.throws(
    () => summarizeSweep({ batch: [noSeed] }),
    (error: unknown) => error instanceof InvalidParameterError && /`seed`/.test(error.message),
  );
  assert.throws(
    () => summarizeSweep({ batch: [sweepRun(0, 1, 0, "a"), sweepRun(1, 1, 0, "b")] }),
    (error: unknown) => error instanceof InvalidParameterError && /appears twice/.test(error.message),
  );
  assert.throws(
    () => summarizeSweep({ batch: [] }),
    (error: unknown) => error instanceof InvalidParameterError && error.parameter === "batch",
  );
  const html = renderSweepHtml(summarizeSweep({ batch: [sweepRun(0, 1, 0, "<img src=x onerror=alert(1)>")] }));
  assert.ok(!html.includes("<img") && html.includes("&lt;img src=x onerror=alert(1)&gt;"));
});
