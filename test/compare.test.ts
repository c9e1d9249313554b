import { test } from "node:test";
import assert from "node:assert/strict";
import { compareRuns, wordSimilarity } from "../src/analysis/compare-runs";
import { RATE_LIMITED, makeRun, makeRuns } from "./support/runs";

test("wordSimilarity: shared words over all words, 1 = identical, 0 = nothing shared", () => {
  assert.equal(wordSimilarity("the cat sat", "the cat sat"), 1);
  assert.equal(wordSimilarity("", ""), 1);
  assert.equal(wordSimilarity("", "a b"), 0);
  assert.equal(wordSimilarity("one two", "three four"), 0);
  // 3 shared words counted in both texts (6) over 4 + 4 words.
  assert.equal(wordSimilarity("the cat sat down", "the dog sat down"), 6 / 8);
  // Punctuation marks are words; whitespace differences are not.
  assert.equal(wordSimilarity("Hi, there.", "Hi there"), 4 / 6);
  assert.equal(wordSimilarity("a  b", "a b"), 1);
  assert.equal(wordSimilarity("a b c d", "c d"), wordSimilarity("c d", "a b c d"), "symmetric");
});

test("all identical: one output, share 1, similarity 1, one fingerprint, parameters identical", () => {
  const comparison = compareRuns(makeRuns(["same", "same", "same", "same", "same"]));
  assert.deepEqual(comparison.distinctOutputs, [{ content: "same", count: 5, runIndexes: [0, 1, 2, 3, 4] }]);
  assert.equal(comparison.mostCommonCount, 5);
  assert.equal(comparison.mostCommonShare, 1);
  assert.equal(comparison.similarity.mean, 1);
  assert.equal(comparison.similarity.minimum, 1);
  assert.equal(comparison.similarity.measure, "word-overlap");
  assert.deepEqual(comparison.fingerprints, [{ fingerprint: "fp_a", count: 5, runIndexes: [0, 1, 2, 3, 4] }]);
  assert.equal(comparison.parametersIdentical, true);
  assert.deepEqual(comparison.differingParameters, []);
});

test("mixed outputs: most common first, ties by earliest run; share against the most common", () => {
  const comparison = compareRuns(makeRuns(["b", "a", "a", "c", "b", "a"]));
  assert.deepEqual(
    comparison.distinctOutputs.map(({ content, count, runIndexes }) => `${content}:${count}:${runIndexes.join(",")}`),
    ["a:3:1,2,5", "b:2:0,4", "c:1:3"],
  );
  assert.equal(comparison.mostCommonCount, 3);
  assert.equal(comparison.mostCommonShare, 0.5);
  const tie = compareRuns(makeRuns(["x", "y", "y", "x"]));
  assert.equal(tie.distinctOutputs[0]?.content, "x", "on a tie, the output seen first leads");
});

test("all different: share 1/n, matrix symmetric with 1 on the diagonal, minimum <= mean", () => {
  const comparison = compareRuns(makeRuns(["the cat sat", "the dog sat", "a bird flew"]));
  assert.equal(comparison.distinctOutputs.length, 3);
  assert.equal(comparison.mostCommonShare, 1 / 3);
  const { matrix, mean, minimum, runIndexes } = comparison.similarity;
  assert.deepEqual(runIndexes, [0, 1, 2]);
  assert.deepEqual(
    matrix.map((row, i) => row[i]),
    [1, 1, 1],
  );
  assert.equal(matrix[0]?.[1], matrix[1]?.[0]);
  assert.equal(matrix[0]?.[1], 4 / 6);
  assert.equal(matrix[0]?.[2], 0);
  assert.equal(minimum, 0);
  assert.equal(mean, (4 / 6 + 0 + 0) / 3);
});

test("failed runs are counted and left out of content and fingerprint figures", () => {
  const runs = makeRuns(["same", RATE_LIMITED, "same", RATE_LIMITED, "other"]);
  const comparison = compareRuns(runs);
  assert.equal(comparison.total, 5);
  assert.equal(comparison.succeeded, 3);
  assert.equal(comparison.failed, 2);
  assert.deepEqual(comparison.failedIndexes, [1, 3]);
  assert.equal(comparison.mostCommonCount, 2);
  assert.equal(comparison.mostCommonShare, 2 / 3);
  assert.deepEqual(comparison.similarity.runIndexes, [0, 2, 4]);
  assert.deepEqual(comparison.fingerprints, [{ fingerprint: "fp_a", count: 3, runIndexes: [0, 2, 4] }]);
  const allFailed = compareRuns(makeRuns([RATE_LIMITED, RATE_LIMITED]));
  assert.equal(allFailed.mostCommonShare, 0);
  assert.equal(allFailed.similarity.mean, null);
  assert.deepEqual(allFailed.distinctOutputs, []);
  assert.deepEqual(allFailed.fingerprints, []);
});

test("one run, empty output, empty batch", () => {
  const one = compareRuns(makeRuns([""]));
  assert.deepEqual(one.distinctOutputs, [{ content: "", count: 1, runIndexes: [0] }]);
  assert.equal(one.mostCommonShare, 1);
  assert.deepEqual(one.similarity.matrix, [[1]]);
  assert.equal(one.similarity.mean, null);
  assert.equal(one.similarity.minimum, null);
  const none = compareRuns([]);
  assert.equal(none.total, 0);
  assert.equal(none.parametersIdentical, true);
});

test("fingerprints: null is its own group, most common first", () => {
  const runs = [
    makeRun(0, "x", { fingerprint: null }),
    makeRun(1, "x", { fingerprint: "fp_b" }),
    makeRun(2, "x", { fingerprint: "fp_b" }),
    makeRun(3, "x", { fingerprint: null }),
    makeRun(4, "x", { fingerprint: "fp_c" }),
  ];
  assert.deepEqual(compareRuns(runs).fingerprints, [
    { fingerprint: null, count: 2, runIndexes: [0, 3] },
    { fingerprint: "fp_b", count: 2, runIndexes: [1, 2] },
    { fingerprint: "fp_c", count: 1, runIndexes: [4] },
  ]);
});

test("parameters: which keys differ, including a key present in only some runs, and in failed runs", () => {
  const runs = [
    makeRun(0, "x"),
    makeRun(1, "x", { parameters: { seed: 7 } }),
    makeRun(2, RATE_LIMITED, { parameters: { temperature: 0.7 } }),
    makeRun(3, "x", { parameters: { top_p: 0.5 } }),
  ];
  const comparison = compareRuns(runs);
  assert.equal(comparison.parametersIdentical, false);
  assert.deepEqual(comparison.differingParameters, ["seed", "temperature", "top_p"]);
  // Key order does not matter: parameters are compared as canonical JSON.
  const reordered = makeRun(1, "x", { parameters: { max_tokens: 200, model: "m" } });
  assert.equal(compareRuns([makeRun(0, "x"), reordered]).parametersIdentical, true);
});
