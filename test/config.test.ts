import { randomBytes } from "node:crypto";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeSettings, loadSettings } from "../src/settings";
import { InvalidParameterError } from "../src/core/validate";

const directory = mkdtempSync(join(tmpdir(), "seedlab-config-"));
after(() => rmSync(directory, { recursive: true, force: true }));
const noFile = join(directory, "missing.env");
let files = 0;
const envFile = (text: string): string => {
  const path = join(directory, `${(files += 1)}.env`);
  writeFileSync(path, text);
  return path;
};
// A fresh fake key each run: recognisable in a search, never a committed key-shaped string.
// Ends in letters no setting value contains, so finding its last 4 characters means a leak, not chance.
const KEY = `sk-proj-SECRET${randomBytes(20).toString("hex")}zQxW`;

test("defaults: no key and no base URL means the local model", () => {
  const settings = loadSettings({ env: {}, envFile: noFile });
  assert.deepEqual(
    { ...settings, sources: undefined },
    {
      backend: "local",
      apiKey: null,
      baseURL: null,
      model: "stories260K",
      modelPath: null,
      cpuVariant: "auto",
      timeoutMs: 60000,
      maxRetries: 2,
      concurrency: 5,
      sources: undefined,
    },
  );
  assert.equal(settings.sources.SEEDLAB_MODEL, "default");
});

test("a key alone selects the OpenAI API with gpt-4o-mini; a base URL selects a compatible server", () => {
  const openai = loadSettings({ env: { OPENAI_API_KEY: KEY }, envFile: noFile });
  assert.equal(openai.backend, "openai");
  assert.equal(openai.model, "gpt-4o-mini");
  assert.equal(openai.baseURL, "https://api.openai.com/v1");
  const compatible = loadSettings({
    env: { OPENAI_BASE_URL: "http://localhost:11434/v1", SEEDLAB_MODEL: "llama3.2" },
    envFile: noFile,
  });
  assert.equal(compatible.backend, "compatible");
  assert.equal(compatible.baseURL, "http://localhost:11434/v1");
  assert.equal(compatible.apiKey, null);
  const unnamed = loadSettings({ env: { OPENAI_BASE_URL: "http://localhost:8080/v1" }, envFile: noFile });
  assert.equal(unnamed.backend, "compatible");
  assert.equal(unnamed.model, null, "no model set: the backend asks the server when it opens");
  assert.equal(describeSettings(unnamed).SEEDLAB_MODEL, "the one model the server lists (default)");
  const forcedLocal = loadSettings({ env: { OPENAI_API_KEY: KEY, SEEDLAB_BACKEND: "Local" }, envFile: noFile });
  assert.equal(forcedLocal.backend, "local");
  assert.equal(forcedLocal.model, "stories260K");
});

test(".env is read; real environment variables win over it; empty values count as not set", () => {
  const file = envFile(
    "SEEDLAB_MODEL=gpt-4.1-mini\nOPENAI_API_KEY=" +
      KEY +
      "\nSEEDLAB_TIMEOUT_MS=5000\nSEEDLAB_MAX_RETRIES=0\nSEEDLAB_CONCURRENCY=3\nSEEDLAB_MODEL_PATH=/models/x.gguf\n",
  );
  const fromFile = loadSettings({ env: {}, envFile: file });
  assert.equal(fromFile.backend, "openai");
  assert.equal(fromFile.model, "gpt-4.1-mini");
  assert.equal(fromFile.timeoutMs, 5000);
  assert.equal(fromFile.maxRetries, 0);
  assert.equal(fromFile.concurrency, 3);
  assert.equal(fromFile.modelPath, "/models/x.gguf");
  assert.equal(fromFile.sources.SEEDLAB_MODEL, ".env");
  const overridden = loadSettings({ env: { SEEDLAB_MODEL: "gpt-4o", SEEDLAB_TIMEOUT_MS: "" }, envFile: file });
  assert.equal(overridden.model, "gpt-4o");
  assert.equal(overridden.sources.SEEDLAB_MODEL, "environment");
  assert.equal(overridden.timeoutMs, 5000, "an empty environment variable does not hide the .env value");
  const env: NodeJS.ProcessEnv = {};
  loadSettings({ env, envFile: file });
  assert.deepEqual(env, {}, "loading does not write into the environment");
});

