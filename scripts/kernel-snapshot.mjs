// The kernel's startup snapshot (V8, `node --snapshot-blob`): TypeScript already loaded and the declaration
// files a notebook's import reaches already parsed and bound (see kernel-snapshot-entry.cjs for how). A kernel
// started from it reaches its first cell 2 to 4 CPU-seconds sooner.
//
// `ensureKernelSnapshot()` builds it into node_modules/.cache/seedlab/ when this Node, this project folder or
// its installed packages (package-lock.json) changed, then checks it: a set of cells compiled from the snapshot
// must give exactly what they give without it (outputs, declarations, type errors). Only a snapshot that passes
// is installed. When Node cannot build one, or the check fails, the record says why and kernels start as before.
// Callers: `npm ci` / `npm install` (prepare), `npm start`, `npm run walkthrough`, `npm test`, bench/walkthrough.ts.
// `readySnapshot()` is what the kernel launcher (jupyter/kernels/seedlab/launch-kernel.js) asks; SEEDLAB_KERNEL_SNAPSHOT=0
// turns the snapshot off.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = join(dirname(fileURLToPath(import.meta.url)), "kernel-snapshot-entry.cjs");

/**
 * V8 flags of the kernels that start from the snapshot (a snapshot runs only under the flags it was built with).
 * `--max-opt=2`: no TurboFan. TypeScript arrives already parsed, and what is left (checking small cells) gains
 * less from TurboFan than its background compilation costs: 4.5 -> 2.9 CPU-seconds (3.1 -> 2.7 s) for the
 * check's five cells, measured on 2 cores.
 */
export const KERNEL_NODE_FLAGS = ["--max-opt=2"];

/** Cells the check compiles with and without the snapshot: imports, Node's and the SDK's types, a type error. */
export const CHECK_CELLS = [
  'import * as tslab from "tslab";\nimport { loadSettings, runBatch, type Batch } from "./dist/index";\nimport OpenAI from "openai";',
  'const home: string | undefined = process.env.HOME;\nconst buffer = Buffer.from("seed");\nconst batches: Batch[] = [];',
  'const client = new OpenAI({ apiKey: "none", baseURL: "http://127.0.0.1:1/v1" });\nconst create = client.chat.completions.create;',
  'const wrong: number = "123";\nconst missing = runBatch({ client: client });',
  "setTimeout(() => {}, 1).unref();\nconst settingsType: ReturnType<typeof loadSettings> | null = null;",
];

/**
 * Where the snapshot and its record live: in node_modules/.cache/seedlab/, named after the project folder (a
 * node_modules shared by two checkouts holds one snapshot for each).
 */
export function snapshotPaths(root = DEFAULT_ROOT) {
  const folder = join(root, "node_modules", ".cache", "seedlab");
  const name = `kernel-${createHash("sha256").update(resolve(root)).digest("hex").slice(0, 8)}`;
  return { folder, blob: join(folder, `${name}.blob`), record: join(folder, `${name}.json`) };
}

/** What the snapshot depends on: this Node, the project folder, the installed packages and the entry's code. */
export function snapshotKey(root = DEFAULT_ROOT) {
  const lock = join(root, "package-lock.json");
  // NODE_OPTIONS: V8 flags there would not match the snapshot's (node then refuses to start from it).
  const node = [process.version, process.arch, process.platform, process.execPath, process.env.NODE_OPTIONS ?? ""];
  return createHash("sha256")
    .update(JSON.stringify([...node, KERNEL_NODE_FLAGS, resolve(root)]))
    .update(existsSync(lock) ? readFileSync(lock) : "no package-lock.json")
    .update(readFileSync(ENTRY))
    .digest("hex")
    .slice(0, 16);
}

function readRecord(root) {
  try {
    return JSON.parse(readFileSync(snapshotPaths(root).record, "utf8"));
  } catch {
    return null;
  }
}

