// `seedlab kernel install` for real: the kernelspec goes into a temporary Jupyter data dir
// (JUPYTER_DATA_DIR), then Jupyter itself (nbconvert, on the first Python found that has it) lists
// it and executes notebook 01 from another working directory, with no JUPYTER_PATH, on the local
// model; `--uninstall` removes it. Also: the data dir matches what `jupyter --data-dir` computes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { EXECUTOR_MODULES, findPython } from "../scripts/find-jupyter.mjs";
import { jupyterDataDir } from "../src/cli/kernel";

const ROOT = join(__dirname, "..");
const python = findPython(EXECUTOR_MODULES);
let scratch: string;

before(() => {
  assert.ok(python, "a Python with nbclient and nbconvert is needed (see `node scripts/ensure-jupyter.mjs`)");
  scratch = mkdtempSync(join(tmpdir(), "seedlab-kernel-"));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The environment of a user's own Jupyter: no JUPYTER_PATH, no API key, the data dir given. */
function userEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_DATA_DIR: dataDir,
    SEEDLAB_BACKEND: "local",
    PYTHONWARNINGS: "ignore",
  };
  for (const name of ["JUPYTER_PATH", "OPENAI_API_KEY", "OPENAI_BASE_URL"]) delete env[name];
  return env;
}

function runPython(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
  assert.ok(python);
  return spawnSync(python.command, [...python.args, ...args], { ...options, encoding: "utf8", timeout: 600_000 });
}

function seedlab(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
  return spawnSync(process.execPath, [join(ROOT, "bin", "seedlab.js"), ...args], { ...options, encoding: "utf8" });
}

/** The kernels Jupyter itself finds, by name, with their folders. */
function listedKernels(
  cwd: string,
  env: NodeJS.ProcessEnv,
): Record<string, { resource_dir: string; spec: { argv: string[]; display_name: string } }> {
  const listed = runPython(["-m", "jupyter", "kernelspec", "list", "--json"], { cwd, env });
  assert.equal(listed.status, 0, listed.stderr);
  return (
    JSON.parse(listed.stdout) as {
      kernelspecs: Record<string, { resource_dir: string; spec: { argv: string[]; display_name: string } }>;
    }
  ).kernelspecs;
}

test("the data dir is the one Jupyter computes: JUPYTER_DATA_DIR, XDG_DATA_HOME, HOME", () => {
  const cases: NodeJS.ProcessEnv[] = [
    { HOME: join(scratch, "home") },
    { HOME: join(scratch, "home"), XDG_DATA_HOME: join(scratch, "xdg") },
    { HOME: join(scratch, "home"), JUPYTER_DATA_DIR: join(scratch, "chosen") },
  ];
  for (const overrides of cases) {
    const env: NodeJS.ProcessEnv = { ...process.env, ...overrides };
    if (!("XDG_DATA_HOME" in overrides)) delete env.XDG_DATA_HOME;
    if (!("JUPYTER_DATA_DIR" in overrides)) delete env.JUPYTER_DATA_DIR;
    const real = runPython(["-m", "jupyter", "--data-dir"], { cwd: scratch, env });
    assert.equal(real.status, 0, real.stderr);
    assert.equal(jupyterDataDir(env), real.stdout.trim(), JSON.stringify(overrides));
  }
  // Not checkable on this machine against a real Jupyter: the documented defaults of macOS and Windows.
  assert.equal(jupyterDataDir({ HOME: "/Users/ada" }, "darwin"), "/Users/ada/Library/Jupyter");
  assert.equal(
    jupyterDataDir({ USERPROFILE: "C:\\Users\\ada", APPDATA: "C:\\Users\\ada\\AppData\\Roaming" }, "win32"),
    "C:\\Users\\ada\\AppData\\Roaming\\jupyter",
  );
});

