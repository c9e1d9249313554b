import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { createClient } from "../src/client";
import { ChatRequestError, getChatResponse, hashParameters, tryChatResponse } from "../src/core/chat";
import { InvalidParameterError } from "../src/core/validate";
import { completion, startFaultServer, type FaultResponse, type FaultServer } from "./support/fault-server";

// A fresh fake key each run: recognisable in a search, never a committed key-shaped string.
// Ends in letters no hash, timestamp or latency contains, so finding its last 4 characters means a leak, not chance
// (a random hex ending was once found in a run record's latency digits).
const KEY_BODY = `TOPSECRET${randomBytes(20).toString("hex")}zQxW`;
const KEY = `sk-proj-${KEY_BODY}`;
// Scripted replies by the prompt text, so tests can share one server.
const scripts = new Map<string, (attempt: number) => FaultResponse>();
const attemptsByPrompt = new Map<string, number>();
let server: FaultServer;
let client: OpenAI;

before(async () => {
  server = await startFaultServer(({ body }) => {
    const messages = body.messages as Array<{ content: string }>;
    const prompt = messages[messages.length - 1]?.content ?? "";
    const attempt = (attemptsByPrompt.get(prompt) ?? 0) + 1;
    attemptsByPrompt.set(prompt, attempt);
    return scripts.get(prompt)?.(attempt) ?? { body: completion(`echo ${prompt}`) };
  });
  client = createClient({ baseURL: server.url, apiKey: KEY, timeoutMs: 2000, maxRetries: 2 });
});
after(() => server.close());

const received = (prompt: string) => server.requests.filter((request) => JSON.stringify(request.body).includes(prompt));

test("a response becomes a ChatRun: content, tokens, null fingerprint, seed from x-seedlab-seed, exact parameters", async () => {
  scripts.set("p1", () => ({ body: completion("hello world", null), headers: { "x-seedlab-seed": "98765" } }));
  const run = await getChatResponse(client, { model: "m", system: "Be brief.", user: "p1", seed: 5, temperature: 0 });
  assert.equal(run.content, "hello world");
  assert.equal(run.systemFingerprint, null);
  assert.equal(run.promptTokens, 7);
  assert.equal(run.completionTokens, 2);
  assert.equal(run.finishReason, "stop");
  assert.equal(run.seedUsed, 98765, "the seed the backend reports wins over the requested one");
  assert.equal(run.attempts, 1);
  assert.equal(run.error, null);
  assert.equal(run.parametersHash, hashParameters(run.parameters));
  assert.match(run.parametersHash, /^[0-9a-f]{16}$/);
  const [request] = received("p1");
  const { stream, ...sent } = request?.body ?? {};
  assert.equal(stream, false);
  assert.deepEqual(sent, run.parameters, "the recorded parameters are exactly the body sent");
  assert.deepEqual(run.parameters, {
    model: "m",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "p1" },
    ],
    seed: 5,
    temperature: 0,
    max_tokens: 200,
  });
  assert.ok(!JSON.stringify(run).includes(KEY));
});

test("without the header, seedUsed is the requested seed, else null", async () => {
  assert.equal((await getChatResponse(client, { model: "m", user: "p2", seed: 11 })).seedUsed, 11);
  assert.equal((await getChatResponse(client, { model: "m", user: "p2" })).seedUsed, null);
});

test("retries are counted: a 500 then a success takes 2 attempts", async () => {
  scripts.set("p3", (attempt) =>
    attempt === 1 ? { status: 500, body: { error: { message: "boom" } } } : { body: completion("ok") },
  );
  const run = await getChatResponse(client, { model: "m", user: "p3" });
  assert.equal(run.content, "ok");
  assert.equal(run.attempts, 2);
  assert.deepEqual(
    received("p3").map((request) => request.headers["x-stainless-retry-count"]),
    ["0", "1"],
  );
});

test("a failure throws ChatRequestError with the SDK error as cause; tryChatResponse records it instead", async () => {
  scripts.set("p4", () => ({ status: 429, body: { error: { message: "Rate limit reached", type: "requests" } } }));
  await assert.rejects(getChatResponse(client, { model: "m", user: "p4" }, { maxRetries: 0 }), (error: unknown) => {
    assert.ok(error instanceof ChatRequestError);
    assert.ok(error.cause instanceof OpenAI.RateLimitError);
    assert.equal(error.message, "RateLimitError (HTTP 429): 429 Rate limit reached");
    assert.deepEqual(error.run.error, { type: "RateLimitError", status: 429, message: "429 Rate limit reached" });
    return true;
  });
  const run = await tryChatResponse(client, { model: "m", user: "p4", seed: 3 }, { maxRetries: 1, index: 4 });
  assert.equal(run.index, 4);
  assert.equal(run.content, null);
  assert.equal(run.attempts, 2);
  assert.equal(run.seedUsed, 3);
  assert.equal(run.error?.type, "RateLimitError");
});

test("a model that rejects temperature or seed: the message says what to change", async () => {
  scripts.set("p5", () => ({
    status: 400,
    body: {
      error: {
        message:
          "Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.",
        param: "temperature",
      },
    },
  }));
  const run = await tryChatResponse(client, { model: "o3-mini", user: "p5", temperature: 0 });
  assert.equal(run.error?.type, "BadRequestError");
  assert.equal(run.error?.status, 400);
  assert.match(
    run.error?.message ?? "",
    /^400 Unsupported value: 'temperature' does not support 0.*use a model that accepts `temperature` and `seed`, e\.g\. gpt-4o-mini/,
  );
});

test("the API key never appears in a recorded or thrown error, even when the server echoes it", async () => {
  scripts.set("p6", () => ({
    status: 401,
    body: {
      error: {
        message: `Incorrect API key provided: ${KEY}. Also seen as sk-proj-********************************${KEY.slice(-4)}.`,
      },
    },
  }));
  const run = await tryChatResponse(client, { model: "m", user: "p6" });
  assert.equal(run.error?.type, "AuthenticationError");
  const text = JSON.stringify(run);
  assert.ok(!text.includes(KEY_BODY.slice(0, 16)) && !text.includes(KEY.slice(-4)), text);
  await assert.rejects(getChatResponse(client, { model: "m", user: "p6" }), (error: unknown) => {
    assert.ok(
      error instanceof Error &&
        !error.message.includes(KEY_BODY.slice(0, 16)) &&
        !error.message.includes(KEY.slice(-4)),
    );
    return true;
  });
});

test("broken JSON and timeouts are recorded with their class and a null status when no response arrived", async () => {
  scripts.set("p7", () => ({ raw: "{ not json" }));
  const broken = await tryChatResponse(client, { model: "m", user: "p7" });
  assert.equal(broken.error?.type, "SyntaxError");
  assert.match(broken.error?.message ?? "", /^The response body was not valid JSON: /);
  assert.equal(broken.content, null);
  scripts.set("p8", () => ({ hang: true }));
  const timedOut = await tryChatResponse(client, { model: "m", user: "p8" }, { timeoutMs: 150, maxRetries: 0 });
  assert.deepEqual(timedOut.error && { type: timedOut.error.type, status: timedOut.error.status }, {
    type: "APIConnectionTimeoutError",
    status: null,
  });
  assert.equal(timedOut.attempts, 1);
});

test("invalid input throws before any request is sent", async () => {
  const before = server.requests.length;
  await assert.rejects(getChatResponse(client, { model: "m", user: "p9", temperature: 3 }), InvalidParameterError);
  await assert.rejects(tryChatResponse(client, { model: "m", user: "p9", seed: 0.5 }), InvalidParameterError);
  assert.equal(server.requests.length, before);
});