/** The snapshot file a kernel can start from, or null (none, stale, failed its check, or turned off). */
export function readySnapshot(root = DEFAULT_ROOT) {
  if (process.env.SEEDLAB_KERNEL_SNAPSHOT === "0") return null;
  const { blob } = snapshotPaths(root);
  const record = readRecord(root);
  return record?.ok === true && record.key === snapshotKey(root) && existsSync(blob) ? blob : null;
}

/**
 * Builds and checks the kernel snapshot if there is none for this Node, folder and install.
 * Needs dist/ (the check imports it): call after `ensureBuild`.
 * @param {{ root?: string, log?: (line: string) => void, force?: boolean }} [options]
 * @returns {{ built: boolean, ok: boolean, reason: string | null }} whether it built one now, whether a
 *   usable snapshot is there, and why not.
 */
export function ensureKernelSnapshot({ root = DEFAULT_ROOT, log, force = false } = {}) {
  log = log ?? ((line) => process.stderr.write(`${line}\n`));
  try {
    return buildIfNeeded(root, log, force);
  } catch (error) {
    // Never fatal: without a snapshot kernels start as before.
    log(`seedlab: no kernel snapshot (${error.message}); kernels start without it, a few seconds slower.`);
    return { built: false, ok: false, reason: error.message };
  }
}

function buildIfNeeded(root, log, force) {
  if (process.env.SEEDLAB_KERNEL_SNAPSHOT === "0")
    return { built: false, ok: false, reason: "SEEDLAB_KERNEL_SNAPSHOT=0" };
  const key = snapshotKey(root);
  const previous = readRecord(root);
  if (!force && previous?.key === key)
    return { built: false, ok: previous.ok === true, reason: previous.reason ?? null };
  const { folder, blob, record } = snapshotPaths(root);
  mkdirSync(folder, { recursive: true });
  const temporary = `${blob}.tmp-${process.pid}`;
  const cellsFile = join(folder, `check-cells-${process.pid}.json`);
  const started = Date.now();
  log("seedlab: preparing the kernel's startup snapshot (TypeScript and the declarations, parsed once)...");
  const finish = (ok, reason) => {
    rmSync(temporary, { force: true });
    rmSync(cellsFile, { force: true });
    writeFileSync(record, `${JSON.stringify({ key, ok, reason, node: process.version }, null, 2)}\n`);
    if (ok) log(`seedlab: kernel snapshot ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    else log(`seedlab: no kernel snapshot (${reason}); kernels start without it, a few seconds slower.`);
    return { built: ok, ok, reason };
  };
  const run = (args) => spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", timeout: 180_000 });
  const tail = (result) =>
    `${result.error?.message ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-3).join(" | ");
  const build = run([
    "--no-warnings",
    ...KERNEL_NODE_FLAGS,
    "--snapshot-blob",
    temporary,
    "--build-snapshot",
    ENTRY,
    root,
  ]);
  if (build.status !== 0 || !existsSync(temporary))
    return finish(false, `this Node could not build it: ${tail(build)}`);

  writeFileSync(cellsFile, JSON.stringify(CHECK_CELLS));
  const fromSnapshot = run([...KERNEL_NODE_FLAGS, "--snapshot-blob", temporary, ENTRY, "--check", cellsFile]);
  const plain = run([ENTRY, "--compile", cellsFile, root]);
  let checked;
  let expected;
  try {
    checked = JSON.parse(fromSnapshot.stdout);
    expected = JSON.parse(plain.stdout);
  } catch {
    return finish(false, `its check did not run: ${tail(fromSnapshot)} ${tail(plain)}`);
  }
  if (JSON.stringify(checked.results) !== JSON.stringify(expected.results)) {
    return finish(false, "cells compiled from it differ from cells compiled without it");
  }
  if (!(checked.reusedFiles > 0)) return finish(false, "kernels would not reuse any of its files");
  renameSync(temporary, blob);
  return finish(true, null);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = ensureKernelSnapshot({ force: process.argv.includes("--force") });
  if (!result.built && result.ok) console.error("seedlab: the kernel snapshot is up to date.");
}
