// How a kernel reads the shared server's announcement (src/local/shared.ts), without a model: a server still
// starting is waited for up to the timeout, a failed one or one whose owner is gone is not used, a different
// configuration is refused before waiting, and each refusal says why.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  borrowSharedServer,
  localServerConfig,
  removeStaleAnnouncements,
  SHARED_SERVER_VARIABLE,
} from "../src/local/shared";
import { renderSettingsHtml } from "../src/render/settings-html";

const folder = mkdtempSync(join(tmpdir(), "seedlab-announcement-test-"));
after(() => rmSync(folder, { recursive: true, force: true }));
const options = { cpuVariant: "portable" };
const config = localServerConfig(options);

function announce(content: unknown): NodeJS.ProcessEnv {
  const file = join(folder, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(content));
  return { [SHARED_SERVER_VARIABLE]: file };
}

test("no announcement: nothing to borrow, nothing said", async () => {
  assert.equal(await borrowSharedServer(options, { env: {} }), null);
});

test("a server still starting is waited for, then refused after the timeout, saying so", async () => {
  const env = announce({ state: "starting", owner: "npm start", ownerPid: process.pid, config });
  const waited: string[] = [];
  const choice = await borrowSharedServer(options, { env, timeoutMs: 300, onWaiting: (owner) => waited.push(owner) });
  assert.deepEqual(waited, ["npm start"]);
  assert.equal(choice?.server, null);
  assert.match(choice?.reason ?? "", /^it was not ready within 0 s \(started by npm start\)$/);
});

test("a failed server, a gone owner, a missing file and another configuration are refused with the reason", async () => {
  const failed = announce({ state: "failed", owner: "npm start", ownerPid: process.pid, message: "no model" });
  assert.equal((await borrowSharedServer(options, { env: failed }))?.reason, "it failed to start (no model)");

  // A pid above Linux's pid_max (4194304) belongs to no process.
  const gone = announce({ state: "starting", owner: "npm start", ownerPid: 99999999, config });
  assert.equal(
    (await borrowSharedServer(options, { env: gone }))?.reason,
    "its owner, npm start (pid 99999999), has exited",
  );

  const missing = { [SHARED_SERVER_VARIABLE]: join(folder, "missing.json") };
  assert.match((await borrowSharedServer(options, { env: missing }))?.reason ?? "", /missing\.json is gone/);

  const other = announce({ state: "starting", owner: "npm start", ownerPid: process.pid, config });
  const waited: string[] = [];
  const choice = await borrowSharedServer(
    { ...options, batchSize: 1 },
    { env: other, onWaiting: (owner) => waited.push(owner) },
  );
  assert.equal(choice?.reason, "its batch size is the default, this kernel's is 1");
  assert.deepEqual(waited, [], "refused at once, without waiting for it to be ready");
});

test("the settings caption names the server and how long opening took", () => {
  const html = renderSettingsHtml(
    {},
    {
      kind: "local",
      model: "m",
      baseURL: "http://127.0.0.1:1/v1",
      server: "shared, started by npm start",
      startSeconds: 0.25,
    },
  );
  assert.match(
    html,
    /Backend: local · model m · http:\/\/127\.0\.0\.1:1\/v1 · server: shared, started by npm start · opened in 0\.3 s/,
  );
  assert.doesNotMatch(renderSettingsHtml({}, { kind: "openai", model: "m", baseURL: "u" }), /server:|opened in/);
});

test("a new owner removes the announcement folders of owners that are gone, and only those", () => {
  const root = mkdtempSync(join(folder, "tmp-"));
  const write = (name: string, content: string | null): string => {
    const dir = join(root, name);
    mkdirSync(dir);
    if (content !== null) writeFileSync(join(dir, "server.json"), content);
    return dir;
  };
  // A pid above Linux's pid_max (4194304) belongs to no process.
  const gone = write("seedlab-shared-server-gone", JSON.stringify({ state: "ready", ownerPid: 99999999 }));
  const live = write("seedlab-shared-server-live", JSON.stringify({ state: "starting", ownerPid: process.pid }));
  const unreadable = write("seedlab-shared-server-partial", null);
  const other = write("someone-elses-folder", JSON.stringify({ ownerPid: 99999999 }));
  assert.deepEqual(removeStaleAnnouncements(root), [gone]);
  assert.equal(existsSync(gone), false);
  for (const kept of [live, unreadable, other]) assert.ok(existsSync(kept), `${kept} is kept`);
});
