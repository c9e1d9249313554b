// Another configuration of a running local server (POST /seedlab/configurations), against the real model: the
// same loaded model with other context settings, in the same process. It must answer exactly as a server started
// with those settings does (same fingerprint, same texts and log-probabilities), refuse what needs another server
// with a message naming the setting, and be made once per settings.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { addServerConfiguration, type LocalServer, startLocalServer } from "../src/local/start";

let server: LocalServer;
let float16Server: LocalServer;

before(async () => {
  [server, float16Server] = await Promise.all([startLocalServer(), startLocalServer({ attention: "float16" })]);
});
after(() => Promise.all([server.close(), float16Server.close()]));

const root = () => server.url.replace(/\/v1$/, "");
const post = (body: unknown) =>
  fetch(`${root()}/seedlab/configurations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

test("a float16 configuration answers exactly as a float16 server: fingerprint, texts, log-probabilities", async () => {
  const added = await addServerConfiguration(server.url, { attention: "float16" });
  assert.equal(added.fingerprint, float16Server.fingerprint);
  assert.notEqual(added.fingerprint, server.fingerprint);
  assert.ok(added.url.startsWith(root()), added.url);
  const inServer = new OpenAI({ apiKey: "local", baseURL: added.url, maxRetries: 0 });
  const alone = new OpenAI({ apiKey: "local", baseURL: float16Server.url, maxRetries: 0 });
  const request = (seed: number) => ({
    model: server.model,
    messages: [{ role: "user" as const, content: "Generate a short excerpt of news about a journey to Mars." }],
    seed,
    temperature: 0.7,
    max_tokens: 60,
    logprobs: true,
    top_logprobs: 3,
  });
  const seeds = [100, 101, 102, 103, 104, 105];
  const [fromConfiguration, fromServer] = await Promise.all([
    Promise.all(seeds.map((seed) => inServer.chat.completions.create(request(seed)))),
    Promise.all(seeds.map((seed) => alone.chat.completions.create(request(seed)))),
  ]);
  for (const [index, seed] of seeds.entries()) {
    const [mine, theirs] = [fromConfiguration[index], fromServer[index]];
    assert.ok(mine && theirs);
    assert.equal(mine.system_fingerprint, float16Server.fingerprint);
    assert.equal(mine.choices[0]?.message.content, theirs.choices[0]?.message.content, `seed ${seed}: same text`);
    assert.deepEqual(mine.choices[0]?.logprobs, theirs.choices[0]?.logprobs, `seed ${seed}: same log-probabilities`);
  }
  // The first configuration is unchanged beside it.
  const first = new OpenAI({ apiKey: "local", baseURL: server.url, maxRetries: 0 });
  assert.equal((await first.chat.completions.create(request(100))).system_fingerprint, server.fingerprint);
});

test("the same settings give the same configuration; its /health and /v1/models answer", async () => {
  const [once, again] = [await post({ batchSize: 1 }), await post({ batchSize: 1 })];
  assert.equal(once.status, 200);
  const [first, second] = [(await once.json()) as { path: string }, (await again.json()) as { path: string }];
  assert.equal(first.path, second.path);
  const health = (await (await fetch(`${root()}${first.path.replace(/\/v1$/, "")}/health`)).json()) as {
    fingerprint_inputs: { batchSize: number };
    pid: number;
  };
  assert.equal(health.fingerprint_inputs.batchSize, 1);
  assert.equal(health.pid, server.pid, "served by the same process");
  const models = (await (await fetch(`${root()}${first.path}/models`)).json()) as { data: Array<{ id: string }> };
  assert.deepEqual(
    models.data.map((model) => model.id),
    [server.model],
  );
});

test("settings another server would need, or bad values, are refused with the setting named", async () => {
  const refused = async (body: unknown, pattern: RegExp) => {
    const response = await post(body);
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as { error: { message: string } };
    assert.match(error.message, pattern);
  };
  await refused({ cpuVariant: "portable" }, /`cpuVariant`.*another server/);
  await refused({ attention: "float8" }, /`attention`.*float32 or float16.*"float8"/);
  await refused({ batchSize: 0 }, /`batchSize`.*whole number/);
  await refused([1], /JSON object/);
  const unknown = await fetch(`${root()}/configurations/nothing-here/v1/models`);
  assert.equal(unknown.status, 404);
  await assert.rejects(addServerConfiguration(server.url, { attention: "float8" as "float16" }), /`attention`/);
});
