import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidParameterError, explainUnsupportedParameter, validateBackendKind, validateBaseURL, validateBatchOptions } from "../src/validate";
import { buildChatParameters, type ChatRequest } from "../src/chat";

const request = (extra: Record<string, unknown>): ChatRequest => ({ model: "m", user: "Hi", ...extra });

// Each case: what is passed, the parameter named, and a fragment of the message (value shown + what to do).
const cases: Array<{ name: string; check: () => unknown; parameter: string; message: string }> = [
  { name: "temperature above 2", check: () => buildChatParameters(request({ temperature: 3 })), parameter: "temperature", message: "Expected `temperature` to be a number from 0 to 2, got 3. Use 0 for the most repeatable output." },
  { name: "temperature below 0", check: () => buildChatParameters(request({ temperature: -0.1 })), parameter: "temperature", message: "got -0.1" },
  { name: "temperature as string", check: () => buildChatParameters(request({ temperature: "0" })), parameter: "temperature", message: 'got "0"' },
  { name: "temperature NaN", check: () => buildChatParameters(request({ temperature: Number.NaN })), parameter: "temperature", message: "got NaN" },
  { name: "seed fractional", check: () => buildChatParameters(request({ seed: 1.5 })), parameter: "seed", message: "Expected `seed` to be an integer from -9007199254740991 to 9007199254740991, got 1.5." },
  { name: "seed beyond safe integers", check: () => buildChatParameters(request({ seed: 2 ** 60 })), parameter: "seed", message: "got 1152921504606847000" },
  { name: "seed as string", check: () => buildChatParameters(request({ seed: "123" })), parameter: "seed", message: 'got "123". Use a whole number' },
  { name: "top_p 0", check: () => buildChatParameters(request({ top_p: 0 })), parameter: "top_p", message: "Expected `top_p` to be a number above 0 and at most 1, got 0." },
  { name: "top_p above 1", check: () => buildChatParameters(request({ top_p: 1.5 })), parameter: "top_p", message: "got 1.5" },
  { name: "n 0", check: () => buildChatParameters(request({ n: 0 })), parameter: "n", message: "Expected `n` to be an integer from 1 and up, got 0." },
  { name: "max_tokens 0", check: () => buildChatParameters(request({ max_tokens: 0 })), parameter: "max_tokens", message: "Expected `max_tokens` to be an integer from 1 and up, got 0. Use e.g. 200." },
  { name: "max_tokens fractional", check: () => buildChatParameters(request({ max_tokens: 2.5 })), parameter: "max_tokens", message: "got 2.5" },
  { name: "top_logprobs 21", check: () => buildChatParameters(request({ top_logprobs: 21 })), parameter: "top_logprobs", message: "from 0 to 20, got 21" },
  { name: "empty model", check: () => buildChatParameters(request({ model: "" })), parameter: "model", message: 'Expected `model` to be a model name, got "".' },
  { name: "no user prompt", check: () => buildChatParameters({ model: "m" }), parameter: "user", message: "got undefined. Pass user:" },
  { name: "messages and user", check: () => buildChatParameters(request({ messages: [{ role: "user", content: "x" }] })), parameter: "messages", message: "got both" },
  { name: "empty messages", check: () => buildChatParameters({ model: "m", messages: [] }), parameter: "messages", message: "Expected `messages` to be a non-empty array of { role, content }, got []." },
  { name: "unknown role", check: () => buildChatParameters({ model: "m", messages: [{ role: "robot", content: "x" }] as never }), parameter: "messages[0].role", message: 'got "robot"' },
  { name: "non-string content", check: () => buildChatParameters({ model: "m", messages: [{ role: "user", content: "a" }, { role: "user", content: 5 }] as never }), parameter: "messages[1].content", message: "to be a string, got 5." },
  { name: "stream true", check: () => buildChatParameters(request({ stream: true })), parameter: "stream", message: "leave `stream` out" },
  { name: "runs 0", check: () => validateBatchOptions({ runs: 0, concurrency: 1 }), parameter: "runs", message: "Expected `runs` to be an integer from 1 and up, got 0." },
  { name: "runs fractional", check: () => validateBatchOptions({ runs: 2.5, concurrency: 1 }), parameter: "runs", message: "got 2.5" },
  { name: "concurrency 0", check: () => validateBatchOptions({ runs: 5, concurrency: 0 }), parameter: "concurrency", message: "Expected `concurrency` to be an integer from 1 and up, got 0. Use 1" },
  { name: "unknown backend", check: () => validateBackendKind("ollama"), parameter: "SEEDLAB_BACKEND", message: 'Expected `SEEDLAB_BACKEND` to be one of "openai", "compatible", "local", got "ollama".' },
  { name: "base URL not a URL", check: () => validateBaseURL("localhost:11434"), parameter: "OPENAI_BASE_URL", message: 'Expected `OPENAI_BASE_URL` to be an http(s) URL, got "localhost:11434".' },
  { name: "base URL not http", check: () => validateBaseURL("ftp://example.com/v1"), parameter: "OPENAI_BASE_URL", message: "got \"ftp://example.com/v1\"" },
];

test("invalid input is rejected with the parameter in backticks, its value and the fix", async (t) => {
  for (const { name, check, parameter, message } of cases) {
    await t.test(name, () => {
      assert.throws(check, (error: unknown) => {
        assert.ok(error instanceof InvalidParameterError, `${name}: ${String(error)}`);
        assert.equal(error.parameter, parameter);
        assert.ok(error.message.includes(message), `${name}: message was: ${error.message}`);
        return true;
      });
    });
  }
});

test("valid requests pass and get the guide's defaults", () => {
  assert.deepEqual(buildChatParameters({ model: "m", system: "S", user: "U", seed: 0 }), {
    model: "m",
    messages: [{ role: "system", content: "S" }, { role: "user", content: "U" }],
    seed: 0,
    temperature: 0.7,
    max_tokens: 200,
  });
  // Edges of the ranges are allowed; null leaves temperature out; max_completion_tokens replaces the max_tokens default.
  assert.deepEqual(buildChatParameters({ model: "m", user: "U", temperature: null, max_completion_tokens: 50, top_p: 1, seed: Number.MAX_SAFE_INTEGER }), {
    model: "m",
    messages: [{ role: "user", content: "U" }],
    seed: Number.MAX_SAFE_INTEGER,
    max_completion_tokens: 50,
    top_p: 1,
  });
  assert.equal(buildChatParameters({ model: "m", user: "U", temperature: 2 }).temperature, 2);
  assert.equal(buildChatParameters({ model: "m", user: "U", temperature: 0 }).temperature, 0);
});

test("an unsupported temperature or seed error says what to change; other errors are unchanged", () => {
  const reasoning = "400 Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.";
  const explained = explainUnsupportedParameter(reasoning);
  assert.ok(explained.startsWith(reasoning));
  assert.match(explained, /use a model that accepts `temperature` and `seed`, e\.g\. gpt-4o-mini/);
  assert.match(explainUnsupportedParameter("400 Unsupported parameter: 'seed' is not supported with this model."), /`seed`.*gpt-4o-mini/);
  assert.match(explainUnsupportedParameter("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."), /send `max_completion_tokens`/);
  assert.equal(explainUnsupportedParameter("500 Internal server error"), "500 Internal server error");
});
