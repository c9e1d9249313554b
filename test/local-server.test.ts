// The local server's behaviour through the official `openai` SDK, against the real stories260K model.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { LocalServer, startLocalServer } from "../src/local/start";

const PROMPT = [{ role: "user" as const, content: "Once upon a time" }];
const OPEN_PROMPT = [{ role: "user" as const, content: "The dog said" }];

let server: LocalServer;
let client: OpenAI;

before(async () => {
  server = await startLocalServer();
  client = new OpenAI({ apiKey: "local", baseURL: server.url, maxRetries: 0 });
});
after(() => server.close());

function complete(request: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) {
  return client.chat.completions.create({ model: server.model, messages: PROMPT, max_tokens: 24, ...request });
}

describe("local server: response shape", () => {
  test("a completion has OpenAI's shape, the fingerprint and the seed header", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: server.model, messages: PROMPT, seed: 7, max_tokens: 16 })
      .withResponse();
    assert.match(data.id, /^chatcmpl-/);
    assert.equal(data.object, "chat.completion");
    assert.equal(data.model, server.model);
    assert.equal(typeof data.created, "number");
    assert.equal(data.system_fingerprint, server.fingerprint);
    assert.equal(response.headers.get("x-seedlab-seed"), "7");
    const choice = data.choices[0];
    assert.ok(choice);
    assert.equal(choice.message.role, "assistant");
    assert.ok((choice.message.content ?? "").length > 0);
    assert.ok(choice.finish_reason === "stop" || choice.finish_reason === "length");
    assert.ok(data.usage);
    assert.ok(data.usage.prompt_tokens > 1);
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
  });

  test("GET /v1/models lists the served model, and /health answers", async () => {
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((model) => model.id),
      [server.model],
    );
    const health = await fetch(server.url.replace(/\/v1$/, "/health"));
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { system_fingerprint: string }).system_fingerprint, server.fingerprint);
  });

  test("prompt_tokens are counted by the tokenizer: a longer prompt has more", async () => {
    const short = await complete({ seed: 1, max_tokens: 1 });
    const long = await complete({
      seed: 1,
      max_tokens: 1,
      messages: [{ role: "user", content: "Once upon a time there was a big red dog" }],
    });
    assert.ok(long.usage!.prompt_tokens > short.usage!.prompt_tokens);
  });
});

describe("local server: determinism", () => {
  test("the same seeded request repeated gives byte-identical text", async () => {
    const texts = [];
    for (let run = 0; run < 3; run++)
      texts.push((await complete({ seed: 42, messages: OPEN_PROMPT })).choices[0]?.message.content);
    assert.equal(new Set(texts).size, 1);
  });

  test("concurrent requests give exactly what each gives alone", async () => {
    const seeds = [1, 2, 3, 4, 5];
    const alone = [];
    for (const seed of seeds) alone.push((await complete({ seed, messages: OPEN_PROMPT })).choices[0]?.message.content);
    const together = await Promise.all([...seeds, ...seeds].map((seed) => complete({ seed, messages: OPEN_PROMPT })));
    assert.deepEqual(
      together.map((response) => response.choices[0]?.message.content),
      [...alone, ...alone],
    );
  });

  test("different seeds give different texts", async () => {
    const texts = await Promise.all(
      [11, 12, 13, 14, 15].map((seed) => complete({ seed, messages: OPEN_PROMPT, max_tokens: 32 })),
    );
    assert.equal(new Set(texts.map((response) => response.choices[0]?.message.content)).size, 5);
  });

  test("temperature 0 without a seed gives identical texts", async () => {
    const texts = await Promise.all([1, 2, 3].map(() => complete({ temperature: 0, messages: OPEN_PROMPT })));
    assert.equal(new Set(texts.map((response) => response.choices[0]?.message.content)).size, 1);
  });

  test("unseeded requests get different reported seeds, and replaying a reported seed reproduces the text", async () => {
    const first = await complete({ messages: OPEN_PROMPT }).withResponse();
    const second = await complete({ messages: OPEN_PROMPT }).withResponse();
    const firstSeed = Number(first.response.headers.get("x-seedlab-seed"));
    const secondSeed = Number(second.response.headers.get("x-seedlab-seed"));
    assert.ok(Number.isInteger(firstSeed) && Number.isInteger(secondSeed));
    assert.notEqual(firstSeed, secondSeed);
    const replay = await complete({ messages: OPEN_PROMPT, seed: firstSeed });
    assert.equal(replay.choices[0]?.message.content, first.data.choices[0]?.message.content);
  });
});

