// One batch against every fault a backend can produce at once: each run ends as a success or as a
// recorded error (class, status, message), none is dropped, retries follow the SDK's policy and are
// counted on `run.attempts`, and the other runs go on. (Single-request behaviour of a 500, a 429,
// "{ not json" and a timeout is in chat.test.ts; failures and aborts in a plain batch in batch.test.ts.)
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "../src/client";
import { runRequests } from "../src/core/batch";
import type { BatchProgress, ChatRun } from "../src/core/types";
import { completion, startFaultServer, type FaultResponse, type FaultServer } from "./support/fault-server";

const overloaded = { status: 503, body: { error: { message: "The engine is currently overloaded" } } };
const ok = (content: string): FaultResponse => ({ body: completion(content) });

/** Each prompt names its fault; the script gets the attempt number for that prompt (1 = first try). */
const FAULTS: Record<string, (attempt: number) => FaultResponse> = {
  ok: () => ok("fine"),
  "fingerprint null": () => ({ body: completion("no fingerprint", null) }),
  "fields omitted": () => ({ body: { choices: [{ message: { content: "bare" } }] } }),
  "429 with Retry-After, then ok": (attempt) =>
    attempt === 1
      ? {
          status: 429,
          headers: { "retry-after": "1" },
          body: { error: { message: "Rate limit reached for requests", type: "requests" } },
        }
      : ok("after 429"),
  "500 twice, then ok": (attempt) =>
    attempt <= 2 ? { status: 500, body: { error: { message: "boom" } } } : ok("third time"),
  "503 always": () => overloaded,
  // Retry-After: 0 makes the SDK retry at once instead of backing off (it honours the header).
  "503 always, Retry-After 0": () => ({ ...overloaded, headers: { "retry-after": "0" } }),
  "reset, then ok": (attempt) => (attempt === 1 ? { reset: true } : ok("after reset")),
  "reset always": () => ({ reset: true }),
  "hang past the timeout": () => ({ hang: true }),
  "body cut off": () => ({ body: completion("this body is cut off"), truncateAt: 40 }),
  "JSON truncated": () => ({ raw: JSON.stringify(completion("half")).slice(0, 50) }),
  "no choices": () => ({ body: { id: "chatcmpl-x", object: "chat.completion", created: 0, model: "m" } }),
  "400": () => ({ status: 400, body: { error: { message: "Invalid value for 'seed'.", param: "seed" } } }),
};

// [prompt, outcome ("ok" or the error class), status, attempts] with maxRetries 2.
const EXPECTED: Array<[string, string, number | null, number]> = [
  ["ok", "ok", null, 1],
  ["fingerprint null", "ok", null, 1],
  ["fields omitted", "ok", null, 1],
  ["429 with Retry-After, then ok", "ok", null, 2],
  ["500 twice, then ok", "ok", null, 3],
  ["503 always", "InternalServerError", 503, 3],
  ["reset, then ok", "ok", null, 2],
  ["reset always", "APIConnectionError", null, 3],
  ["hang past the timeout", "APIConnectionTimeoutError", null, 3],
  // A body cut off after the headers, or JSON that does not parse, is not retried by the SDK.
  ["body cut off", "TypeError", null, 1],
  ["JSON truncated", "SyntaxError", null, 1],
  ["no choices", "InvalidResponseError", 200, 1],
  ["400", "BadRequestError", 400, 1],
];

let server: FaultServer;
const attempts = new Map<string, number>();
const promptOf = (body: Record<string, unknown>): string =>
  (body.messages as Array<{ content: string }>)[0]?.content ?? "";

