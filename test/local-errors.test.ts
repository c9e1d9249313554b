// Bad requests to the local server come back as 4xx in OpenAI's error format (parsed by the SDK
// into its error classes), and the server keeps serving; start-up failures reject with a clear message.
import assert from "node:assert/strict";
import { createServer, Server } from "node:net";
import { after, before, test } from "node:test";
import OpenAI, { APIError } from "openai";
import { LocalServer, startLocalServer } from "../src/local/start";

const MESSAGES = [{ role: "user" as const, content: "Once upon a time" }];

let server: LocalServer;
let client: OpenAI;

before(async () => {
  server = await startLocalServer({ maxQueue: 0 });
  client = new OpenAI({ apiKey: "local", baseURL: server.url, maxRetries: 0 });
});
after(() => server.close());

async function expectApiError(
  request: Promise<unknown>,
  errorClass: Function & { prototype: APIError },
  status: number,
  param: string | null,
) {
  const error = await request.then(
    () => assert.fail("the request should have failed"),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${String(error)}`);
  assert.ok(error instanceof APIError);
  assert.equal(error.status, status);
  assert.equal(error.param ?? null, param);
  assert.equal(typeof error.type, "string");
  // The server still serves.
  const after = await client.chat.completions.create({
    model: server.model,
    messages: MESSAGES,
    seed: 1,
    max_tokens: 2,
  });
  assert.equal(after.choices.length, 1);
}

/** Sends a body the SDK's types would not allow (wrong types), through the SDK. */
function postRaw(body: Record<string, unknown>) {
  return client.post("/chat/completions", { body: { model: server.model, messages: MESSAGES, ...body } });
}

test("out-of-range and wrongly typed parameters are 400s naming the parameter", async () => {
  await expectApiError(
    client.chat.completions.create({ model: server.model, messages: MESSAGES, temperature: 2.5 }),
    OpenAI.BadRequestError,
    400,
    "temperature",
  );
  await expectApiError(
    client.chat.completions.create({ model: server.model, messages: MESSAGES, top_p: 0 }),
    OpenAI.BadRequestError,
    400,
    "top_p",
  );
  await expectApiError(
    client.chat.completions.create({ model: server.model, messages: MESSAGES, seed: 1.5 }),
    OpenAI.BadRequestError,
    400,
    "seed",
  );
  await expectApiError(
    client.chat.completions.create({ model: server.model, messages: MESSAGES, n: 0 }),
    OpenAI.BadRequestError,
    400,
    "n",
  );
  await expectApiError(
    client.chat.completions.create({ model: server.model, messages: MESSAGES, max_tokens: 0 }),
    OpenAI.BadRequestError,
    400,
    "max_tokens",
  );
  await expectApiError(
    client.chat.completions.create({ model: server.model, messages: MESSAGES, max_tokens: 100000 }),
    OpenAI.BadRequestError,
    400,
    "max_tokens",
  );
  await expectApiError(postRaw({ temperature: "hot" }), OpenAI.BadRequestError, 400, "temperature");
  await expectApiError(
    postRaw({ messages: [{ role: "user", content: 42 }] }),
    OpenAI.BadRequestError,
    400,
    "messages[0].content",
  );
  await expectApiError(
    postRaw({ messages: [{ role: "tool", content: "x" }] }),
    OpenAI.BadRequestError,
    400,
    "messages[0].role",
  );
});

test("empty messages are a 400", async () => {
  await expectApiError(
    client.chat.completions.create({ model: server.model, messages: [] }),
    OpenAI.BadRequestError,
    400,
    "messages",
  );
});

test("parameters the server cannot honour are 400s naming them, never ignored", async () => {
  const tools: OpenAI.ChatCompletionTool[] = [{ type: "function", function: { name: "f", parameters: {} } }];
  await expectApiError(
    client.chat.completions.create({ model: server.model, messages: MESSAGES, tools }),
    OpenAI.BadRequestError,
    400,
    "tools",
  );
  await expectApiError(
    client.chat.completions.create({
      model: server.model,
      messages: MESSAGES,
      response_format: { type: "json_object" },
    }),
    OpenAI.BadRequestError,
    400,
    "response_format",
  );
  await expectApiError(
    client.chat.completions.create({ model: server.model, messages: MESSAGES, presence_penalty: 0.5 }),
    OpenAI.BadRequestError,
    400,
    "presence_penalty",
  );
  await expectApiError(postRaw({ toString: 1 }), OpenAI.BadRequestError, 400, "toString");
});

test("an unknown model is a 404 model_not_found", async () => {
  const request = client.chat.completions.create({ model: "gpt-4o", messages: MESSAGES });
  await expectApiError(request, OpenAI.NotFoundError, 404, "model");
  await request.catch((error: InstanceType<typeof OpenAI.APIError>) => assert.equal(error.code, "model_not_found"));
});

test("an oversized body is a 413", async () => {
  const huge = "x".repeat(2 * 1024 * 1024);
  await expectApiError(
    client.chat.completions.create({ model: server.model, messages: [{ role: "user", content: huge }] }),
    OpenAI.APIError,
    413,
    null,
  );
});

test("malformed JSON is a 400 in OpenAI's error format", async () => {
  const response = await fetch(`${server.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{ not json",
  });
  assert.equal(response.status, 400);
  const body = (await response.json()) as { error: { message: string; type: string; param: unknown; code: unknown } };
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
  assert.equal(body.error.code, "invalid_json");
  await expectApiError(client.models.retrieve("nope"), OpenAI.NotFoundError, 404, "model");
});

test("a full queue is a 429 with Retry-After (maxQueue 0: no request waits for a busy worker)", async () => {
  // More requests than the server has workers (at most 4 by default): some find every worker busy.
  const results = await Promise.allSettled(
    [1, 2, 3, 4, 5, 6].map((seed) =>
      client.chat.completions.create({ model: server.model, messages: MESSAGES, seed, max_tokens: 200 }),
    ),
  );
  const rejected = results.filter((result): result is PromiseRejectedResult => result.status === "rejected");
  assert.ok(results.some((result) => result.status === "fulfilled"));
  assert.ok(rejected.length > 0);
  for (const { reason } of rejected) {
    assert.ok(reason instanceof OpenAI.RateLimitError);
    assert.equal(reason.headers?.get("retry-after"), "1");
  }
});

test("start-up failures reject with the reason: port in use, missing model", async () => {
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    await assert.rejects(startLocalServer({ port }), /already in use/);
  } finally {
    blocker.close();
  }
  await assert.rejects(startLocalServer({ modelPath: "/no/such/model.gguf" }), /does not exist/);
});
