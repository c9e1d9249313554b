// The analysis on REAL batches from the local model, whose structure is known: temperature 0 is
// greedy (one text whatever the seed), distinct seeds at temperature 0.7 part somewhere, and a
// server with float16 attention reports another fingerprint and, for some seeds, another text. Runs are
// compared with runs; no model text is written down here.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import type { Batch, ChatRun } from "../src/core/types";
import { startLocalServer, type LocalServer } from "../src/local/start";
import { runRequests } from "../src/core/batch";
import { compareRuns } from "../src/analysis/compare-runs";
import { buildReport, runSuite } from "../src/analysis/report";
import { computeMargins, findBatchDivergences, findDivergence, type Alternative } from "../src/analysis/divergence";
import { runSweep, summarizeSweep } from "../src/analysis/sweep";
import { renderDivergenceHtml, renderHeatmapSvg, renderReportHtml, renderSweepHtml } from "../src/render/index";

const GUIDE = {
  system: "You are a helpful assistant.",
  user: "Generate a short excerpt of news about a journey to Mars.",
  max_tokens: 60,
};
const WITH_LOGPROBS = { logprobs: true, top_logprobs: 5 };
const SEEDS = Array.from({ length: 20 }, (_, position) => 100 + position);

let standard: LocalServer;
let float16Server: LocalServer;
let standardClient: OpenAI;
let float16Client: OpenAI;

before(async () => {
  // The second configuration computes attention in float16 (llama.cpp's default): measured, it changes 6 of these
  // 20 texts, where batch size 1 or another CPU variant changed none with seedlab's float32 attention.
  [standard, float16Server] = await Promise.all([startLocalServer(), startLocalServer({ attention: "float16" })]);
  standardClient = new OpenAI({ apiKey: "local", baseURL: standard.url, maxRetries: 0 });
  float16Client = new OpenAI({ apiKey: "local", baseURL: float16Server.url, maxRetries: 0 });
});
after(() => Promise.all([standard?.close(), float16Server?.close()]));

const batchOf = (label: string, runs: ChatRun[]): Batch => ({
  label,
  runs: runs.map((run, index) => ({ ...run, index })),
  concurrency: 1,
  startedAt: new Date().toISOString(),
  durationMs: 0,
});
const sameAlternatives = (a: Alternative[] | null, b: Alternative[] | null): boolean =>
  JSON.stringify(a?.map((x) => [x.token, x.logprob])) === JSON.stringify(b?.map((x) => [x.token, x.logprob]));

test("temperature 0 on one server: TARr@4 = 1, one fingerprint; the sweep collapses at 0 and fans out at 1; greedy never samples below the top token", async () => {
  const batches = await runSuite({
    client: standardClient,
    prompts: [
      { label: "guide", request: { model: standard.model, ...GUIDE, seed: 1, temperature: 0, ...WITH_LOGPROBS } },
      {
        label: "story",
        request: { model: standard.model, user: "Tom had a big red ball.", max_tokens: 40, seed: 1, temperature: 0 },
      },
    ],
    runs: 4,
  });
  const report = buildReport({ batches });
  assert.equal(report.tarr, 1, renderReportHtml(report));
  assert.equal(report.runsPerPrompt, 4);
  assert.equal(report.failedRuns, 0);
  for (const prompt of report.prompts) {
    assert.deepEqual(
      prompt.fingerprints.map((group) => [group.fingerprint, group.count, group.distinctOutputs]),
      [[standard.fingerprint, 4, 1]],
    );
    assert.equal(prompt.differsWithinFingerprint, false);
    assert.equal(prompt.similarity.minimum, 1);
  }
  const greedy = batches[0]?.runs[0] as ChatRun;
  const margins = computeMargins({ run: greedy });
  assert.equal(margins.length, greedy.logprobs?.length);
  assert.ok(margins.length > 0);
  assert.ok(
    margins.every((margin) => !margin.sampledBelowTop),
    "temperature 0 always emits the most likely token",
  );
  assert.ok(margins.every((margin) => margin.margin !== null && margin.margin >= 0 && margin.margin <= 1));

  const sweep = summarizeSweep({
    batch: await runSweep({
      client: standardClient,
      request: { model: standard.model, ...GUIDE },
      seeds: [1, 2, 3, 4],
      temperatures: [0, 1],
    }),
  });
  const [cold, hot] = sweep.rows;
  assert.equal(cold?.collapsed, true, "temperature 0: the seed does not matter");
  assert.equal(hot?.collapsed, false);
  assert.ok((hot?.distinctOutputs ?? 0) > 1);
  assert.equal(cold?.cells[0]?.outputNumber, 0);
  assert.match(renderSweepHtml(sweep), /collapses: one text for every seed/);
});

