// Compiles the seedlab library (src/*.ts) into dist/ (CommonJS JS, .d.ts, declaration and source maps) when
// dist/ is missing or older than src/, so notebooks import plain JS instead of tslab compiling src/ in every
// kernel. `ensureBuild()` compares every src/**/*.ts file (its mtime, and added or removed files) and the two
// tsconfig files with what the last build recorded in dist/build-inputs.json, and rebuilds only when they
// differ. Safe when several processes call it at once (three kernels start together in the walkthrough): one
// builds under a lock folder into a temporary folder that then replaces dist/; the others wait and find it fresh.
// A type error in src/ does not stop the build: the JS is still emitted and installed, and the errors are
// reported (again on every later call until src/ changes).
// Callers: `npm ci` / `npm install` (the `prepare` script), `npm run build` (`--force`), `npm start`,
// `npm run walkthrough`, `npm test`, bench/walkthrough.ts and the kernel launcher.
// No shell: runs the project's TypeScript with this Node (process.execPath), on every platform.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const RECORD = "build-inputs.json";
const LOCK_STALE_MS = 5 * 60 * 1000;
const LOCK_WAIT_MS = 3 * 60 * 1000;

/** Every input of the build with its mtime: src/**\/*.ts and the tsconfig files, as `{ "src/x.ts": mtimeMs }`. */
export function buildInputs(root = DEFAULT_ROOT) {
  const inputs = {};
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts")) inputs[relative(root, full).split(sep).join("/")] = statSync(full).mtimeMs;
    }
  };
  walk(join(root, "src"));
  for (const name of ["tsconfig.json", "tsconfig.build.json"]) {
    const file = join(root, name);
    if (existsSync(file)) inputs[name] = statSync(file).mtimeMs;
  }
  return Object.fromEntries(Object.entries(inputs).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function readRecord(outDir) {
  try {
    return JSON.parse(readFileSync(join(outDir, RECORD), "utf8"));
  } catch {
    return null;
  }
}

/** Why dist/ needs a rebuild, or null when it is fresh. */
export function staleReason(root = DEFAULT_ROOT, outDir = join(root, "dist")) {
  if (!existsSync(join(outDir, "index.js"))) return `${relative(root, outDir) || outDir} has no build yet`;
  const record = readRecord(outDir);
  if (typeof record?.inputs !== "object" || record.inputs === null) return "the last build recorded no inputs";
  const now = buildInputs(root);
  for (const [file, mtime] of Object.entries(now)) {
    if (!(file in record.inputs)) return `${file} was added`;
    if (record.inputs[file] !== mtime) return `${file} changed`;
  }
  for (const file of Object.keys(record.inputs)) if (!(file in now)) return `${file} was removed`;
  return null;
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/** Takes the lock folder (mkdir is atomic everywhere); clears a lock whose process died or that is too old. */
function lock(lockDir) {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, "pid"), String(process.pid));
      return;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
    }
    let owner = NaN;
    let age = 0;
    try {
      owner = Number(readFileSync(join(lockDir, "pid"), "utf8"));
      age = Date.now() - statSync(lockDir).mtimeMs;
    } catch {
      // Just created (no pid yet) or just removed: try again.
    }
    if ((Number.isInteger(owner) && owner > 0 && !alive(owner)) || age > LOCK_STALE_MS)
      rmSync(lockDir, { recursive: true, force: true });
    else if (Date.now() > deadline)
      throw new Error(`Another process has been building dist/ for minutes (lock ${lockDir}). Delete it if not.`);
    else sleep(100);
  }
}

/**
 * Builds dist/ from src/ if it is missing or stale.
 * @param {{ root?: string, outDir?: string, force?: boolean, log?: (line: string) => void }} [options]
 *   root: the project (default: this script's); outDir: default `<root>/dist`; force: build even when fresh;
 *   log: where the one-line notes go (default stderr).
 * @returns {{ built: boolean, reason: string | null, typeErrors: string }} whether it built and why;
 *   `typeErrors` is the compiler's report when src/ has type errors (the JS was emitted anyway), else "".
 * @throws {Error} when there is no build and none can be made (no TypeScript installed, or no JS emitted).
 */
export function ensureBuild({ root = DEFAULT_ROOT, outDir, force = false, log } = {}) {
  outDir = outDir ?? join(root, "dist");
  log = log ?? ((line) => process.stderr.write(`${line}\n`));
  const shown = relative(root, outDir) || outDir;
  let reason = force ? "asked to" : staleReason(root, outDir);
  if (reason === null) {
    const typeErrors = readRecord(outDir)?.typeErrors ?? "";
    if (typeErrors) log(`seedlab: src/ has type errors (${shown}/ was built anyway):\n${typeErrors}`);
    return { built: false, reason: null, typeErrors };
  }
  const lockDir = `${outDir}.lock`;
  lock(lockDir);
  try {
    // Another process may have built it while this one waited for the lock.
    if (!force) reason = staleReason(root, outDir);
    if (reason === null) return { built: false, reason: null, typeErrors: readRecord(outDir)?.typeErrors ?? "" };
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    if (!existsSync(tsc)) {
      const message = `TypeScript is not installed in ${root} (no ${tsc}): cannot build ${shown}/ from src/. Run \`npm install\` there (with dev dependencies).`;
      if (existsSync(join(outDir, "index.js"))) {
        log(`seedlab: ${message} Using the existing build.`);
        return { built: false, reason, typeErrors: "" };
      }
      throw new Error(message);
    }
    log(`seedlab: building the library, src/ -> ${shown}/ (${reason})...`);
    const started = Date.now();
    const inputs = buildInputs(root); // Before compiling: an edit made during the build triggers the next one.
    // A sibling of outDir: the maps' relative paths to src/ stay right after the rename.
    const temporary = `${outDir}.tmp-${process.pid}`;
    rmSync(temporary, { recursive: true, force: true });
    const result = spawnSync(
      process.execPath,
      [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", temporary, "--pretty", "false"],
      { cwd: root, encoding: "utf8" },
    );
    if (result.error) throw result.error;
    if (!existsSync(join(temporary, "index.js"))) {
      rmSync(temporary, { recursive: true, force: true });
      throw new Error(`Compiling src/ emitted no JS (tsc exit ${result.status}):\n${result.stdout}${result.stderr}`);
    }
    const typeErrors = result.status === 0 ? "" : `${result.stdout}${result.stderr}`.trim();
    writeFileSync(join(temporary, RECORD), JSON.stringify({ inputs, typeErrors }, null, 2) + "\n");
    const old = `${outDir}.old-${process.pid}`;
    if (existsSync(outDir)) renameSync(outDir, old);
    renameSync(temporary, outDir);
    rmSync(old, { recursive: true, force: true });
    log(`seedlab: built ${shown}/ in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    if (typeErrors) log(`seedlab: src/ has type errors (${shown}/ was built anyway):\n${typeErrors}`);
    return { built: true, reason, typeErrors };
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    const { built } = ensureBuild({ force: process.argv.includes("--force") });
    if (!built) console.error("seedlab: dist/ is up to date with src/.");
    // The kernels' startup snapshot needs dist/ (see kernel-snapshot.mjs); its failure only makes kernels slower.
    import("./kernel-snapshot.mjs")
      .then(({ ensureKernelSnapshot }) => ensureKernelSnapshot())
      .catch((error) => console.error(`seedlab: no kernel snapshot (${error.message}).`));
  } catch (error) {
    console.error(`seedlab: ${error.message}`);
    process.exit(1);
  }
}
