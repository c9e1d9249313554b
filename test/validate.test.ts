import { test } from "node:test";
import assert from "node:assert/strict";
import {
  InvalidParameterError,
  explainUnsupportedParameter,
  validateBackendKind,
  validateBaseURL,
  validateBatchOptions,
} from "../src/core/validate";
import { buildChatParameters, type ChatRequest } from "../src/core/chat";
import { createClient } from "../src/client";
import { ApiError, validateChatRequest } from "../src/local/request";

const request = (extra: Record<string, unknown>): ChatRequest => ({ model: "m", user: "Hi", ...extra });
const LOCAL_MODEL = "m";

// Each case: what is passed, the parameter named, and a fragment of the message (value shown + what to do).
// A case given as `fields` (request body fields) is checked twice: by seedlab's own helpers
// (buildChatParameters: InvalidParameterError, nothing sent) and by the local server's request
// validation (an HTTP 400 naming the same parameter), unless `local.skip` says why it does not apply.
type Case = { name: string; parameter: string; message: string } & (
  { fields: Record<string, unknown>; local?: { skip: string } } | { check: () => unknown }
);
const cases: Case[] = [
  // temperature: a number from 0 to 2
  {
    name: "temperature above 2",
    fields: { temperature: 3 },
    parameter: "temperature",
    message: "Expected `temperature` to be a number from 0 to 2, got 3. Use 0 for the most repeatable output.",
  },
  { name: "temperature below 0", fields: { temperature: -0.1 }, parameter: "temperature", message: "got -0.1" },
  { name: "temperature as string", fields: { temperature: "0" }, parameter: "temperature", message: 'got "0"' },
  {
    name: "temperature NaN",
    fields: { temperature: Number.NaN },
    parameter: "temperature",
    message: "got NaN",
    local: { skip: "JSON has no NaN" },
  },
  // seed: a safe integer
  {
    name: "seed fractional",
    fields: { seed: 1.5 },
    parameter: "seed",
    message: "Expected `seed` to be an integer from -9007199254740991 to 9007199254740991, got 1.5.",
  },
  {
    name: "seed beyond safe integers",
    fields: { seed: 2 ** 60 },
    parameter: "seed",
    message: "got 1152921504606847000",
  },
  {
    name: "seed below safe integers",
    fields: { seed: -(2 ** 60) },
    parameter: "seed",
    message: "got -1152921504606847000",
  },
  { name: "seed as string", fields: { seed: "123" }, parameter: "seed", message: 'got "123". Use a whole number' },
  // top_p: above 0, at most 1
  {
    name: "top_p 0",
    fields: { top_p: 0 },
    parameter: "top_p",
    message: "Expected `top_p` to be a number above 0 and at most 1, got 0.",
  },
  { name: "top_p above 1", fields: { top_p: 1.5 }, parameter: "top_p", message: "got 1.5" },
  { name: "top_p as string", fields: { top_p: "0.5" }, parameter: "top_p", message: 'got "0.5"' },
  // n, max_tokens, max_completion_tokens: integers from 1
  { name: "n 0", fields: { n: 0 }, parameter: "n", message: "Expected `n` to be an integer from 1 and up, got 0." },
  { name: "n fractional", fields: { n: 1.5 }, parameter: "n", message: "got 1.5" },
  { name: "n as string", fields: { n: "2" }, parameter: "n", message: 'got "2"' },
  {
    name: "n above 1 (one choice per run)",
    fields: { n: 3 },
    parameter: "n",
    message: "Expected `n` to be 1 (one choice per run), got 3.",
    local: { skip: "the local server returns n choices; a seedlab run records one" },
  },
  {
    name: "max_tokens 0",
    fields: { max_tokens: 0 },
    parameter: "max_tokens",
    message: "Expected `max_tokens` to be an integer from 1 and up, got 0. Use e.g. 200.",
  },
  { name: "max_tokens negative", fields: { max_tokens: -5 }, parameter: "max_tokens", message: "got -5" },
  { name: "max_tokens fractional", fields: { max_tokens: 2.5 }, parameter: "max_tokens", message: "got 2.5" },
  { name: "max_tokens as string", fields: { max_tokens: "100" }, parameter: "max_tokens", message: 'got "100"' },
  {
    name: "max_completion_tokens 0",
    fields: { max_completion_tokens: 0 },
    parameter: "max_completion_tokens",
    message: "Expected `max_completion_tokens` to be an integer from 1 and up, got 0.",
  },
  {
    name: "top_logprobs 21",
    fields: { logprobs: true, top_logprobs: 21 },
    parameter: "top_logprobs",
    message: "from 0 to 20, got 21",
  },
  {
    name: "top_logprobs negative",
    fields: { logprobs: true, top_logprobs: -1 },
    parameter: "top_logprobs",
    message: "got -1",
  },
  // model and messages
  {
    name: "empty model",
    fields: { model: "" },
    parameter: "model",
    message: 'Expected `model` to be a model name, got "".',
  },
  { name: "model as number", fields: { model: 5 }, parameter: "model", message: "got 5. Pass the model to use" },
  {
    name: "empty messages",
    fields: { messages: [] },
    parameter: "messages",
    message: "Expected `messages` to be a non-empty array of { role, content }, got [].",
  },
  { name: "messages as string", fields: { messages: "Hi" }, parameter: "messages", message: 'got "Hi"' },
  {
    name: "message not an object",
    fields: { messages: [null] },
    parameter: "messages[0]",
    message: "Expected `messages[0]` to be an object { role, content }, got null.",
  },
  {
    name: "unknown role",
    fields: { messages: [{ role: "robot", content: "x" }] },
    parameter: "messages[0].role",
    message: 'got "robot". Use "system" for instructions',
  },
  {
    name: "role missing",
    fields: { messages: [{ content: "x" }] },
    parameter: "messages[0].role",
    message: "got undefined",
  },
  {
    name: "non-string content",
    fields: {
      messages: [
        { role: "user", content: "a" },
        { role: "user", content: 5 },
      ],
    },
    parameter: "messages[1].content",
    message: "to be a string, got 5.",
  },
  // seedlab-only rules (the request shape `user`/`system`, and whole responses only)
  {
    name: "no user prompt",
    check: () => buildChatParameters({ model: "m" }),
    parameter: "user",
    message: "got undefined. Pass user:",
  },
  {
    name: "messages and user",
    check: () => buildChatParameters(request({ messages: [{ role: "user", content: "x" }] })),
    parameter: "messages",
    message: "got both",
  },
  {
    name: "system as number",
    check: () => buildChatParameters(request({ system: 5 })),
    parameter: "system",
    message: "Expected `system` to be a string, got 5.",
  },
  {
    name: "request not an object",
    check: () => buildChatParameters(null as never),
    parameter: "request",
    message: "Expected `request` to be an object, got null.",
  },
  {
    name: "stream true",
    fields: { stream: true },
    parameter: "stream",
    message: "leave `stream` out",
    local: { skip: "the local server streams" },
  },
  // batches
  {
    name: "runs 0",
    check: () => validateBatchOptions({ runs: 0, concurrency: 1 }),
    parameter: "runs",
    message: "Expected `runs` to be an integer from 1 and up, got 0.",
  },
  {
    name: "runs fractional",
    check: () => validateBatchOptions({ runs: 2.5, concurrency: 1 }),
    parameter: "runs",
    message: "got 2.5",
  },
  {
    name: "concurrency 0",
    check: () => validateBatchOptions({ runs: 5, concurrency: 0 }),
    parameter: "concurrency",
    message: "Expected `concurrency` to be an integer from 1 and up, got 0. Use 1",
  },
  {
    name: "concurrency as string",
    check: () => validateBatchOptions({ runs: 5, concurrency: "5" }),
    parameter: "concurrency",
    message: 'got "5"',
  },
  // backends and clients
  {
    name: "unknown backend",
    check: () => validateBackendKind("ollama"),
    parameter: "SEEDLAB_BACKEND",
    message: 'Expected `SEEDLAB_BACKEND` to be one of "openai", "compatible", "local", got "ollama".',
  },
  {
    name: "base URL not a URL",
    check: () => validateBaseURL("localhost:11434"),
    parameter: "OPENAI_BASE_URL",
    message: 'Expected `OPENAI_BASE_URL` to be an http(s) URL, got "localhost:11434".',
  },
  {
    name: "base URL not http",
    check: () => validateBaseURL("ftp://example.com/v1"),
    parameter: "OPENAI_BASE_URL",
    message: 'got "ftp://example.com/v1"',
  },
  {
    name: "client base URL not a URL",
    check: () => createClient({ baseURL: "not a url" }),
    parameter: "baseURL",
    message: 'Expected `baseURL` to be an http(s) URL, got "not a url". Use the server',
  },
  {
    name: "client without base URL",
    check: () => createClient({ baseURL: null }),
    parameter: "baseURL",
    message: "got null. Use openBackend(settings)",
  },
  {
    name: "client timeout 0",
    check: () => createClient({ baseURL: "http://127.0.0.1:1/v1", timeoutMs: 0 }),
    parameter: "timeoutMs",
    message: "got 0. Use e.g. 60000",
  },
  {
    name: "client maxRetries negative",
    check: () => createClient({ baseURL: "http://127.0.0.1:1/v1", maxRetries: -1 }),
    parameter: "maxRetries",
    message: "got -1. Use 0 for no retry",
  },
];