test("temperature 0.7, distinct seeds, one server: each run parts from the reference at a token where both had the very same candidates", async () => {
  const requests = SEEDS.slice(0, 8).map((seed) => ({
    model: standard.model,
    ...GUIDE,
    seed,
    temperature: 0.7,
    ...WITH_LOGPROBS,
  }));
  const batch = await runRequests({ client: standardClient, requests });
  const divergence = findBatchDivergences({ batch });
  assert.equal(divergence.unit, "token");
  assert.equal(divergence.failedIndexes.length, 0);
  assert.ok(divergence.divergences.length >= 5, `most seeds differ: ${divergence.divergences.length} of 7`);
  const reference = batch.runs[0] as ChatRun;
  for (const item of divergence.divergences) {
    const run = batch.runs[item.runIndex] as ChatRun;
    // The texts agree up to the offset; there the emitted tokens differ.
    assert.equal(run.content?.slice(0, item.characterOffset), reference.content?.slice(0, item.characterOffset));
    assert.notEqual(item.referenceToken, item.runToken);
    // Same model, same configuration, same prefix: the same distribution; only the seeded draw differed.
    assert.ok(
      sameAlternatives(item.referenceAlternatives, item.runAlternatives),
      `run ${item.runIndex}: identical candidates at token ${item.position}`,
    );
  }
  assert.deepEqual(
    divergence.positions,
    divergence.divergences.map((item) => item.position).sort((a, b) => a - b),
  );
  assert.match(renderDivergenceHtml(divergence), /^<div class="seedlab-divergence"/);

  const comparison = compareRuns(batch.runs);
  const svg = renderHeatmapSvg(comparison);
  assert.equal((svg.match(/<rect [^>]*><title>/g) ?? []).length, 64);
});

test("two fingerprints (batch size 512 vs 1), same seeds: texts differ between fingerprints for some seeds, never within one", async () => {
  assert.notEqual(standard.fingerprint, float16Server.fingerprint);
  const requests = SEEDS.map((seed) => ({ model: standard.model, ...GUIDE, seed, temperature: 0.7, ...WITH_LOGPROBS }));
  const [onStandard, onBatchSizeOne] = await Promise.all([
    runRequests({ client: standardClient, requests }),
    runRequests({ client: float16Client, requests }),
  ]);
  const differing = SEEDS.filter(
    (_, position) => onStandard.runs[position]?.content !== onBatchSizeOne.runs[position]?.content,
  );
  assert.ok(
    differing.length > 0 && differing.length < SEEDS.length,
    `seeds whose text changed with float16 attention: ${differing.join(", ")}`,
  );
  const changedAt = SEEDS.indexOf(differing[0] as number);
  const unchangedAt = SEEDS.findIndex((seed) => !differing.includes(seed));

  // One prompt per seed: two runs on each server (a second request each, to repeat within a fingerprint).
  const repeat = async (client: OpenAI, position: number): Promise<ChatRun> =>
    (await runRequests({ client, requests: [requests[position] as (typeof requests)[number]] })).runs[0] as ChatRun;
  const suite = await Promise.all(
    [changedAt, unchangedAt].map(async (position) =>
      batchOf(`seed ${SEEDS[position]}`, [
        onStandard.runs[position] as ChatRun,
        await repeat(standardClient, position),
        onBatchSizeOne.runs[position] as ChatRun,
        await repeat(float16Client, position),
      ]),
    ),
  );
  const report = buildReport({ batches: suite });
  const [changed, unchanged] = report.prompts;
  assert.equal(changed?.allIdentical, false);
  assert.equal(changed?.differsBetweenFingerprints, true);
  assert.equal(changed?.differsWithinFingerprint, false, renderReportHtml(report));
  assert.deepEqual(
    changed?.fingerprints.map((group) => [group.fingerprint, group.count, group.distinctOutputs]).sort(),
    [
      [standard.fingerprint, 2, 1],
      [float16Server.fingerprint, 2, 1],
    ].sort(),
  );
  assert.equal(changed?.distinctOutputs.length, 2);
  assert.equal(unchanged?.allIdentical, true, "two fingerprints can still agree");
  assert.equal(unchanged?.differsBetweenFingerprints, false);
  assert.equal(report.tarr, 0.5);
  assert.equal(report.differsWithinFingerprint, false);

  // Where the two configurations part, the same seeded draw met different numbers: the candidates' probabilities differ.
  const parting = findDivergence({
    reference: onStandard.runs[changedAt] as ChatRun,
    run: onBatchSizeOne.runs[changedAt] as ChatRun,
  });
  assert.ok(parting);
  assert.equal(parting.unit, "token");
  assert.notEqual(parting.referenceToken, parting.runToken);
  assert.ok(
    !sameAlternatives(parting.referenceAlternatives, parting.runAlternatives),
    "different configurations, different probabilities at the divergence point",
  );
});
