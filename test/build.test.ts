// The compiled library (scripts/ensure-build.mjs, tsconfig.build.json): the notebooks import it; it is built
// once, left alone while fresh, rebuilt when a src/ file changes, is added or removed, survives a type error,
// is built once when two processes ask at once, and its startLocalServer runs the server as plain JS.
// Every build here happens in a temporary copy of the project (src/, the tsconfig files, the script; its
// node_modules links to the real one's packages), never in the real dist/ other tests use.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { listNotebooks, PROJECT_ROOT } from "../scripts/run-notebooks";
import { ensureBuild, staleReason } from "../scripts/ensure-build.mjs";

let root = "";
const quiet = { log: () => {} };

before(() => {
  root = mkdtempSync(join(tmpdir(), "seedlab-build-"));
  cpSync(join(PROJECT_ROOT, "src"), join(root, "src"), { recursive: true });
  cpSync(join(PROJECT_ROOT, "scripts", "ensure-build.mjs"), join(root, "scripts", "ensure-build.mjs"));
  for (const name of ["package.json", "tsconfig.json", "tsconfig.build.json"])
    cpSync(join(PROJECT_ROOT, name), join(root, name));
  // Every installed package but tsx: the compiled library must run without it.
  mkdirSync(join(root, "node_modules"));
  for (const name of readdirSync(join(PROJECT_ROOT, "node_modules")))
    if (name !== "tsx" && !name.startsWith("."))
      symlinkSync(join(PROJECT_ROOT, "node_modules", name), join(root, "node_modules", name), "junction");
});

after(() => rmSync(root, { recursive: true, force: true }));

test("the notebooks import the compiled library, not src/", () => {
  for (const notebook of listNotebooks()) {
    const cells = (JSON.parse(readFileSync(notebook, "utf8")) as { cells: Array<{ source: string[] }> }).cells;
    const imports = cells.flatMap((cell) => cell.source.join("").match(/from "\.\/[^"]*"/g) ?? []);
    assert.deepEqual(imports, ['from "./dist/index"'], notebook);
  }
});

test("a missing build is built: JS, declarations and maps that lead back to src/", () => {
  assert.match(staleReason(root) ?? "", /no build yet/);
  const result = ensureBuild({ root, ...quiet });
  assert.equal(result.built, true);
  assert.equal(result.typeErrors, "");
  const dist = join(root, "dist");
  assert.equal(typeof require(join(dist, "index.js")).loadSettings, "function");
  assert.match(readFileSync(join(dist, "index.d.ts"), "utf8"), /loadSettings/);
  assert.deepEqual(JSON.parse(readFileSync(join(dist, "index.d.ts.map"), "utf8")).sources, ["../src/index.ts"]);
  // Same depth as in src/: code that finds the project root from __filename keeps working.
  assert.deepEqual(JSON.parse(readFileSync(join(dist, "local", "start.js.map"), "utf8")).sources, [
    "../../src/local/start.ts",
  ]);
  assert.equal(staleReason(root), null);
});

test("a fresh build is left alone", () => {
  const before = statSync(join(root, "dist", "index.js")).mtimeMs;
  const result = ensureBuild({ root, ...quiet });
  assert.deepEqual(result, { built: false, reason: null, typeErrors: "" });
  assert.equal(statSync(join(root, "dist", "index.js")).mtimeMs, before);
});

test("a changed, added or removed src/ file makes it stale, and the rebuild has the change", () => {
  const settings = join(root, "src", "settings.ts");
  const time = new Date(Date.now() + 5000);
  utimesSync(settings, time, time);
  assert.match(staleReason(root) ?? "", /src\/settings\.ts changed/);

  writeFileSync(join(root, "src", "extra.ts"), "export const extraValue = 42;\n");
  assert.match(staleReason(root) ?? "", /src\/extra\.ts was added/);
  const lines: string[] = [];
  assert.equal(ensureBuild({ root, log: (line) => lines.push(line) }).built, true);
  assert.match(lines.join("\n"), /building the library/);
  assert.equal(require(join(root, "dist", "extra.js")).extraValue, 42);

  rmSync(join(root, "src", "extra.ts"));
  assert.match(staleReason(root) ?? "", /src\/extra\.ts was removed/);
});

test("two processes at once: one builds, the other waits and finds it fresh", async () => {
  const script = join(root, "scripts", "ensure-build.mjs");
  const code = `import(${JSON.stringify(pathToFileURL(script).href)}).then((m) => console.log(JSON.stringify(m.ensureBuild({ log: () => {} }))))`;
  const runOne = () =>
    new Promise<{ built: boolean }>((resolve, reject) => {
      const child = spawn(process.execPath, ["-e", code], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      child.on("error", reject);
      child.on("exit", (exitCode) =>
        exitCode === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${exitCode}`)),
      );
    });
  const results = await Promise.all([runOne(), runOne()]);
  assert.deepEqual(results.map((result) => result.built).sort(), [false, true]);
  assert.equal(staleReason(root), null);
  assert.equal(existsSync(join(root, "dist", "extra.js")), false); // A clean build, not one on top of the old.
  assert.deepEqual(
    readdirSync(root).filter((name) => name.startsWith("dist")),
    ["dist"],
  );
});

test("a type error in src/ is reported, and the JS is still built and kept", () => {
  writeFileSync(join(root, "src", "broken.ts"), 'export const brokenValue: number = "not a number";\n');
  const first = ensureBuild({ root, ...quiet });
  assert.equal(first.built, true);
  assert.match(first.typeErrors, /src\/broken\.ts.*TS2322/);
  assert.equal(require(join(root, "dist", "broken.js")).brokenValue, "not a number");
  const lines: string[] = [];
  const again = ensureBuild({ root, log: (line) => lines.push(line) });
  assert.equal(again.built, false);
  assert.match(lines.join("\n"), /type errors.*\n.*broken\.ts/);
  rmSync(join(root, "src", "broken.ts"));
});

test("the compiled startLocalServer runs the server as plain JS (this copy has no tsx)", async () => {
  const { startLocalServer } = require(join(root, "dist", "local", "start.js"));
  const server = await startLocalServer({ modelPath: join(PROJECT_ROOT, "models", "stories260K.gguf") });
  try {
    const response = await fetch(`${server.url}/models`);
    assert.equal(response.status, 200);
  } finally {
    await server.close();
  }
});
