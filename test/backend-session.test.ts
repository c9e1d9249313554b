// A process holds one backend: opening it again (a re-run Set-up cell) closes the previous one and
// its model server, and a closed backend refuses requests at once with a message that says to run
// the Set-up cell again. Real local servers; the model-server processes are counted with `ps`.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { openBackend, type Backend } from "../src/backend";
import { BackendClosedError } from "../src/core/backend-session";
import { runBatch } from "../src/core/batch";
import { getChatResponse, tryChatResponse } from "../src/core/chat";
import { loadSettings } from "../src/settings";
import { alive } from "./support/processes";

const settings = loadSettings({ env: {}, envFile: "/nonexistent/.env" });

/** Pids of this process's model-server children. */
function modelServers(): number[] {
  const lines = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" }).split(
    "\n",
  );
  return lines.filter((line) => line.includes("src/local/serve.ts")).map((line) => Number(line.trim().split(/\s+/)[0]));
}

test("opening the backend three times leaves one model server; the replaced ones refuse requests at once", async () => {
  const opened: Backend[] = [];
  const serverPids: number[][] = [];
  for (let time = 0; time < 3; time++) {
    opened.push(await openBackend(settings));
    serverPids.push(modelServers());
  }
  const [first, second, third] = opened as [Backend, Backend, Backend];
  try {
    assert.deepEqual(
      serverPids.map((pids) => pids.length),
      [1, 1, 1],
      "one model server after each opening",
    );
    assert.ok(!alive(serverPids[0]?.[0] ?? 0) && !alive(serverPids[1]?.[0] ?? 0), "the replaced servers have exited");
    assert.notEqual(first.baseURL, third.baseURL);

    const request = { model: third.model, user: "Once upon a time", seed: 1, temperature: 0, max_tokens: 5 };
    for (const stale of [first, second]) {
      await assert.rejects(getChatResponse(stale.client, request), (error: Error) => {
        assert.ok(error instanceof BackendClosedError);
        assert.match(error.message, /opened a new one/);
        assert.match(error.message, /Run the Set-up cell again/);
        return true;
      });
    }
    const run = await getChatResponse(third.client, request);
    assert.ok(run.content !== null && run.content.length > 0, "the newest backend answers");
  } finally {
    await third.close();
  }
  assert.deepEqual(modelServers(), [], "close() stops the last model server");
});

test("a batch after close() fails at once with the Set-up message, nothing sent", async () => {
  const backend = await openBackend(settings);
  await backend.close();
  await backend.close(); // twice is fine
  const request = { model: backend.model, user: "Once upon a time", seed: 1, temperature: 0, max_tokens: 5 };
  let progressCalls = 0;
  await assert.rejects(
    runBatch({ client: backend.client, request, runs: 5, onProgress: () => (progressCalls += 1) }),
    (error: Error) => {
      assert.equal(error.name, "BackendClosedError");
      assert.match(error.message, /`backend\.close\(\)` ran/);
      assert.match(error.message, /Run the Set-up cell again/);
      assert.doesNotMatch(error.message, /ECONNREFUSED/);
      return true;
    },
  );
  assert.equal(progressCalls, 0, "no run was sent");
  await assert.rejects(tryChatResponse(backend.client, request), BackendClosedError);
  assert.deepEqual(modelServers(), []);
});

test("the model server exits when the process holding the backend is killed with SIGKILL", async () => {
  const holder = spawn(process.execPath, ["--import", "tsx", join(__dirname, "support", "hold-backend.ts")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    holder.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      if (output.includes("ready ")) resolve();
    });
    holder.once("exit", () => reject(new Error(`the holder exited: ${output}`)));
  });
  const servers = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(holder.pid)], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes("src/local/serve.ts"))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
  assert.equal(servers.length, 1);
  holder.kill("SIGKILL");
  const server = servers[0] as number;
  for (let waited = 0; waited < 30000 && alive(server); waited += 100) await sleep(100);
  const survived = alive(server);
  if (survived) process.kill(server, "SIGKILL");
  assert.ok(!survived, "the orphaned model server exited");
});