describe("local server: parameters", () => {
  test("n returns several choices; choice 0 equals the single choice with the same seed", async () => {
    const many = await complete({ seed: 5, n: 3, messages: OPEN_PROMPT });
    const one = await complete({ seed: 5, messages: OPEN_PROMPT });
    assert.deepEqual(
      many.choices.map((choice) => choice.index),
      [0, 1, 2],
    );
    assert.equal(many.choices[0]?.message.content, one.choices[0]?.message.content);
    assert.ok(new Set(many.choices.map((choice) => choice.message.content)).size > 1);
    assert.ok(many.usage!.completion_tokens > one.usage!.completion_tokens);
  });

  test("max_tokens and max_completion_tokens stop with finish_reason length at exactly that many tokens", async () => {
    for (const limit of [{ max_tokens: 6 }, { max_completion_tokens: 6 }]) {
      const response = await client.chat.completions.create({
        model: server.model,
        messages: PROMPT,
        seed: 3,
        ...limit,
      });
      assert.equal(response.choices[0]?.finish_reason, "length");
      assert.equal(response.usage?.completion_tokens, 6);
    }
  });

  test("stop cuts the text before the first stop sequence, with finish_reason stop", async () => {
    const full = (await complete({ seed: 9, max_tokens: 40 })).choices[0]?.message.content ?? "";
    const stop = full.slice(12, 16);
    const stopped = await complete({ seed: 9, max_tokens: 40, stop: [stop, "@@never@@"] });
    assert.equal(stopped.choices[0]?.message.content, full.slice(0, full.indexOf(stop)));
    assert.equal(stopped.choices[0]?.finish_reason, "stop");
  });

  test("top_p shrinks the choice: a tiny top_p behaves like temperature 0", async () => {
    const greedy = await complete({ temperature: 0, messages: OPEN_PROMPT });
    const nucleus = await complete({ seed: 77, temperature: 2, top_p: 0.000001, messages: OPEN_PROMPT });
    assert.equal(nucleus.choices[0]?.message.content, greedy.choices[0]?.message.content);
  });

  test("logprobs are true log-probabilities: <= 0, sorted, the greedy token on top, summing to at most 1", async () => {
    const response = await complete({ temperature: 0, logprobs: true, top_logprobs: 5, max_tokens: 12 });
    const content = response.choices[0]?.logprobs?.content ?? [];
    assert.equal(content.length, response.usage?.completion_tokens);
    assert.equal(content.map((entry) => entry.token).join(""), response.choices[0]?.message.content);
    for (const entry of content) {
      assert.ok(entry.logprob <= 0);
      assert.equal(entry.top_logprobs.length, 5);
      const values = entry.top_logprobs.map((alternative) => alternative.logprob);
      assert.deepEqual(
        values,
        values.slice().sort((left, right) => right - left),
      );
      assert.equal(entry.top_logprobs[0]?.token, entry.token);
      assert.equal(entry.top_logprobs[0]?.logprob, entry.logprob);
      assert.ok(values.reduce((sum, value) => sum + Math.exp(value), 0) <= 1 + 1e-9);
    }
  });

  test("temperature 0 (llama.cpp argmax) and a sampled request that must pick the top token (full distribution) agree on text and logprobs", async () => {
    const greedy = await complete({ temperature: 0, logprobs: true, top_logprobs: 3, max_tokens: 16 });
    const sampled = await complete({
      temperature: 1,
      top_p: 1e-9,
      seed: 9,
      logprobs: true,
      top_logprobs: 3,
      max_tokens: 16,
    });
    assert.equal(sampled.choices[0]?.message.content, greedy.choices[0]?.message.content);
    const greedyEntries = greedy.choices[0]?.logprobs?.content ?? [];
    const sampledEntries = sampled.choices[0]?.logprobs?.content ?? [];
    assert.equal(greedyEntries.length, sampledEntries.length);
    greedyEntries.forEach((entry, position) => {
      const other = sampledEntries[position];
      assert.equal(entry.token, other?.token);
      assert.deepEqual(
        entry.top_logprobs.map((alternative) => alternative.token),
        other?.top_logprobs.map((alternative) => alternative.token),
      );
      entry.top_logprobs.forEach((alternative, rank) =>
        assert.ok(Math.abs(alternative.logprob - (other?.top_logprobs[rank]?.logprob ?? Infinity)) < 1e-5),
      );
    });
  });
});

describe("local server: streaming", () => {
  test("chunks reassemble to the non-streamed text and carry the fingerprint", async () => {
    const request = { model: server.model, messages: OPEN_PROMPT, seed: 21, n: 2, max_tokens: 30, stop: ["."] };
    const plain = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ["", ""];
    const finishReasons: Array<string | null> = [null, null];
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, "chat.completion.chunk");
      assert.equal(chunk.system_fingerprint, server.fingerprint);
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.delta.content ?? "";
        if (choice.finish_reason) finishReasons[choice.index] = choice.finish_reason;
      }
    }
    assert.deepEqual(
      texts,
      plain.choices.map((choice) => choice.message.content),
    );
    assert.deepEqual(
      finishReasons,
      plain.choices.map((choice) => choice.finish_reason),
    );
    assert.deepEqual(usage, plain.usage);
  });
});
