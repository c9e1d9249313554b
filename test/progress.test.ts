// The notebooks' live progress: shown at once, updated in place with n of N and each step's time,
// marked done or failed. A display here records what a tslab display would show.
import assert from "node:assert/strict";
import { test } from "node:test";
import { openBackendWithProgress, showProgress } from "../src/progress";
import { loadSettings } from "../src/settings";
import type { BatchProgress, ChatRun } from "../src/core/types";

function recorder() {
  const shown: string[] = [];
  return {
    shown,
    display: { html: (html: string) => void shown.push(html) },
    text: (index = -1) =>
      (shown.at(index) ?? "")
        .replace(/<[^>]+>/g, " ")
        .replace(/\s+/g, " ")
        .trim(),
  };
}

function clock() {
  let ms = 0;
  return { now: () => ms, advance: (seconds: number) => void (ms += seconds * 1000) };
}

const progressOf = (finished: number, total: number, failed = 0): BatchProgress => ({
  finished,
  total,
  failed,
  run: {} as ChatRun,
});

test("one step: shown at once as running, n of N as runs finish, done with the time when the last run finished", () => {
  const { shown, display, text } = recorder();
  const time = clock();
  const progress = showProgress(display, "5 requests without a seed", { now: time.now });
  assert.equal(shown.length, 1, "the display appears before any run finishes");
  assert.match(text(), /^▶ 5 requests without a seed …$/);
  assert.match(shown[0] ?? "", /data-state="running"/);
  time.advance(1.5);
  progress.onBatch(progressOf(2, 5));
  assert.match(text(), /■■□□□ 2\/5 finished/);
  time.advance(1);
  progress.onBatch(progressOf(5, 5, 1));
  assert.match(
    text(),
    /^✔ 5 requests without a seed ■■■■■ 5\/5 finished · 1 failed · 2\.5 s$/,
    "one step: its time, once",
  );
  assert.match(shown.at(-1) ?? "", /data-state="done"/);
  const count = shown.length;
  progress.done();
  progress.onBatch(progressOf(5, 5));
  assert.equal(shown.length, count, "nothing is shown after done");
});

test("steps: each is numbered, the running one marked, the finished ones timed; run() marks a failure and rethrows", async () => {
  const { display, text } = recorder();
  const time = clock();
  const steps = showProgress(
    display,
    ["Start a server with batch size 1", "20 seeds on batch size 512", "20 seeds on batch size 1"],
    { now: time.now },
  );
  assert.match(
    text(),
    /▶ Step 1 of 3: Start a server with batch size 1 … · Step 2 of 3: 20 seeds on batch size 512 · Step 3 of 3/,
  );
  let resolve: (value: number) => void = () => {};
  const running = steps.run(0, new Promise<number>((settle) => (resolve = settle)));
  time.advance(0.8);
  resolve(42);
  assert.equal(await running, 42);
  assert.match(text(), /✔ Step 1 of 3: Start a server with batch size 1 · 0\.8 s/);
  steps.step(1);
  steps.onBatch(progressOf(20, 20));
  assert.match(
    text(),
    /▶ Step 2 of 3: 20 seeds on batch size 512 ■+ 20\/20 finished/,
    "a batch that is not the last step does not end the display",
  );
  assert.doesNotMatch(text(), /Done in/);
  await assert.rejects(steps.run(2, Promise.reject(new Error("the <server> stopped"))), /the <server> stopped/);
  assert.match(
    text(),
    /✘ Step 3 of 3: 20 seeds on batch size 1 · the &lt;server&gt; stopped/,
    "no time for a step that took none",
  );
  assert.throws(() => steps.step(3), /Expected a step index from 0 to 2, got 3\. The steps are: Start a server/);
});

test("bad input is refused with the fix", () => {
  assert.throws(
    () => showProgress({} as never, "x"),
    /Expected `display` to have an html\(text\) method, got object\. Pass tslab\.newDisplay\(\)\./,
  );
  assert.throws(
    () => showProgress(recorder().display, []),
    /Expected `steps` to be a label or a non-empty list of labels, got \[\]/,
  );
});

test("openBackendWithProgress: another backend is named at once, with how long opening took", async () => {
  const { shown, display, text } = recorder();
  const settings = loadSettings({
    env: { OPENAI_BASE_URL: "http://127.0.0.1:9/v1", SEEDLAB_MODEL: "m" },
    envFile: "/nonexistent/.env",
  });
  const backend = await openBackendWithProgress(settings, display);
  assert.equal(backend.kind, "compatible");
  assert.ok(backend.startSeconds >= 0);
  assert.match(text(0), /^▶ Opening the compatible backend \(m\) …$/);
  assert.match(text(), /^✔ Using compatible · m · http:\/\/127\.0\.0\.1:9\/v1$/);
  assert.ok(shown.length >= 2);
  await backend.close();
});

test("onStep follows a multi-step task: moves to the step it names, shows its batch, ends with the last step's last run", () => {
  const { display, text } = recorder();
  const time = clock();
  const progress = showProgress(display, ["first", "second server", "third"], { now: time.now });
  progress.onStep(0, progressOf(1, 2));
  assert.match(text(), /▶ Step 1 of 3: first ■□ 1\/2 finished/);
  time.advance(2);
  progress.onStep(1);
  assert.match(text(), /✔ Step 1 of 3: first ■□ 1\/2 finished · 2\.0 s ▶ Step 2 of 3: second server …/);
  progress.onStep(2, progressOf(2, 2));
  assert.match(text(), /✔ Step 2 of 3: second server ✔ Step 3 of 3: third ■■ 2\/2 finished Done in 2\.0 s\.$/);
});
