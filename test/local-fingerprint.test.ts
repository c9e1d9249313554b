// system_fingerprint and determinism across server processes: same configuration → same fingerprint
// and same seeded text in another process and after a restart; batchSize 1 → another fingerprint
// and, for some seeds, another text (llama.cpp then evaluates the prompt token by token); float32 and
// float16 attention → other fingerprints and some other texts.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { LocalServer, startLocalServer } from "../src/local/start";

// A long prompt: batch size only changes how the prompt is evaluated, so the effect needs many prompt tokens.
const MESSAGES = [
  {
    role: "user" as const,
    content: "Once upon a time, there was a little girl named Lily. She loved to play outside.",
  },
];
const SEEDS = Array.from({ length: 20 }, (_, index) => index);

let first: LocalServer;
let second: LocalServer;
let batchOne: LocalServer;
let firstTexts: Array<string | null | undefined>;

// The auto CPU variant (AVX2 on this project's machines) with llama.cpp's float16 attention: measured with
// stories260K, batch size 1 changed 6 to 9 of 41 seeded texts there, none on `x64` nor `sse42`, and none with
// seedlab's default float32 attention (whose fingerprint and texts are tested below).
const VARIANT = { cpuVariant: "auto", attention: "float16" } as const;

before(async () => {
  [first, second, batchOne] = await Promise.all([
    startLocalServer(VARIANT),
    startLocalServer(VARIANT),
    startLocalServer({ ...VARIANT, batchSize: 1 }),
  ]);
});
after(() => Promise.all([first, second, batchOne].map((server) => server?.close())));

async function seededTexts(server: LocalServer): Promise<Array<string | null | undefined>> {
  const client = new OpenAI({ apiKey: "local", baseURL: server.url, maxRetries: 0 });
  const responses = await Promise.all(
    SEEDS.map((seed) =>
      client.chat.completions.create({ model: server.model, messages: MESSAGES, seed, max_tokens: 40 }),
    ),
  );
  for (const response of responses) assert.equal(response.system_fingerprint, server.fingerprint);
  return responses.map((response) => response.choices[0]?.message.content);
}

test("two server processes with the same configuration: same fingerprint, byte-identical seeded texts", async () => {
  assert.match(first.fingerprint, /^fp_[0-9a-f]{12}$/);
  assert.equal(second.fingerprint, first.fingerprint);
  firstTexts = await seededTexts(first);
  assert.deepEqual(await seededTexts(second), firstTexts);
});

test("the fingerprint and the seeded texts survive a restart", async () => {
  await first.close();
  first = await startLocalServer(VARIANT);
  assert.equal(first.fingerprint, second.fingerprint);
  assert.deepEqual(await seededTexts(first), firstTexts);
});

test("batchSize 1 changes the fingerprint and, for some seeds, the seeded text", async (context) => {
  assert.notEqual(batchOne.fingerprint, first.fingerprint);
  const batchOneTexts = await seededTexts(batchOne);
  const differing = SEEDS.filter((seed) => firstTexts[seed] !== batchOneTexts[seed]);
  context.diagnostic(`seeds whose text differs with batchSize 1: ${differing.join(", ")}`);
  assert.ok(differing.length > 0);
});

test("float32 attention (the default) and float16: other fingerprints, some other seeded texts", async (context) => {
  const float32 = await startLocalServer({ cpuVariant: "auto" });
  try {
    assert.notEqual(float32.fingerprint, first.fingerprint);
    const float32Texts = await seededTexts(float32);
    const differing = SEEDS.filter((seed) => firstTexts[seed] !== float32Texts[seed]);
    context.diagnostic(`seeds whose text differs between float32 and float16 attention: ${differing.join(", ")}`);
    assert.ok(differing.length > 0);
  } finally {
    await float32.close();
  }
});

test("an unknown attention setting is refused with the allowed values", async () => {
  await assert.rejects(
    startLocalServer({ attention: "bfloat16" as unknown as "float32" }),
    /Expected `attention` to be float32 or float16, got "bfloat16"/,
  );
});