test("kernel install into a temporary Jupyter data dir; Jupyter runs notebook 01 with it from another folder on the local model; --uninstall removes it", () => {
  const dataDir = join(scratch, "data");
  const elsewhere = join(scratch, "elsewhere");
  mkdirSync(elsewhere, { recursive: true });
  const env = userEnv(dataDir);
  assert.equal(listedKernels(elsewhere, env).seedlab, undefined, "no seedlab kernel before the install");

  const installed = seedlab(["kernel", "install"], { cwd: elsewhere, env });
  assert.equal(installed.status, 0, installed.stderr);
  const kernelDir = join(dataDir, "kernels", "seedlab");
  assert.match(installed.stdout, /Installed the kernel "TypeScript \(seedlab\)" into /);
  assert.ok(installed.stdout.includes(kernelDir), installed.stdout);

  const listed = listedKernels(elsewhere, env).seedlab;
  assert.ok(listed, "Jupyter lists the kernel");
  assert.equal(listed.resource_dir, kernelDir);
  assert.equal(listed.spec.display_name, "TypeScript (seedlab)");
  assert.equal(listed.spec.argv[0], process.execPath, "this Node, by absolute path");
  assert.equal(listed.spec.argv[1], join(ROOT, "jupyter", "kernels", "seedlab", "launch-kernel.js"));

  // The notebook copied outside the project: the kernel starts here and must chdir to the project root.
  const notebook = join(elsewhere, "01.ipynb");
  copyFileSync(join(ROOT, "notebooks", "01-reproducible-outputs.ipynb"), notebook);
  const executed = runPython(
    [
      "-m",
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--ExecutePreprocessor.timeout=300",
      "--output",
      "01-executed",
      "--output-dir",
      elsewhere,
      notebook,
    ],
    { cwd: elsewhere, env },
  );
  assert.equal(executed.status, 0, `nbconvert failed:\n${executed.stderr.slice(-3000)}`);
  const cells = (
    JSON.parse(readFileSync(join(elsewhere, "01-executed.ipynb"), "utf8")) as {
      cells: Array<{ outputs?: Array<{ output_type: string; data?: Record<string, string | string[]> }> }>;
    }
  ).cells;
  const outputs = cells.flatMap((cell) => cell.outputs ?? []);
  assert.equal(outputs.filter((output) => output.output_type === "error").length, 0);
  const html = outputs.map((output) => [output.data?.["text/html"] ?? ""].flat().join("")).join("\n");
  assert.match(html, /<caption[^>]*>Backend: local/, "the notebook ran on the local backend");
  assert.match(html, /seed 123, temperature 0 — 5\/5 identical/, "the seeded batch ran on the model");
  assert.match(html, /fp_[0-9a-f]{12}/, "responses carry the local server's fingerprint");

  const removed = seedlab(["kernel", "install", "--uninstall"], { cwd: elsewhere, env });
  assert.equal(removed.status, 0, removed.stderr);
  assert.match(removed.stdout, /Removed the kernel/);
  assert.ok(!existsSync(kernelDir));
  assert.equal(listedKernels(elsewhere, env).seedlab, undefined, "no seedlab kernel after --uninstall");
  const again = seedlab(["kernel", "install", "--uninstall"], { cwd: elsewhere, env });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /is not installed/);
});

test("a kernel named seedlab that seedlab did not write is left alone, install and uninstall say so", () => {
  const dataDir = join(scratch, "foreign");
  const kernelDir = join(dataDir, "kernels", "seedlab");
  mkdirSync(kernelDir, { recursive: true });
  const foreign = JSON.stringify({
    argv: ["python3", "-m", "something"],
    display_name: "Someone else's",
    language: "python",
  });
  writeFileSync(join(kernelDir, "kernel.json"), foreign);
  for (const args of [
    ["kernel", "install"],
    ["kernel", "install", "--uninstall"],
  ]) {
    const result = seedlab(args, { cwd: scratch, env: userEnv(dataDir) });
    assert.equal(result.status, 2, args.join(" "));
    assert.match(
      result.stderr,
      /A kernel named "seedlab" that seedlab did not install is in the way: .*Move or remove that folder yourself/,
    );
    assert.equal(readFileSync(join(kernelDir, "kernel.json"), "utf8"), foreign);
  }
});
