import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runBatch } from "../src/core/batch";
import { createClient } from "../src/client";
import { appendRun, readRuns, runSavedBatch, SavedRunsError, writeRuns } from "../src/core/saved-runs";
import type { BatchProgress, ChatRun } from "../src/core/types";
import { completion, startFaultServer, type FaultServer } from "./support/fault-server";
import { makeRun, makeRuns, RATE_LIMITED } from "./support/runs";
import { SAVED_REQUEST } from "./support/saved-request";

const folder = fs.mkdtempSync(path.join(os.tmpdir(), "seedlab-saved-"));
after(() => fs.rmSync(folder, { recursive: true, force: true }));
let fileCount = 0;
const newFile = (): string => path.join(folder, `case-${++fileCount}`, "runs.jsonl");

/** A server that answers "reply <request number>" after `delayMs` (per request number), and a 500 at once for the numbers in `failing`. */
function replyServer({
  delayMs = () => 0,
  failing = [],
}: { delayMs?: (number: number) => number; failing?: number[] } = {}): Promise<FaultServer> {
  return startFaultServer(({ number }) =>
    failing.includes(number)
      ? { status: 500, body: { error: { message: `injected failure ${number}` } } }
      : { delayMs: delayMs(number), body: completion(`reply ${number}`) },
  );
}

test("writeRuns / readRuns round trip: one JSON line per run, folder created, no temporary file left", () => {
  const file = newFile();
  const runs = makeRuns(["a b", RATE_LIMITED, "c"]);
  writeRuns(file, runs);
  assert.deepEqual(readRuns(file), runs);
  const lines = fs.readFileSync(file, "utf8").split("\n");
  assert.equal(lines.length, 4, "three lines and a final newline");
  assert.deepEqual(JSON.parse(lines[1] ?? ""), runs[1]);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ["runs.jsonl"]);
  writeRuns(file, runs.slice(0, 1));
  assert.deepEqual(readRuns(file), runs.slice(0, 1), "writeRuns replaces the file");
});

test("the last line of an index wins and runs come back sorted by index", () => {
  const file = newFile();
  for (const run of [makeRun(2, "two"), makeRun(0, "zero"), makeRun(1, RATE_LIMITED), makeRun(1, "one, retried")])
    appendRun(file, run);
  assert.deepEqual(
    readRuns(file).map((run) => [run.index, run.content]),
    [
      [0, "zero"],
      [1, "one, retried"],
      [2, "two"],
    ],
  );
});

test("an unfinished last line (interrupted write) is ignored, and the next append does not glue onto it", () => {
  const file = newFile();
  writeRuns(file, makeRuns(["a", "b"]));
  const partial = JSON.stringify(makeRun(2, "c")).slice(0, 40);
  fs.appendFileSync(file, partial);
  assert.deepEqual(
    readRuns(file).map((run) => run.index),
    [0, 1],
  );
  appendRun(file, makeRun(2, "c"));
  assert.deepEqual(
    readRuns(file).map((run) => run.content),
    ["a", "b", "c"],
  );
  assert.ok(!fs.readFileSync(file, "utf8").includes(partial + "{"));
});

test("a bad line is an error naming the file, the line and what to do", () => {
  const file = newFile();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const good = JSON.stringify(makeRun(0, "a"));
  const cases: Array<{ text: string; line: number; problem: RegExp }> = [
    { text: `${good}\n{ not json\n${good}\n`, line: 2, problem: /is not JSON/ },
    {
      text: `${good}\n${JSON.stringify({ ...makeRun(1, "b"), index: "1" })}\n`,
      line: 2,
      problem: /is not a saved run: `index` should be an integer from 0, got "1"/,
    },
    {
      text: `${JSON.stringify({ ...makeRun(0, "a"), parameters: null })}\n`,
      line: 1,
      problem: /`parameters` should be the request body/,
    },
    // A finished (newline-terminated) last line is not an interrupted write: it is checked like the others.
    { text: `${good}\n{"index": 1,\n`, line: 2, problem: /is not JSON/ },
  ];
  for (const { text, line, problem } of cases) {
    fs.writeFileSync(file, text);
    assert.throws(
      () => readRuns(file),
      (error: unknown) => {
        assert.ok(error instanceof SavedRunsError, String(error));
        assert.equal(error.line, line);
        assert.equal(error.path, file);
        assert.ok(error.message.startsWith(`Line ${line} of ${file} `), error.message);
        assert.match(error.message, problem);
        assert.match(
          error.message,
          /Every line of a saved-runs file is one ChatRun as JSON .*: check that this is such a file; if it is, fix or delete that line\.$/,
        );
        return true;
      },
    );
  }
});