before(async () => {
  server = await startFaultServer(({ body }) => {
    const prompt = promptOf(body);
    const attempt = (attempts.get(prompt) ?? 0) + 1;
    attempts.set(prompt, attempt);
    const script = FAULTS[prompt.replace(/ #\d+$/, "")];
    return script ? script(attempt) : { status: 404, body: { error: { message: `unscripted prompt ${prompt}` } } };
  });
});
after(() => server.close());

test("a batch against mixed faults: every run a success or a recorded error, retries counted, none dropped", async () => {
  const client = createClient({ baseURL: server.url, maxRetries: 2, timeoutMs: 300 });
  const progress: BatchProgress[] = [];
  const batch = await runRequests({
    client,
    requests: EXPECTED.map(([prompt]) => ({ model: "m", user: prompt, seed: 1, temperature: 0 })),
    concurrency: 4,
    onProgress: (event) => progress.push(event),
  });

  assert.deepEqual(
    batch.runs.map((run) => run.index),
    EXPECTED.map((_, index) => index),
  );
  assert.deepEqual(
    batch.runs.map((run) => [
      promptOf(run.parameters),
      run.error?.type ?? "ok",
      run.error?.status ?? null,
      run.attempts,
    ]),
    EXPECTED,
  );
  for (const run of batch.runs) {
    const prompt = promptOf(run.parameters);
    assert.equal(run.attempts, attempts.get(prompt), `${prompt}: attempts counts every request the server received`);
    if (run.error === null) {
      assert.equal(typeof run.content, "string", prompt);
    } else {
      assert.equal(run.content, null, prompt);
      assert.ok(run.error.message.length > 10, `${prompt}: ${run.error.message}`);
      assert.doesNotMatch(run.error.message, /Cannot read properties|undefined/, `${prompt}: says what went wrong`);
    }
  }
  const byPrompt = new Map(batch.runs.map((run): [string, ChatRun] => [promptOf(run.parameters), run]));
  assert.equal(byPrompt.get("fingerprint null")?.systemFingerprint, null);
  assert.deepEqual(pick(byPrompt.get("fields omitted")), {
    content: "bare",
    systemFingerprint: null,
    promptTokens: null,
    completionTokens: null,
    finishReason: null,
    responseModel: null,
  });
  assert.equal(byPrompt.get("503 always")?.error?.message, "503 The engine is currently overloaded");
  assert.match(byPrompt.get("reset always")?.error?.message ?? "", /^Connection error \(.*ECONNRESET.*\)\.$/);
  assert.equal(byPrompt.get("hang past the timeout")?.error?.message, "Request timed out.");
  assert.match(
    byPrompt.get("body cut off")?.error?.message ?? "",
    /^The response was cut off: the connection closed before the whole body arrived/,
  );
  assert.match(byPrompt.get("JSON truncated")?.error?.message ?? "", /^The response body was not valid JSON: /);
  assert.match(
    byPrompt.get("no choices")?.error?.message ?? "",
    /^The response is not a chat completion: it has no `choices` array\. Check that the base URL/,
  );

  assert.equal(progress.length, EXPECTED.length, "one progress event per run");
  assert.equal(progress[progress.length - 1]?.failed, EXPECTED.filter(([, outcome]) => outcome !== "ok").length);
});

test("retries follow maxRetries: a 503 every time takes maxRetries + 1 attempts, a 400 never retries", async () => {
  const client = createClient({ baseURL: server.url, maxRetries: 2, timeoutMs: 2000 });
  for (const maxRetries of [0, 1, 4]) {
    const prompt = `503 always, Retry-After 0 #${maxRetries}`;
    const batch = await runRequests({
      client,
      requests: [
        { model: "m", user: prompt },
        { model: "m", user: `400 #${maxRetries}` },
      ],
      maxRetries,
    });
    assert.deepEqual(
      batch.runs.map((run) => [run.error?.status, run.attempts]),
      [
        [503, maxRetries + 1],
        [400, 1],
      ],
      `maxRetries ${maxRetries}`,
    );
    assert.equal(attempts.get(prompt), maxRetries + 1);
  }
});

function pick(run: ChatRun | undefined): Partial<ChatRun> {
  if (run === undefined) return {};
  const { content, systemFingerprint, promptTokens, completionTokens, finishReason, responseModel } = run;
  return { content, systemFingerprint, promptTokens, completionTokens, finishReason, responseModel };
}