// Each invalid setting: the message names it, shows its value and says what to set.
const invalid: Array<{ env: NodeJS.ProcessEnv; name: string; message: string }> = [
  {
    env: { SEEDLAB_BACKEND: "ollama" },
    name: "SEEDLAB_BACKEND",
    message: 'Expected `SEEDLAB_BACKEND` to be one of "openai", "compatible", "local", got "ollama". Use "local"',
  },
  {
    env: { OPENAI_BASE_URL: "localhost:11434" },
    name: "OPENAI_BASE_URL",
    message: 'Expected `OPENAI_BASE_URL` to be an http(s) URL, got "localhost:11434". Use the server\'s',
  },
  {
    env: { SEEDLAB_BACKEND: "openai" },
    name: "OPENAI_API_KEY",
    message:
      'Expected `OPENAI_API_KEY` to be set because `SEEDLAB_BACKEND` is "openai", got nothing. Put OPENAI_API_KEY=... in .env',
  },
  {
    env: { SEEDLAB_BACKEND: "compatible" },
    name: "OPENAI_BASE_URL",
    message: 'Expected `OPENAI_BASE_URL` to be set because `SEEDLAB_BACKEND` is "compatible", got nothing.',
  },
  {
    env: { SEEDLAB_TIMEOUT_MS: "1m" },
    name: "SEEDLAB_TIMEOUT_MS",
    message:
      'Expected `SEEDLAB_TIMEOUT_MS` to be a whole number of milliseconds from 1 and up, got "1m". Set e.g. SEEDLAB_TIMEOUT_MS=60000',
  },
  { env: { SEEDLAB_TIMEOUT_MS: "0" }, name: "SEEDLAB_TIMEOUT_MS", message: 'got "0"' },
  {
    env: { SEEDLAB_MAX_RETRIES: "-1" },
    name: "SEEDLAB_MAX_RETRIES",
    message: 'Expected `SEEDLAB_MAX_RETRIES` to be a whole number of retries from 0 and up, got "-1".',
  },
  {
    env: { SEEDLAB_CONCURRENCY: "0" },
    name: "SEEDLAB_CONCURRENCY",
    message:
      'Expected `SEEDLAB_CONCURRENCY` to be a whole number of requests from 1 and up, got "0". Set e.g. SEEDLAB_CONCURRENCY=5',
  },
  { env: { SEEDLAB_CONCURRENCY: "2.5" }, name: "SEEDLAB_CONCURRENCY", message: 'got "2.5"' },
  {
    env: { OPENAI_API_KEY: "sk-abc def" },
    name: "OPENAI_API_KEY",
    message: "got a value (hidden) that contains whitespace",
  },
];

test("every invalid setting fails with its name, its value and the fix", async (t) => {
  for (const { env, name, message } of invalid) {
    await t.test(`${name} ${JSON.stringify(env)}`, () => {
      assert.throws(
        () => loadSettings({ env, envFile: noFile }),
        (error: unknown) => {
          assert.ok(error instanceof InvalidParameterError);
          assert.equal(error.parameter, name);
          assert.ok(error.message.includes(message), error.message);
          return true;
        },
      );
    });
  }
});

test("the API key never appears in describeSettings or in any settings error", () => {
  const settings = loadSettings({ env: { OPENAI_API_KEY: KEY }, envFile: noFile });
  const described = describeSettings(settings);
  assert.equal(described.OPENAI_API_KEY, "set");
  assert.equal(describeSettings(loadSettings({ env: {}, envFile: noFile })).OPENAI_API_KEY, "not set");
  const text = JSON.stringify(described);
  for (const fragment of [KEY, KEY.slice(0, 8), KEY.slice(-4), "SECRET"])
    assert.ok(!text.includes(fragment), `described settings contain ${fragment}`);

  const badEnvironments: NodeJS.ProcessEnv[] = [
    { OPENAI_API_KEY: KEY, SEEDLAB_TIMEOUT_MS: "x" },
    { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: "nope" },
    { OPENAI_API_KEY: KEY, SEEDLAB_BACKEND: "azure" },
    { OPENAI_API_KEY: KEY + " trailing" },
    { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: "http://localhost:1/v1", SEEDLAB_CONCURRENCY: "0" },
  ];
  for (const env of badEnvironments) {
    assert.throws(
      () => loadSettings({ env, envFile: noFile }),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.ok(!error.message.includes("SECRET"), error.message);
        return true;
      },
    );
  }
});
