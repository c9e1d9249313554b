// A compatible backend without SEEDLAB_MODEL asks the server's GET /v1/models: one model is used (and
// the backend says so), several or none are an error that lists them. The one-model case runs
// against the real local server; the fault server lists what the local server cannot (two, none, a 404).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openBackend } from "../src/backend";
import { loadSettings } from "../src/settings";
import { LocalServer, startLocalServer } from "../src/local/start";
import { InvalidParameterError } from "../src/core/errors";
import { startFaultServer, type FaultResponse } from "./support/fault-server";

const directory = mkdtempSync(join(tmpdir(), "seedlab-backend-"));
const noFile = join(directory, "missing.env");
// A fresh fake key each run: the errors below must never show it.
const KEY = `sk-backend-test-${randomBytes(12).toString("hex")}`;
let server: LocalServer;

before(async () => {
  server = await startLocalServer();
});
after(async () => {
  await server.close();
  rmSync(directory, { recursive: true, force: true });
});

test("a server that lists one model: the backend uses it, says so, and requests with it succeed", async () => {
  const settings = loadSettings({ env: { OPENAI_BASE_URL: server.url, SEEDLAB_MAX_RETRIES: "0" }, envFile: noFile });
  assert.equal(settings.model, null);
  const backend = await openBackend(settings);
  assert.equal(backend.kind, "compatible");
  assert.equal(backend.model, server.model);
  assert.ok(
    backend.notice?.includes(`\`${server.model}\``) && backend.notice.includes(server.url),
    String(backend.notice),
  );
  const response = await backend.client.chat.completions.create({
    model: backend.model,
    messages: [{ role: "user", content: "Once upon a time" }],
    seed: 1,
    max_tokens: 4,
  });
  assert.equal(response.model, server.model);
  await backend.close();
});

async function openAgainst(reply: FaultResponse, model?: string) {
  const fault = await startFaultServer(() => reply);
  try {
    const env: NodeJS.ProcessEnv = { OPENAI_BASE_URL: fault.url, OPENAI_API_KEY: KEY, SEEDLAB_MAX_RETRIES: "0" };
    if (model !== undefined) env.SEEDLAB_MODEL = model;
    const outcome = await openBackend(loadSettings({ env, envFile: noFile })).then(
      (backend) => ({ backend, error: null }),
      (error: unknown) => ({ backend: null, error }),
    );
    if (outcome.error instanceof Error)
      assert.ok(!outcome.error.message.includes(KEY.slice(-8)), outcome.error.message);
    return { ...outcome, requests: fault.requests.length };
  } finally {
    await fault.close();
  }
}

const list = (...ids: string[]) => ({
  body: { object: "list", data: ids.map((id) => ({ id, object: "model", created: 0, owned_by: "test" })) },
});

test("several models: an error naming SEEDLAB_MODEL that lists them; none: an error saying so", async () => {
  const several = await openAgainst(list("llama3.2", "qwen2.5:0.5b"));
  assert.ok(several.error instanceof InvalidParameterError, String(several.error));
  assert.equal(several.error.parameter, "SEEDLAB_MODEL");
  assert.match(
    several.error.message,
    /serves 2 models: "llama3\.2", "qwen2\.5:0\.5b"\. Set SEEDLAB_MODEL .* to one of them/,
  );
  const none = await openAgainst(list());
  assert.ok(none.error instanceof InvalidParameterError);
  assert.match(none.error.message, /lists no models/);
});

test("a server without GET /v1/models: the error says listing failed and to set SEEDLAB_MODEL", async () => {
  const missing = await openAgainst({
    status: 404,
    body: { error: { message: "Not found", type: "invalid_request_error" } },
  });
  assert.ok(missing.error instanceof InvalidParameterError);
  assert.match(missing.error.message, /listing them failed \(404 Not found\)\. Set SEEDLAB_MODEL/);
});

test("with SEEDLAB_MODEL set, the model list is never asked for", async () => {
  const named = await openAgainst(list("a", "b"), "b");
  assert.equal(named.error, null);
  assert.equal(named.backend?.model, "b");
  assert.equal(named.backend?.notice, null);
  assert.equal(named.requests, 0);
});
