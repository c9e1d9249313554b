import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type OpenAI from "openai";
import { createClient } from "../src/client";
import { runBatch, runRequests } from "../src/core/batch";
import { InvalidParameterError } from "../src/core/validate";
import type { BatchProgress } from "../src/core/types";
import { completion, startFaultServer, type FaultServer } from "./support/fault-server";

// Replies are scripted by the user prompt: "delay:<ms>" waits, "fail-on:<n>" fails the n-th request of
// the server with a 500, "hang" never answers. Each test uses its own server so counts stay separate.
async function withServer(run: (server: FaultServer, client: OpenAI) => Promise<void>): Promise<void> {
  const server = await startFaultServer(({ number, body }) => {
    const messages = body.messages as Array<{ content: string }>;
    const prompt = messages[messages.length - 1]?.content ?? "";
    const delay = /delay:(\d+)/.exec(prompt);
    const failOn = /fail-on:([\d,]+)/.exec(prompt);
    if (prompt.includes("hang")) return { hang: true };
    if (failOn?.[1]?.split(",").includes(String(number)))
      return { status: 500, body: { error: { message: `injected failure ${number}` } } };
    // Later requests answer sooner, so finishing order is the reverse of request order.
    const delayMs = delay ? Math.max(10, Number(delay[1]) - number * 15) : 0;
    return { delayMs, body: completion(`answer to ${prompt} seed ${String(body.seed)}`) };
  });
  try {
    await run(server, createClient({ baseURL: server.url, maxRetries: 0, timeoutMs: 5000 }));
  } finally {
    await server.close();
  }
}

test("the concurrency bound is honoured and reached", async () => {
  for (const concurrency of [1, 2, 3]) {
    await withServer(async (server, client) => {
      const batch = await runBatch({ client, request: { model: "m", user: "delay:60" }, runs: 7, concurrency });
      assert.equal(batch.runs.length, 7);
      assert.equal(batch.concurrency, concurrency);
      assert.equal(server.maxInFlight, concurrency, `concurrency ${concurrency}`);
    });
  }
});

test("runs keep request order whatever order they finish in; progress after each run", async () => {
  await withServer(async (_server, client) => {
    const progress: BatchProgress[] = [];
    const batch = await runBatch({
      client,
      request: { model: "m", user: "delay:120", seed: 123, temperature: 0 },
      runs: 5,
      onProgress: (event) => progress.push(event),
    });
    assert.deepEqual(
      batch.runs.map((run) => run.index),
      [0, 1, 2, 3, 4],
    );
    assert.equal(batch.label, "seed 123, temperature 0");
    assert.equal(new Set(batch.runs.map((run) => run.parametersHash)).size, 1);
    assert.deepEqual(
      progress.map((event) => event.finished),
      [1, 2, 3, 4, 5],
    );
    assert.ok(progress.every((event) => event.total === 5 && event.failed === 0));
    const finishOrder = progress.map((event) => event.run.index);
    assert.notDeepEqual(finishOrder, [0, 1, 2, 3, 4], "later requests finished first (the server answers them sooner)");
  });
});

test("failures are recorded on their runs, never dropped, never stop the others", async () => {
  await withServer(async (server, client) => {
    const progress: BatchProgress[] = [];
    const batch = await runBatch({
      client,
      request: { model: "m", user: "fail-on:2,4" },
      runs: 5,
      concurrency: 1,
      onProgress: (event) => progress.push(event),
    });
    assert.equal(server.requests.length, 5);
    assert.deepEqual(
      batch.runs.map((run) => run.error?.type ?? "ok"),
      ["ok", "InternalServerError", "ok", "InternalServerError", "ok"],
    );
    assert.deepEqual(
      batch.runs.map((run) => run.error?.status ?? null),
      [null, 500, null, 500, null],
    );
    assert.equal(batch.runs[1]?.error?.message, "500 injected failure 2");
    assert.equal(progress[progress.length - 1]?.failed, 2);
  });
});

test("abort records every run: APIUserAbortError in flight, AbortError for the rest", async () => {
  await withServer(async (server, client) => {
    const controller = new AbortController();
    const pending = runBatch({
      client,
      request: { model: "m", user: "hang" },
      runs: 4,
      concurrency: 2,
      signal: controller.signal,
    });
    while (server.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const batch = await pending;
    assert.deepEqual(
      batch.runs.map((run) => run.error?.type),
      ["APIUserAbortError", "APIUserAbortError", "AbortError", "AbortError"],
    );
    assert.deepEqual(
      batch.runs.map((run) => run.attempts),
      [1, 1, 0, 0],
    );
    assert.equal(server.requests.length, 2);
  });
});

test("runRequests sends a list of different requests in order; parameters differ per run", async () => {
  await withServer(async (_server, client) => {
    const batch = await runRequests({
      client,
      requests: [1, 2, 3].map((seed) => ({ model: "m", user: "sweep delay:30", seed, temperature: 0 })),
      concurrency: 3,
    });
    assert.deepEqual(
      batch.runs.map((run) => run.seedUsed),
      [1, 2, 3],
    );
    assert.deepEqual(
      batch.runs.map((run) => run.content),
      [1, 2, 3].map((seed) => `answer to sweep delay:30 seed ${seed}`),
    );
    assert.equal(batch.label, "3 requests");
  });
});

test("bad batch input throws before any request", async () => {
  await withServer(async (server, client) => {
    await assert.rejects(
      runBatch({ client, request: { model: "m", user: "x" }, runs: 0 }),
      /Expected `runs` to be an integer from 1 and up, got 0/,
    );
    await assert.rejects(
      runBatch({ client, request: { model: "m", user: "x" }, concurrency: 1.5 }),
      /Expected `concurrency`/,
    );
    await assert.rejects(
      runBatch({ client, request: { model: "m", user: "x", temperature: 9 } }),
      InvalidParameterError,
    );
    await assert.rejects(
      runRequests({
        client,
        requests: [
          { model: "m", user: "x" },
          { model: "m", user: "x", top_p: 0 },
        ],
      }),
      /`top_p`/,
    );
    await assert.rejects(runRequests({ client, requests: [] }), /`runs`/);
    assert.equal(server.requests.length, 0);
  });
});

test("a throwing progress callback does not lose runs: the batch finishes, then the error is raised", async () => {
  await withServer(async (server, client) => {
    await assert.rejects(
      runBatch({
        client,
        request: { model: "m", user: "x" },
        runs: 3,
        concurrency: 1,
        onProgress: () => {
          throw new Error("display broke");
        },
      }),
      /display broke/,
    );
    assert.equal(server.requests.length, 3);
  });
});
