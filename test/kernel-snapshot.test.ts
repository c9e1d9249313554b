// The kernel's startup snapshot (scripts/kernel-snapshot.mjs), for real: a tslab kernel that Jupyter starts
// through launch-kernel.js runs from it (TypeScript and the declarations already parsed), compiles and runs cells
// as a kernel without it does, and leaves no process behind; without a usable snapshot kernels start as before.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { PROJECT_ROOT, runNotebooks, writeCodeNotebook } from "../scripts/run-notebooks";
import { ensureKernelSnapshot, readySnapshot, snapshotPaths } from "../scripts/kernel-snapshot.mjs";
import { alive } from "./support/processes";

const folder = mkdtempSync(join(tmpdir(), "seedlab-kernel-snapshot-test-"));
after(() => rmSync(folder, { recursive: true, force: true }));

const CELLS = [
  `import { execSync } from "child_process";
import { wordSimilarity, type ChatRequest } from "./dist/index";
const snapshot = (globalThis as { seedlabKernelSnapshot?: { reusedFiles: number; changedFiles: string[] } }).seedlabKernelSnapshot;
const launcher: string = execSync("ps -o args= -p " + process.ppid).toString().trim();
const self: string = execSync("ps -o args= -p " + process.pid).toString().trim();
console.log(JSON.stringify({ reused: snapshot?.reusedFiles ?? 0, changed: snapshot?.changedFiles ?? [], pid: process.pid, parent: process.ppid, launcher, self }));`,
  `const request: ChatRequest = { model: "stories260K", user: "Once upon a time", seed: 1 };
const similarity: number = wordSimilarity("once upon a time", request.user);
const bytes: number = Buffer.byteLength(JSON.stringify(request));
console.log(JSON.stringify({ similarity, bytes, keys: Object.keys(request).sort() }));`,
];

async function runCells(name: string, env: NodeJS.ProcessEnv): Promise<Array<Record<string, unknown>>> {
  const path = writeCodeNotebook(join(folder, `${name}.ipynb`), CELLS);
  const [result] = await runNotebooks({ notebooks: [path], outputDir: join(folder, name), env, jobs: 1 });
  assert.ok(result?.ok, `the notebook failed at cell ${result?.failedCell}: ${result?.message}`);
  const executed = JSON.parse(readFileSync(result.executed, "utf8")) as {
    cells: Array<{ outputs: Array<{ name?: string; text?: string | string[] }> }>;
  };
  const printed = (cell: { outputs: Array<{ name?: string; text?: string | string[] }> }) =>
    cell.outputs.filter((output) => output.name === "stdout").flatMap((output) => [output.text ?? ""].flat());
  return executed.cells.map((cell) => JSON.parse(printed(cell).join("") || "{}"));
}

async function gone(pid: number): Promise<boolean> {
  for (let waited = 0; waited < 10000 && alive(pid); waited += 100) await new Promise((done) => setTimeout(done, 100));
  return !alive(pid);
}

test("a kernel runs from the snapshot and compiles and runs cells as a kernel without it", async () => {
  const made = ensureKernelSnapshot({ log: () => {} });
  assert.ok(made.ok, `the snapshot was built and passed its check: ${made.reason}`);
  const env: NodeJS.ProcessEnv = { ...process.env, SEEDLAB_BACKEND: "local" };
  delete env.SEEDLAB_KERNEL_SNAPSHOT;
  const [withSnapshot, without] = [
    await runCells("with", env),
    await runCells("without", { ...env, SEEDLAB_KERNEL_SNAPSHOT: "0" }),
  ];
  const [started, plain] = [withSnapshot[0] as Record<string, unknown>, without[0] as Record<string, unknown>];

  assert.ok(Number(started.reused) > 100, `declaration files from the snapshot: ${String(started.reused)}`);
  assert.deepEqual(started.changed, []);
  assert.match(String(started.self), /--snapshot-blob .*launch-kernel\.js/);
  assert.match(String(started.launcher), /launch-kernel\.js/);
  assert.doesNotMatch(String(started.launcher), /--snapshot-blob/);
  assert.equal(plain.reused, 0);
  assert.doesNotMatch(String(plain.self), /--snapshot-blob/);
  assert.deepEqual(withSnapshot[1], without[1], "the same cell gives the same output");

  // The kernel and its launcher both end with the notebook.
  for (const pid of [started.pid, started.parent, plain.pid])
    assert.ok(await gone(Number(pid)), `process ${pid} ended`);
});

test("no snapshot is used when turned off, or when it was made for another Node or install", () => {
  const blob = readySnapshot(PROJECT_ROOT);
  assert.ok(blob !== null && existsSync(blob), "the first test made one");
  const { record } = snapshotPaths(PROJECT_ROOT);
  const saved = readFileSync(record, "utf8");
  try {
    process.env.SEEDLAB_KERNEL_SNAPSHOT = "0";
    assert.equal(readySnapshot(PROJECT_ROOT), null);
    delete process.env.SEEDLAB_KERNEL_SNAPSHOT;
    const stale = { ...JSON.parse(saved), key: "made-elsewhere" };
    writeFileSync(record, JSON.stringify(stale));
    assert.equal(readySnapshot(PROJECT_ROOT), null);
  } finally {
    delete process.env.SEEDLAB_KERNEL_SNAPSHOT;
    writeFileSync(record, saved);
  }
  assert.equal(readySnapshot(PROJECT_ROOT), blob);
});
