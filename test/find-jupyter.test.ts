// Finding Jupyter and Python without a shell (scripts/find-jupyter.mjs): PATH lookup, SEEDLAB_PYTHON,
// the interpreter behind a `jupyter` script, the per-platform install hint, and no shell anywhere.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { installHint } from "../scripts/ensure-jupyter.mjs";
import { EXECUTOR_MODULES, findExecutable, findJupyter, findPython, pythonBehind } from "../scripts/find-jupyter.mjs";

const ROOT = join(__dirname, "..");
const scratch = mkdtempSync(join(tmpdir(), "seedlab-find-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

test(
  "findExecutable looks through PATH for runnable files only",
  { skip: process.platform === "win32" && "POSIX permissions" },
  () => {
    writeFileSync(join(scratch, "runnable"), "#!/bin/sh\n");
    chmodSync(join(scratch, "runnable"), 0o755);
    writeFileSync(join(scratch, "plain"), "not a program\n");
    const env = { PATH: [join(scratch, "missing"), scratch].join(process.platform === "win32" ? ";" : ":") };
    assert.equal(findExecutable("runnable", env), join(scratch, "runnable"));
    assert.equal(findExecutable("plain", env), null);
    assert.equal(findExecutable("nothing-by-this-name", env), null);
    assert.equal(findExecutable(process.execPath, { PATH: "" }), process.execPath, "a path is taken as is");
  },
);

test("with nothing on PATH, neither Jupyter nor a Python is found", () => {
  assert.equal(findJupyter({ PATH: "" }), null);
  assert.equal(findPython(EXECUTOR_MODULES, { PATH: "" }), null);
});

test("the Python found imports the executor's modules, and runs them", () => {
  const python = findPython(EXECUTOR_MODULES);
  assert.ok(python, "a Python with nbclient is installed on this machine");
  const result = spawnSync(
    python.command,
    [...python.args, "-c", "import nbclient, nbformat; print(nbformat.__name__)"],
    { encoding: "utf8" },
  );
  assert.equal(result.stdout.trim(), "nbformat", result.stderr);
});

test("a wrong SEEDLAB_PYTHON is an error naming it and the fix, not a silent fallback", () => {
  assert.throws(
    () => findPython(EXECUTOR_MODULES, { ...process.env, SEEDLAB_PYTHON: join(scratch, "no-python") }),
    /Expected `SEEDLAB_PYTHON` to be a Python that can import nbformat, nbclient, nbconvert, got ".*no-python": no such program\. .*unset it/,
  );
  // A real program that is not a Python with those modules: Node itself.
  assert.throws(
    () => findPython(EXECUTOR_MODULES, { ...process.env, SEEDLAB_PYTHON: process.execPath }),
    /got ".*": it cannot import/,
  );
});

test(
  "pythonBehind reads a jupyter script's interpreter, directly or through env",
  { skip: process.platform === "win32" && "no #! lines on Windows" },
  () => {
    const direct = join(scratch, "jupyter-direct");
    writeFileSync(direct, `#!${process.execPath}\nprint("hi")\n`);
    assert.equal(pythonBehind(direct), process.execPath);
    const throughEnv = join(scratch, "jupyter-env");
    writeFileSync(throughEnv, "#!/usr/bin/env node\n");
    assert.equal(pythonBehind(throughEnv), findExecutable("node"));
    const none = join(scratch, "jupyter-none");
    writeFileSync(none, "no interpreter line\n");
    assert.equal(pythonBehind(none), null);
  },
);

test("the install hint names this platform's way: apt-get on Debian, brew on macOS, py -m pip on Windows", () => {
  assert.match(
    installHint({ platform: "linux", hasAptGet: true }),
    /sudo apt-get update && sudo apt-get install -y --no-install-recommends jupyter-nbconvert jupyter-client jupyter-notebook/,
  );
  assert.match(
    installHint({ platform: "darwin", hasAptGet: false }),
    /brew install jupyterlab[\s\S]*pip install jupyterlab[\s\S]*conda install/,
  );
  assert.match(installHint({ platform: "win32", hasAptGet: false }), /py -m pip install jupyterlab/);
  assert.match(installHint({ platform: "linux", hasAptGet: false }), /python3 -m pip install jupyterlab/);
});

test("no shell on the user's path: nothing in scripts/, src/ or bin/ spawns sh or uses shell: true", () => {
  const walk = (folder: string): string[] =>
    readdirSync(join(ROOT, folder)).flatMap((name) => {
      const path = join(folder, name);
      return statSync(join(ROOT, path)).isDirectory() ? walk(path) : /\.(ts|mts|mjs|cjs|js)$/.test(name) ? [path] : [];
    });
  const files = ["scripts", "src", "bin", join("jupyter", "kernels", "seedlab")].flatMap(walk);
  assert.ok(files.length > 10);
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), "utf8");
    assert.doesNotMatch(text, /spawn(Sync)?\(\s*["'](sh|bash|cmd(\.exe)?)["']/, `${file} spawns a shell`);
    assert.doesNotMatch(text, /shell:\s*true|execSync\(|exec\(\s*["'`]/, `${file} runs a command line through a shell`);
  }
});
