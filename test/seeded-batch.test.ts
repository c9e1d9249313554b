// The guide's experiment end to end against the REAL local model (node-llama-cpp behind the local
// OpenAI-compatible server on 127.0.0.1): runs are compared with runs, never with literal model text.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { openBackend, type Backend } from "../src/backend";
import { loadSettings } from "../src/settings";
import { getChatResponse } from "../src/core/chat";
import { runBatch } from "../src/core/batch";
import { compareRuns } from "../src/analysis/compare-runs";
import { renderVerdict } from "../src/render";

let backend: Backend;
const prompt = { system: "You are a storyteller.", user: "Once upon a time", max_tokens: 40 };

before(async () => {
  backend = await openBackend(loadSettings({ env: {}, envFile: "/nonexistent/.env" }));
});
after(() => backend.close());

test("openBackend starts the local model with the served id", () => {
  assert.equal(backend.kind, "local");
  assert.equal(backend.model, "stories260K");
  assert.match(backend.baseURL, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
});

test("seed 123 at temperature 0: 5/5 identical, one fingerprint, same parameters hash, seed read from x-seedlab-seed", async () => {
  const batch = await runBatch({
    client: backend.client,
    request: { model: backend.model, ...prompt, seed: 123, temperature: 0 },
    runs: 5,
    concurrency: 5,
  });
  const comparison = compareRuns(batch.runs);
  assert.equal(comparison.failed, 0);
  assert.equal(comparison.mostCommonShare, 1, renderVerdict(comparison));
  assert.equal(comparison.distinctOutputs.length, 1);
  assert.ok((comparison.distinctOutputs[0]?.content.length ?? 0) > 0, "the model produced text");
  assert.equal(comparison.fingerprints.length, 1);
  assert.notEqual(comparison.fingerprints[0]?.fingerprint, null);
  assert.equal(comparison.parametersIdentical, true);
  assert.equal(new Set(batch.runs.map((run) => run.parametersHash)).size, 1);
  assert.deepEqual(
    batch.runs.map((run) => run.seedUsed),
    [123, 123, 123, 123, 123],
  );
  assert.equal(renderVerdict(comparison), "5/5 identical · 1 fingerprint · parameters identical");

  // A single seeded request later reproduces the batch's output.
  const single = await getChatResponse(backend.client, { model: backend.model, ...prompt, seed: 123, temperature: 0 });
  assert.equal(single.content, batch.runs[0]?.content);
  assert.equal(single.parametersHash, batch.runs[0]?.parametersHash);
  assert.ok((single.promptTokens ?? 0) > 0 && (single.completionTokens ?? 0) > 0);
});

test("without a seed at temperature 0.7: the backend reports a fresh seed per run and outputs vary", async () => {
  const batch = await runBatch({ client: backend.client, request: { model: backend.model, ...prompt }, runs: 5 });
  const comparison = compareRuns(batch.runs);
  assert.equal(comparison.failed, 0);
  assert.ok(
    batch.runs.every((run) => Number.isSafeInteger(run.seedUsed)),
    "every run reports the seed it used",
  );
  assert.equal(new Set(batch.runs.map((run) => run.seedUsed)).size, 5);
  assert.ok(comparison.distinctOutputs.length > 1, renderVerdict(comparison));
  assert.equal(
    comparison.parametersIdentical,
    true,
    "same parameters, different outputs: the seed was the only difference",
  );

  // Replaying one run with the seed the server reported reproduces it exactly.
  const replayed = batch.runs[2];
  const replay = await getChatResponse(backend.client, {
    model: backend.model,
    ...prompt,
    seed: replayed?.seedUsed ?? 0,
  });
  assert.equal(replay.content, replayed?.content);
});