/** The request seedlab builds from body fields: `user: "Hi"` unless the case sets `messages`. */
const clientRequest = (fields: Record<string, unknown>): ChatRequest =>
  "messages" in fields ? { model: "m", ...fields } : request(fields);
/** The body a raw client would send the local server with the same fields. */
const serverBody = (fields: Record<string, unknown>): Record<string, unknown> => ({
  model: LOCAL_MODEL,
  messages: [{ role: "user", content: "Hi" }],
  ...fields,
});

test("invalid input is rejected with the parameter in backticks, its value and the fix", async (t) => {
  for (const testCase of cases) {
    const { name, parameter, message } = testCase;
    await t.test(name, () => {
      const check = "check" in testCase ? testCase.check : () => buildChatParameters(clientRequest(testCase.fields));
      assert.throws(check, (error: unknown) => {
        assert.ok(error instanceof InvalidParameterError, `${name}: ${String(error)}`);
        assert.equal(error.parameter, parameter);
        assert.ok(error.message.includes(message), `${name}: message was: ${error.message}`);
        assert.ok(error.message.includes(`\`${parameter}\``), `${name}: names \`${parameter}\` in backticks`);
        return true;
      });
    });
    if ("fields" in testCase && testCase.local === undefined) {
      await t.test(`${name} (local server)`, () => {
        assert.throws(
          () => validateChatRequest(serverBody(testCase.fields), LOCAL_MODEL),
          (error: unknown) => {
            assert.ok(error instanceof ApiError, `${name}: ${String(error)}`);
            assert.equal(error.status, 400);
            assert.equal(error.param, parameter);
            assert.ok(error.message.includes(`\`${parameter}\``), `${name}: message was: ${error.message}`);
            return true;
          },
        );
      });
    }
  }
});

