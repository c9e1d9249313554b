// Several engine workers (one llama.cpp context each) serve queued requests in parallel. This proves
// it changes no output: the same requests, sent all at once, give byte-identical responses (texts,
// log-probabilities, finish reasons, usage, streamed chunks) from a server with one worker and from one
// with two, and both report the same fingerprint. The queue keeps its limit: 429 only once every worker
// is busy and `maxQueue` requests wait.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { startLocalServer, type LocalServer } from "../src/local/start";
import { createWorkQueue, QueueFullError } from "../src/local/queue";

let one: LocalServer;
let two: LocalServer;

before(async () => {
  [one, two] = await Promise.all([startLocalServer({ workers: 1 }), startLocalServer({ workers: 2 })]);
});
after(async () => {
  await Promise.all([one?.close(), two?.close()]);
});

const client = (server: LocalServer) => new OpenAI({ apiKey: "local", baseURL: server.url, maxRetries: 0 });

/** A mix of what the notebooks send: greedy, seeded samples, top_p, logprobs, stop sequences, two prompts. */
function requests(model: string): OpenAI.ChatCompletionCreateParamsNonStreaming[] {
  const mars = [
    { role: "system" as const, content: "You are a helpful assistant." },
    { role: "user" as const, content: "Generate a short excerpt of news about a journey to Mars." },
  ];
  const story = [{ role: "user" as const, content: "Once upon a time" }];
  const list: OpenAI.ChatCompletionCreateParamsNonStreaming[] = [];
  for (const seed of [1, 2, 3, 100, 101, 123]) {
    list.push({ model, messages: mars, seed, temperature: 0.7, max_tokens: 60 });
    list.push({ model, messages: story, seed, temperature: 1.2, top_p: 0.9, max_tokens: 40, stop: ["."] });
  }
  list.push({ model, messages: mars, seed: 123, temperature: 0, max_tokens: 60, logprobs: true, top_logprobs: 5 });
  list.push({ model, messages: mars, seed: 11, temperature: 0.7, max_tokens: 60, logprobs: true, top_logprobs: 5 });
  list.push({ model, messages: story, temperature: 0, max_tokens: 80 });
  return list;
}

/** What must not depend on the worker count: everything but ids and timestamps. */
function comparable(response: OpenAI.ChatCompletion) {
  return { fingerprint: response.system_fingerprint, choices: response.choices, usage: response.usage };
}

test("two workers give byte-identical responses to one worker, for the same requests sent all at once", async () => {
  const sent = requests(one.model);
  const [onOne, onTwo] = await Promise.all(
    [one, two].map((server) => Promise.all(sent.map((request) => client(server).chat.completions.create(request)))),
  );
  assert.equal(one.fingerprint, two.fingerprint, "the worker count is not part of the fingerprint");
  assert.deepEqual(onTwo?.map(comparable), onOne?.map(comparable));
  assert.ok(
    new Set(onOne?.map((response) => response.choices[0]?.message.content)).size > 5,
    "the requests give different texts",
  );
});

test("two workers run two requests at once, and streamed chunks match one worker's", async () => {
  const model = one.model;
  const stream = async (server: LocalServer, seed: number): Promise<string[]> => {
    const chunks: string[] = [];
    const events = await client(server).chat.completions.create({
      model,
      messages: [{ role: "user", content: "The dog said" }],
      seed,
      temperature: 0.8,
      max_tokens: 80,
      stream: true,
      logprobs: true,
      top_logprobs: 2,
    });
    for await (const chunk of events)
      chunks.push(JSON.stringify({ choices: chunk.choices, fingerprint: chunk.system_fingerprint }));
    return chunks;
  };
  let mostRunning = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const health = (await (await fetch(two.url.replace(/\/v1$/, "/health"))).json()) as {
        running: number;
        workers: number;
      };
      assert.equal(health.workers, 2);
      mostRunning = Math.max(mostRunning, health.running);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const seeds = [5, 6, 7, 8, 9, 10];
  const onTwo = await Promise.all(seeds.map((seed) => stream(two, seed)));
  watching = false;
  await watcher;
  const onOne = await Promise.all(seeds.map((seed) => stream(one, seed)));
  assert.deepEqual(onTwo, onOne);
  assert.equal(mostRunning, 2, "/health saw two generations running at once");
});

test("the queue: up to `workers` tasks run, `maxQueue` wait in order, the next is refused with QueueFullError", async () => {
  const queue = createWorkQueue({ maxQueue: 1, workers: 2 });
  const started: number[] = [];
  const releases: Array<() => void> = [];
  const task = (id: number) => () =>
    new Promise<number>((resolve) => {
      started.push(id);
      releases.push(() => resolve(id));
    });
  const first = queue.run(task(1));
  const second = queue.run(task(2));
  const third = queue.run(task(3));
  assert.deepEqual(started, [1, 2]);
  assert.equal(queue.running, 2);
  assert.equal(queue.waiting, 1);
  assert.throws(() => queue.run(task(4)), QueueFullError);
  releases[0]?.();
  assert.equal(await first, 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, [1, 2, 3], "the waiting task starts when a worker frees");
  releases[1]?.();
  releases[2]?.();
  assert.deepEqual(await Promise.all([second, third]), [2, 3]);
  assert.equal(queue.running, 0);
  assert.throws(
    () => createWorkQueue({ maxQueue: 1, workers: 0 }),
    /Expected `workers` to be a whole number from 1 up, got 0/,
  );
});

test("greedy without logprobs (node-llama-cpp's own loop) gives the text and usage of greedy with logprobs (one call per token)", async () => {
  const prompts = ["Once upon a time", "The dog said", "Tom had a big red ball.", "Lily and Ben"];
  for (const content of prompts) {
    for (const max_tokens of [1, 7, 400]) {
      const request = { model: one.model, messages: [{ role: "user" as const, content }], temperature: 0, max_tokens };
      const [plain, withLogprobs] = await Promise.all([
        client(two).chat.completions.create(request),
        client(two).chat.completions.create({ ...request, logprobs: true }),
      ]);
      const where = `${JSON.stringify(content)}, max_tokens ${max_tokens}`;
      assert.equal(plain.choices[0]?.message.content, withLogprobs.choices[0]?.message.content, where);
      assert.equal(plain.choices[0]?.finish_reason, withLogprobs.choices[0]?.finish_reason, where);
      assert.deepEqual(plain.usage, withLogprobs.usage, where);
    }
  }
});