test("runSavedBatch saves every run as it finishes, then rewrites the file with one line per index", async () => {
  const server = await replyServer({ failing: [2] });
  try {
    const file = newFile();
    const client = createClient({ baseURL: server.url, maxRetries: 0 });
    const linesSeen: number[] = [];
    const batch = await runSavedBatch({
      client,
      request: SAVED_REQUEST,
      runs: 4,
      concurrency: 1,
      path: file,
      onProgress: () => linesSeen.push(fs.readFileSync(file, "utf8").split("\n").length - 1),
    });
    assert.deepEqual(linesSeen, [1, 2, 3, 4], "each run is on disk before progress is reported");
    assert.equal(batch.resumed, 0);
    assert.deepEqual(
      batch.runs.map((run) => run.error?.status ?? run.content),
      ["reply 1", 500, "reply 3", "reply 4"],
    );
    assert.deepEqual(readRuns(file), batch.runs);
  } finally {
    await server.close();
  }
});

test("resume after an abort: finished runs are kept and not sent again, failed and unsent ones are, none duplicated", async () => {
  // Request n answers after 20n ms, so the finishing order is fixed: 1 (fails), 2, 3, 4, then 5 is still in flight.
  const server = await replyServer({ delayMs: (number) => 20 * number, failing: [1] });
  try {
    const file = newFile();
    const client = createClient({ baseURL: server.url, maxRetries: 0 });
    const controller = new AbortController();
    // Abort once 4 runs have finished: the run in flight is cut off (APIUserAbortError), the rest never start.
    const first = await runSavedBatch({
      client,
      request: SAVED_REQUEST,
      runs: 8,
      concurrency: 2,
      path: file,
      signal: controller.signal,
      onProgress: ({ finished }) => finished === 4 && controller.abort(),
    });
    const firstRequests = server.requests.length;
    const kept = first.runs.filter((run) => run.error === null);
    assert.deepEqual(
      new Set(first.runs.map((run) => run.error?.type ?? "ok")),
      new Set(["ok", "InternalServerError", "APIUserAbortError", "AbortError"]),
    );
    assert.equal(kept.length, 3, "request 1 failed, three succeeded before the abort");
    assert.deepEqual(readRuns(file), first.runs, "the interrupted batch is saved, failures included");

    const progress: BatchProgress[] = [];
    const resumed = await runSavedBatch({
      client,
      request: SAVED_REQUEST,
      runs: 8,
      concurrency: 2,
      path: file,
      onProgress: (event) => progress.push(event),
    });
    assert.equal(resumed.resumed, 3);
    assert.equal(server.requests.length - firstRequests, 5, "only the 5 runs without a success are sent again");
    assert.deepEqual(
      resumed.runs.map((run) => run.index),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.ok(resumed.runs.every((run) => run.error === null));
    for (const run of kept)
      assert.deepEqual(resumed.runs[run.index], run, `run ${run.index} is the saved one, not a new request`);
    assert.equal(
      new Set(resumed.runs.map((run) => run.content)).size,
      8,
      "every reply is a different request's: nothing sent twice",
    );
    assert.deepEqual(
      progress.map((event) => [event.finished, event.total]),
      [
        [4, 8],
        [5, 8],
        [6, 8],
        [7, 8],
        [8, 8],
      ],
    );
    assert.equal(fs.readFileSync(file, "utf8").trimEnd().split("\n").length, 8, "compact: one line per index");

    const again = await runSavedBatch({ client, request: SAVED_REQUEST, runs: 8, path: file });
    assert.equal(again.resumed, 8);
    assert.equal(server.requests.length - firstRequests, 5, "a finished batch sends nothing");
  } finally {
    await server.close();
  }
});

test("resume after the process running the batch is killed (SIGKILL)", async () => {
  const server = await replyServer({ delayMs: () => 40 });
  const file = newFile();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "support", "saved-batch-child.ts")], {
    env: { ...process.env, SEEDLAB_TEST_URL: server.url, SEEDLAB_TEST_PATH: file },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const lines = (): number => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").length - 1 : 0);
    while (lines() < 3) {
      assert.equal(child.exitCode, null, `the child exited early: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill("SIGKILL");
    await exited;
    const saved = readRuns(file);
    const sentBeforeKill = server.requests.length;
    assert.ok(saved.length >= 3 && saved.length < 8, `saved ${saved.length} runs before the kill`);

    const client = createClient({ baseURL: server.url, maxRetries: 0 });
    const resumed = await runSavedBatch({ client, request: SAVED_REQUEST, runs: 8, concurrency: 1, path: file });
    assert.equal(resumed.resumed, saved.length);
    assert.equal(server.requests.length - sentBeforeKill, 8 - saved.length);
    assert.deepEqual(resumed.runs.slice(0, saved.length), saved);
    assert.ok(resumed.runs.every((run) => run.error === null));
    assert.deepEqual(
      readRuns(file).map((run) => run.index),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
  } finally {
    child.kill("SIGKILL");
    await server.close();
  }
});

test("a file holding a different request is an error naming both hashes; nothing is sent", async () => {
  const server = await replyServer();
  try {
    const file = newFile();
    const client = createClient({ baseURL: server.url, maxRetries: 0 });
    const first = await runSavedBatch({ client, request: SAVED_REQUEST, runs: 2, path: file });
    const before = server.requests.length;
    const other = { ...SAVED_REQUEST, seed: 124 };
    await assert.rejects(runSavedBatch({ client, request: other, runs: 2, path: file }), (error: unknown) => {
      assert.ok(error instanceof SavedRunsError);
      const savedHash = first.runs[0]?.parametersHash ?? "";
      assert.match(
        error.message,
        new RegExp(
          `holds runs of a different request \\(parametersHash ${savedHash}; this request's is [0-9a-f]{16}\\)`,
        ),
      );
      assert.match(
        error.message,
        /Save this request to another file \(the `path` option; `--save FILE` on the command line\), or delete .*runs\.jsonl to start over/,
      );
      return true;
    });
    assert.equal(server.requests.length, before);
    assert.deepEqual(readRuns(file), first.runs, "the file is left as it was");
  } finally {
    await server.close();
  }
});

test("bad `path` or `indexes` are rejected before anything is sent", async () => {
  const server = await replyServer();
  try {
    const client = createClient({ baseURL: server.url, maxRetries: 0 });
    await assert.rejects(
      runSavedBatch({ client, request: SAVED_REQUEST, path: "" }),
      /Expected `path` to be a file path, got ""/,
    );
    await assert.rejects(
      runBatch({ client, request: SAVED_REQUEST, runs: 3, indexes: [0, 3] }),
      /Expected `indexes\[1\]` to be a run index from 0 to 2 not listed before, got 3/,
    );
    await assert.rejects(runBatch({ client, request: SAVED_REQUEST, runs: 3, indexes: [1, 1] }), /`indexes\[1\]`/);
    assert.equal(server.requests.length, 0);
    const some = await runBatch({ client, request: SAVED_REQUEST, runs: 5, indexes: [3, 1] });
    assert.deepEqual(
      some.runs.map((run: ChatRun) => run.index),
      [3, 1],
    );
    assert.equal(some.label, "seed 123, temperature 0");
  } finally {
    await server.close();
  }
});
