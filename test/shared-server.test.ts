// The local model server shared by the kernels of one walkthrough (and of npm start), for real: runNotebooks
// starts it, a tiny notebook on the tslab kernel borrows it (no server process of its own), a kernel whose
// settings differ starts its own and says why, closing the kernel's backend leaves the shared server running,
// and the owner stops it: when runNotebooks is done, when its process exits, or (by itself) when it is killed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { PROJECT_ROOT, runNotebooks, writeCodeNotebook } from "../scripts/run-notebooks";
import { describeConfigDifference, SHARED_SERVER_VARIABLE } from "../src/local/shared";
import { alive } from "./support/processes";

const folder = mkdtempSync(join(tmpdir(), "seedlab-shared-server-test-"));
after(() => rmSync(folder, { recursive: true, force: true }));

/** An environment naming the local backend, without a shared server announced. */
function localEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SEEDLAB_BACKEND: "local" };
  for (const name of ["OPENAI_API_KEY", "OPENAI_BASE_URL", SHARED_SERVER_VARIABLE, "SEEDLAB_CPU_VARIANT"])
    delete env[name];
  return env;
}

async function waitUntilGone(pid: number, timeoutMs = 10000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !alive(pid);
}

test("runNotebooks lends one server to its kernel; other settings start their own; the owner stops it", async () => {
  const cells = [
    `import * as tslab from "tslab";
import { execSync } from "child_process";
import { loadSettings, openBackendWithProgress } from "./src/index";
const backend = await openBackendWithProgress(loadSettings(), tslab.newDisplay());`,
    `const reply: { id: string } = await backend.client.chat.completions.create({ model: backend.model, messages: [{ role: "user", content: "Once" }], max_tokens: 5, seed: 1 });
const root: string = backend.baseURL.replace(/\\/v1$/, "");
const health: any = await (await fetch(root + "/health")).json();
const ownServers: string = execSync("pgrep -P " + process.pid + " -f local.[s]erve.ts || true").toString().trim();
const sharedCommand: string = execSync("ps -o args= -p " + health.pid).toString().trim();
await backend.close();
const afterClose: any = await (await fetch(root + "/health")).json();
console.log(JSON.stringify({ server: backend.server, pid: health.pid, requests: health.completion_requests, ownServers, afterClosePid: afterClose.pid, sharedCommand }));`,
    `const other: { server: string | null; baseURL: string; close(): Promise<void> } = await openBackendWithProgress(loadSettings({ env: { ...process.env, SEEDLAB_CPU_VARIANT: "portable" } }), tslab.newDisplay());
const otherHealth: any = await (await fetch(other.baseURL.replace(/\\/v1$/, "") + "/health")).json();
const otherPid = otherHealth.pid;
const ownChild: string = execSync("pgrep -P " + process.pid + " -f local.[s]erve.ts || true").toString().trim();
await other.close();
console.log(JSON.stringify({ server: other.server, pid: otherPid, ownChild: ownChild }));`,
  ];
  const path = writeCodeNotebook(join(folder, "shared.ipynb"), cells);
  const [result] = await runNotebooks({ notebooks: [path], outputDir: join(folder, "out"), env: localEnv(), jobs: 1 });
  assert.ok(result?.ok, `the notebook failed at cell ${result?.failedCell}: ${result?.message}`);
  const executed = JSON.parse(readFileSync(result.executed, "utf8")) as {
    cells: Array<{ outputs: Array<{ text?: string | string[]; data?: Record<string, string | string[]> }> }>;
  };
  const text = (index: number): string =>
    (executed.cells[index]?.outputs ?? [])
      .map((output) => [output.text ?? "", output.data?.["text/html"] ?? ""].flat().join(""))
      .join("\n");

  assert.match(text(0), /server: shared, started by [^·<]+ · opened in/, "the Set-up line names the shared server");
  const borrowed = JSON.parse(text(1).trim().split("\n").pop() as string) as {
    server: string;
    pid: number;
    requests: number;
    ownServers: string;
    afterClosePid: number;
    sharedCommand: string;
  };
  assert.match(borrowed.server, /^shared, started by (scripts\/run-notebooks\.ts|npm )/);
  assert.ok(borrowed.requests >= 1, `the shared server counted the request (${borrowed.requests})`);
  assert.equal(borrowed.ownServers, "", "the kernel started no model server of its own");
  assert.equal(borrowed.afterClosePid, borrowed.pid, "backend.close() left the shared server running");
  // runNotebooks builds dist/ first and runs the shared server from it, without a TypeScript loader.
  assert.match(borrowed.sharedCommand, /dist[/\\]local[/\\]serve\.js/);
  assert.doesNotMatch(borrowed.sharedCommand, /tsx/);

  const own = JSON.parse(text(2).trim().split("\n").pop() as string) as {
    server: string;
    pid: number;
    ownChild: string;
  };
  assert.equal(own.ownChild, String(own.pid), "the kernel's own server is its child (what the check above looks for)");
  assert.match(
    own.server,
    /^started by this kernel \(the shared server was not used: its SEEDLAB_CPU_VARIANT is auto, this kernel's is portable\)$/,
  );
  assert.notEqual(own.pid, borrowed.pid);
  assert.match(text(2), /not used: its SEEDLAB_CPU_VARIANT is auto/, "the progress line says why");

  assert.ok(await waitUntilGone(borrowed.pid), "runNotebooks stopped the shared server when the notebooks were done");
  assert.ok(await waitUntilGone(own.pid), "the kernel's own server stopped with backend.close()");
});

test("the shared server stops when its owner exits, and by itself when its owner is killed", async () => {
  const owner = (ending: string) =>
    spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `const { startSharedServer } = require("./src/local/shared");
const shared = startSharedServer({ owner: "test", env: { ...process.env } });
shared.ready.then((server) => { console.log(JSON.stringify({ pid: server.pid, announcement: shared.announcement })); ${ending} });`,
      ],
      { cwd: PROJECT_ROOT, env: localEnv(), stdio: ["ignore", "pipe", "inherit"] },
    );
  const started = (child: ReturnType<typeof owner>): Promise<{ pid: number; announcement: string }> =>
    new Promise((resolve) => child.stdout.once("data", (chunk: Buffer) => resolve(JSON.parse(chunk.toString()))));

  const exiting = owner("setTimeout(() => process.exit(0), 200);");
  const first = await started(exiting);
  assert.ok(first.pid > 0 && alive(first.pid), "the shared server ran");
  assert.ok(existsSync(first.announcement), "its announcement was written");
  assert.ok(await waitUntilGone(first.pid), "it stopped when its owner exited");
  assert.ok(!existsSync(dirname(first.announcement)), "the owner removed the announcement as it exited");

  const killed = owner("setInterval(() => {}, 1000);");
  const second = await started(killed);
  assert.ok(alive(second.pid), "the shared server ran");
  killed.kill("SIGKILL");
  assert.ok(await waitUntilGone(second.pid), "it stopped by itself when its owner was killed");
  rmSync(dirname(second.announcement), { recursive: true, force: true }); // A killed owner cannot remove it.
});

test("two server configurations: what differs is named, with both values", () => {
  const base = { modelPath: "/m/a.gguf", cpuVariant: "portable", batchSize: null, threads: null, contextSize: null };
  assert.equal(describeConfigDifference(base, { ...base }), null);
  assert.equal(
    describeConfigDifference(base, { ...base, cpuVariant: "auto", batchSize: 1 }),
    "its SEEDLAB_CPU_VARIANT is portable, this kernel's is auto; its batch size is the default, this kernel's is 1",
  );
});