test("valid requests pass and get the guide's defaults", () => {
  assert.deepEqual(buildChatParameters({ model: "m", system: "S", user: "U", seed: 0 }), {
    model: "m",
    messages: [
      { role: "system", content: "S" },
      { role: "user", content: "U" },
    ],
    seed: 0,
    temperature: 0.7,
    max_tokens: 200,
  });
  // Edges of the ranges are allowed; null leaves temperature out; max_completion_tokens replaces the max_tokens default.
  assert.deepEqual(
    buildChatParameters({
      model: "m",
      user: "U",
      temperature: null,
      max_completion_tokens: 50,
      top_p: 1,
      seed: Number.MAX_SAFE_INTEGER,
    }),
    {
      model: "m",
      messages: [{ role: "user", content: "U" }],
      seed: Number.MAX_SAFE_INTEGER,
      max_completion_tokens: 50,
      top_p: 1,
    },
  );
  assert.equal(buildChatParameters({ model: "m", user: "U", temperature: 2 }).temperature, 2);
  assert.equal(buildChatParameters({ model: "m", user: "U", temperature: 0 }).temperature, 0);
});

test("an unsupported temperature or seed error says what to change; other errors are unchanged", () => {
  const reasoning =
    "400 Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.";
  const explained = explainUnsupportedParameter(reasoning);
  assert.ok(explained.startsWith(reasoning));
  assert.match(explained, /use a model that accepts `temperature` and `seed`, e\.g\. gpt-4o-mini/);
  assert.match(
    explainUnsupportedParameter("400 Unsupported parameter: 'seed' is not supported with this model."),
    /`seed`.*gpt-4o-mini/,
  );
  assert.match(
    explainUnsupportedParameter(
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
    ),
    /send `max_completion_tokens`/,
  );
  assert.equal(explainUnsupportedParameter("500 Internal server error"), "500 Internal server error");
});
