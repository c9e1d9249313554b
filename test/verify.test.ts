import { test } from "node:test";
import assert from "node:assert/strict";
import { verifyReproducibility, type Check } from "../src/analysis/verify";
import { RATE_LIMITED, makeRun, makeRuns } from "./support/runs";

const byName = (checks: Check[], name: Check["name"]): Check => checks.find((check) => check.name === name)!;

test("a seeded batch of one text, one fingerprint and one request passes all three checks", () => {
  const checks = verifyReproducibility(makeRuns(["same", "same", "same"]));
  assert.deepEqual(
    checks.map((check) => [check.name, check.status]),
    [
      ["content", "pass"],
      ["fingerprint", "pass"],
      ["parameters", "pass"],
    ],
  );
  assert.match(byName(checks, "parameters").meaning, /^Same model, messages, seed, temperature and every other/);
});

test("the parameters check names the seed only when the requests sent one", () => {
  const unseeded = [0, 1, 2].map((index) => makeRun(index, `text ${index}`, { parameters: { seed: undefined } }));
  const checks = verifyReproducibility(unseeded);
  assert.equal(byName(checks, "parameters").status, "pass");
  assert.match(
    byName(checks, "parameters").meaning,
    /^Same model, messages, temperature and every other parameter sent/,
  );
  assert.doesNotMatch(byName(checks, "parameters").meaning, /seed/);
  assert.equal(byName(checks, "content").status, "fail");
});

test("a failed request fails the content check even when the texts that arrived agree", () => {
  const checks = verifyReproducibility([makeRun(0, "same"), makeRun(1, RATE_LIMITED), makeRun(2, "same")]);
  assert.equal(byName(checks, "content").status, "fail");
  assert.match(byName(checks, "content").summary, /1 of 3 requests failed/);
});

test("two fingerprints and differing parameters fail their checks, naming what differs", () => {
  const checks = verifyReproducibility([
    makeRun(0, "a", { fingerprint: "fp_a" }),
    makeRun(1, "a", { fingerprint: "fp_b", parameters: { temperature: 1 } }),
  ]);
  assert.equal(byName(checks, "fingerprint").status, "fail");
  assert.match(byName(checks, "fingerprint").summary, /2 fingerprints: fp_a \(1\), fp_b \(1\)/);
  assert.equal(byName(checks, "parameters").status, "fail");
  assert.match(byName(checks, "parameters").summary, /`temperature`/);
});
