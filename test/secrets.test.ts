// Secrets stay out of the repository and out of saved runs.
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "dotenv";
import { createClient } from "../src/client";
import { SETTING_NAMES } from "../src/settings";
import { runSavedBatch } from "../src/core/saved-runs";
import { startFaultServer } from "./support/fault-server";

const ROOT = path.resolve(__dirname, "..");
const git = (...args: string[]) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });

test(".env.example holds no API key: OPENAI_API_KEY is empty and no sk- string appears", () => {
  const text = fs.readFileSync(path.join(ROOT, ".env.example"), "utf8");
  const values = parse(text);
  assert.ok("OPENAI_API_KEY" in values, "the key's setting is listed");
  assert.equal(values.OPENAI_API_KEY, "");
  assert.doesNotMatch(text, /sk-/);
  for (const name of SETTING_NAMES) assert.ok(name in values, `${name} is listed`);
});

test(".env is git-ignored; .env.example is tracked", () => {
  assert.equal(git("check-ignore", "--quiet", ".env").status, 0, ".env is ignored");
  assert.equal(
    git("check-ignore", "--quiet", "--no-index", ".env").status,
    0,
    ".env is ignored even if someone force-adds it once",
  );
  assert.equal(git("check-ignore", "--quiet", ".env.example").status, 1, ".env.example is not ignored");
  assert.equal(git("ls-files", "--error-unmatch", ".env.example").status, 0, ".env.example is committed");
});

test("saved runs never contain the key, even from a server that echoes it in replies and errors", async () => {
  for (const key of [
    `sk-proj-ECHOTEST${randomBytes(20).toString("hex")}`,
    `azure-${randomBytes(16).toString("hex")}`,
  ]) {
    // Request 1: the key in the reply text; 2: in a 401 message (also masked OpenAI-style); 3: in a 500 retried into a 401.
    const server = await startFaultServer(({ number, headers }) => {
      const sent = String(headers.authorization ?? "").replace(/^Bearer /, "");
      if (number === 1) return { body: { choices: [{ message: { content: `you sent ${sent}` } }] } };
      if (number === 2)
        return {
          status: 401,
          body: {
            error: {
              message: `Incorrect API key provided: ${sent}. Also seen as ${sent.slice(0, 8)}****${sent.slice(-4)}.`,
            },
          },
        };
      return { status: number === 3 ? 500 : 401, body: { error: { message: `key ${sent} rejected` } } };
    });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "seedlab-secrets-")), "runs.jsonl");
    try {
      const client = createClient({ baseURL: server.url, apiKey: key, maxRetries: 1 });
      const batch = await runSavedBatch({
        client,
        request: { model: "m", user: "Hi", seed: 1 },
        runs: 3,
        concurrency: 1,
        path: file,
      });
      assert.equal(server.requests[0]?.headers.authorization, `Bearer ${key}`, "the server did receive the key");
      assert.deepEqual(
        batch.runs.map((run) => run.error?.status ?? "ok"),
        ["ok", 401, 401],
      );
      const saved = fs.readFileSync(file, "utf8");
      assert.ok(!saved.includes(key), `the key is in ${saved}`);
      assert.ok(!saved.includes(key.slice(0, 12)), "no prefix of it either");
      assert.ok(!JSON.stringify(batch).includes(key), "nor in the returned batch");
      assert.match(saved, /you sent \[redacted\]/);
    } finally {
      await server.close();
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  }
});
