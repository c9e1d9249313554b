// A bounded load test of the real local server on loopback: 200 requests at once against a queue
// of 20. Every request is answered, or refused with 429 and Retry-After; the refused ones succeed
// when sent again after Retry-After at a pace the queue takes; seeded outputs under load are the
// ones each request gives alone; the server's memory stays bounded. No timing is asserted.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import { createClient } from "../src/client";
import { runRequests } from "../src/core/batch";
import { startLocalServer, type LocalServer } from "../src/local/start";

const REQUESTS = 200;
const MAX_QUEUE = 20;
const SEEDS = 10;
const MAX_TOKENS = 8;
/** Allowed growth of the server's resident memory across the burst (it is ~100 MB at rest). */
const RSS_GROWTH_LIMIT_BYTES = 64 * 1024 * 1024;

interface Health {
  queued: number;
  max_queue: number;
  pid: number;
  rss_bytes: number;
  max_rss_bytes: number;
}

let server: LocalServer;
const health = async (): Promise<Health> =>
  (await (await fetch(server.url.replace(/\/v1$/, "/health"))).json()) as Health;
const body = (seed: number) =>
  JSON.stringify({
    model: server.model,
    messages: [{ role: "user", content: "Once upon a time" }],
    seed,
    temperature: 1,
    max_tokens: MAX_TOKENS,
  });

before(async () => {
  server = await startLocalServer({ maxQueue: MAX_QUEUE, host: "127.0.0.1" });
});
after(() => server.close());

test(`${REQUESTS} requests at once: each answered or refused with 429 + Retry-After; outputs as without load; memory bounded`, async () => {
  // Without load: one request per seed, one after another.
  const alone: string[] = [];
  for (let seed = 0; seed < SEEDS; seed++) {
    const response = await fetch(`${server.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body(seed),
    });
    assert.equal(response.status, 200);
    alone.push(
      ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content ??
        "",
    );
  }
  assert.ok(new Set(alone).size > 1, "different seeds give different texts (else the comparison below proves nothing)");
  const before = await health();
  assert.equal(before.max_queue, MAX_QUEUE);

  // The burst, with the queue depth watched from /health (which does not queue).
  let deepest = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      deepest = Math.max(deepest, (await health()).queued);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const outcomes = await Promise.all(
    Array.from({ length: REQUESTS }, async (_, index) => {
      const seed = index % SEEDS;
      const response = await fetch(`${server.url}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: body(seed),
      });
      const json = (await response.json()) as {
        choices?: Array<{ message: { content: string } }>;
        error?: { type: string; message: string };
      };
      return {
        seed,
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        content: json.choices?.[0]?.message.content ?? null,
        error: json.error ?? null,
      };
    }),
  );
  watching = false;
  await watcher;
  const afterBurst = await health();

  const answered = outcomes.filter((outcome) => outcome.status === 200);
  const refused = outcomes.filter((outcome) => outcome.status === 429);
  console.log(
    `load: ${REQUESTS} requests, ${answered.length} answered, ${refused.length} refused (429), deepest queue ${deepest}/${MAX_QUEUE}; ` +
      `server rss ${mib(before.rss_bytes)} before, ${mib(afterBurst.rss_bytes)} after, peak ${mib(afterBurst.max_rss_bytes)}`,
  );
  assert.equal(
    answered.length + refused.length,
    REQUESTS,
    `every request is answered or refused: ${JSON.stringify(outcomes.find((o) => o.status !== 200 && o.status !== 429))}`,
  );
  assert.ok(refused.length > 0, `${REQUESTS} at once overflow a queue of ${MAX_QUEUE}`);
  assert.ok(answered.length > MAX_QUEUE, "the running request and a full queue are all answered");
  assert.ok(deepest <= MAX_QUEUE, `the queue never holds more than ${MAX_QUEUE} (saw ${deepest})`);
  for (const outcome of refused) {
    assert.equal(outcome.retryAfter, "1");
    assert.equal(outcome.error?.type, "rate_limit_error");
    assert.match(outcome.error?.message ?? "", /queue is full \(20 requests waiting\)\. Retry shortly/);
  }
  for (const outcome of answered) assert.equal(outcome.content, alone[outcome.seed], `seed ${outcome.seed} under load`);
  assert.equal(afterBurst.queued, 0);
  assert.equal(afterBurst.pid, before.pid, "the same server process served the burst");
  assert.ok(
    afterBurst.max_rss_bytes - before.rss_bytes < RSS_GROWTH_LIMIT_BYTES,
    `peak rss grew by ${mib(afterBurst.max_rss_bytes - before.rss_bytes)}`,
  );

  // The refused ones, sent again through the library after Retry-After, at a pace the queue takes.
  await new Promise((resolve) => setTimeout(resolve, Number(refused[0]?.retryAfter ?? 1) * 1000));
  const client = createClient({ baseURL: server.url, maxRetries: 2 });
  const retried = await runRequests({
    client,
    requests: refused.map(({ seed }) => ({
      model: server.model,
      user: "Once upon a time",
      seed,
      temperature: 1,
      max_tokens: MAX_TOKENS,
    })),
    concurrency: MAX_QUEUE,
  });
  assert.deepEqual(
    retried.runs.map((run) => run.error),
    refused.map(() => null),
  );
  assert.deepEqual(
    retried.runs.map((run) => run.content),
    refused.map(({ seed }) => alone[seed]),
  );
});

test("a streamed body without Content-Length is cut off at the size limit too: 413 at once, the rest never read", async () => {
  const before = await health();
  const url = new URL(`${server.url}/chat/completions`);
  // Large enough that reading it whole would show in rss well above the noise of the earlier burst's heap
  // (growth of 6 to 16 MiB seen here, with or without this body); the client stops at the 413 anyway.
  const total = 64 * 1024 * 1024;
  let sent = 0;
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
        response.on("end", () => {
          // The server stops reading after its 413 (Node closes the idle connection later); stop sending.
          request.destroy();
          resolve({ status: response.statusCode ?? 0, text });
        });
      },
    );
    request.on("error", (error) => (request.destroyed ? undefined : reject(error)));
    const chunk = Buffer.alloc(64 * 1024, "x");
    const pump = (): void => {
      while (sent < total && !request.destroyed) {
        sent += chunk.length;
        if (!request.write(chunk)) {
          request.once("drain", pump);
          return;
        }
      }
      if (!request.destroyed) request.end();
    };
    pump();
  });
  const afterBody = await health();
  console.log(
    `413: answered after the client had written ${mib(sent)} of ${mib(total)}; server rss ${mib(before.rss_bytes)} before, ${mib(afterBody.rss_bytes)} after`,
  );
  assert.equal(status, 413);
  assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, "request_too_large");
  assert.ok(sent < total, "the server answered before taking the whole body");
  assert.ok(
    afterBody.rss_bytes - before.rss_bytes < total / 2,
    `rss grew by ${mib(afterBody.rss_bytes - before.rss_bytes)} for a ${mib(total)} body`,
  );
});

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
