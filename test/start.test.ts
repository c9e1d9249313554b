// `npm start` as a user runs it: Jupyter with three notebooks open, each kernel holding the local
// backend (notebook 01's Set-up cell, run in the kernel as Jupyter runs a cell), then Ctrl+C, which a
// terminal delivers to the whole process group. The kernels borrow the one model server npm start
// started (src/local/shared.ts) and start none of their own. Afterwards no kernel and no model server of
// this run may remain, and nothing may print a traceback. Also: a second `npm start` points at the first,
// Set-up run three times starts no model server, a batch after close() says to run Set-up again while the
// shared server keeps running, an interrupted kernel keeps its model, and SIGTERM stops everything too.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { PROJECT_ROOT } from "../scripts/run-notebooks";
import { findPython } from "../scripts/find-jupyter.mjs";
import { alive, ephemeralPortStart, freePort } from "./support/processes";

const KERNEL_EXEC = join(PROJECT_ROOT, "test", "support", "kernel-exec.py");
// The Python that talks to the kernels (Jupyter's own client library), found as everywhere else: no fixed path.
const PYTHON =
  findPython(["jupyter_client", "jupyter_core"]) ??
  assert.fail("No Python with jupyter_client found (set SEEDLAB_PYTHON).");

interface Session {
  npm: ChildProcess;
  output: () => string;
  base: string;
  token: string;
  url: string;
}

interface CellResult {
  status: string;
  stdout: string;
  stderr: string;
  html: string;
  error: string;
}

function userEnv(port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SEEDLAB_JUPYTER_PORT: String(port), SEEDLAB_BACKEND: "local" };
  delete env.OPENAI_API_KEY;
  delete env.OPENAI_BASE_URL;
  return env;
}

async function waitFor<T>(
  what: string,
  check: () => T | null | undefined | false,
  timeoutMs: number,
  output: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}. Output so far:\n${output()}`);
    await sleep(200);
  }
}

/** Starts `npm start` in its own process group, as a terminal runs a foreground command. */
async function startNpm(port: number): Promise<Session> {
  const npm = spawn("npm", ["start"], {
    cwd: PROJECT_ROOT,
    env: userEnv(port),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  npm.stdout?.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
  npm.stderr?.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
  const output = (): string => text;
  const match = await waitFor(
    "the URL",
    () => {
      if (/already serving/.test(text))
        throw new Error(`An npm start already serves this folder: stop it to run this test.\n${text}`);
      return /open (http:\/\/127\.0\.0\.1:(\d+))\/tree\?token=([0-9a-f]+)/.exec(text);
    },
    120000,
    output,
  );
  return { npm, output, base: match[1] as string, token: match[3] as string, url: match[0].slice("open ".length) };
}

async function api<T>(session: Session, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${session.base}${path}`, {
    method,
    headers: { Authorization: `token ${session.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
  return (response.status === 204 ? null : await response.json()) as T;
}

/** Opens a notebook as the browser does (a session with a new tslab kernel); returns the kernel id. */
async function openNotebook(session: Session, path: string): Promise<string> {
  const created = await api<{ kernel: { id: string } }>(session, "POST", "/api/sessions", {
    path,
    type: "notebook",
    name: "",
    kernel: { name: "seedlab" },
  });
  return created.kernel.id;
}

const runtimeDir = execFileSync(
  PYTHON.command,
  [...PYTHON.args, "-c", "from jupyter_core.paths import jupyter_runtime_dir; print(jupyter_runtime_dir())"],
  { encoding: "utf8" },
).trim();

function runCell(kernelId: string, code: string): CellResult {
  const result = spawnSync(
    PYTHON.command,
    [...PYTHON.args, KERNEL_EXEC, join(runtimeDir, `kernel-${kernelId}.json`), "180"],
    { input: code, encoding: "utf8", env: { ...process.env, PYTHONWARNINGS: "ignore" } },
  );
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as CellResult;
}

interface ProcessRow {
  pid: number;
  ppid: number;
  args: string;
}

function processes(): ProcessRow[] {
  return execFileSync("ps", ["-eo", "pid=,ppid=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [pid, ppid, ...args] = line.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), args: args.join(" ") };
    });
}

/**
 * The processes of a kernel: launch-kernel.js, and the kernel it runs from the kernel snapshot when there is one
 * (its child, with the same arguments). The last is the one running tslab.
 */
function kernelPids(kernelId: string): number[] {
  const rows = processes().filter(
    (process) => process.args.includes(`kernel-${kernelId}.json`) && process.args.includes("launch-kernel.js"),
  );
  const pids = rows.map((row) => row.pid);
  const launcher = rows.find((row) => !pids.includes(row.ppid));
  assert.ok(launcher, `the process of kernel ${kernelId}`);
  const child = rows.find((row) => row.ppid === launcher.pid);
  return child === undefined ? [launcher.pid] : [launcher.pid, child.pid];
}

/** The process running a kernel's tslab (see kernelPids). */
function kernelPid(kernelId: string): number {
  return kernelPids(kernelId).at(-1) as number;
}

// A kernel runs the compiled library, whose model server is plain dist/local/serve.js (src/local/serve.ts from src/).
const SERVE_ENTRIES = [join(PROJECT_ROOT, "dist", "local", "serve.js"), join(PROJECT_ROOT, "src", "local", "serve.ts")];

function modelServersOf(pid: number): number[] {
  return processes()
    .filter((process) => process.ppid === pid && SERVE_ENTRIES.some((entry) => process.args.includes(entry)))
    .map((process) => process.pid);
}

/** The model server npm start shares with its kernels: the one whose parent runs scripts/start.ts (from dist/, built first). */
function sharedServer(): number {
  const rows = processes();
  const starts = new Set(rows.filter((row) => row.args.includes(join("scripts", "start.ts"))).map((row) => row.pid));
  const servers = rows
    .filter((row) => starts.has(row.ppid) && row.args.includes(join(PROJECT_ROOT, "dist", "local", "serve.js")))
    .map((row) => row.pid);
  assert.equal(servers.length, 1, "npm start runs one model server");
  return servers[0] as number;
}

/** Notebook 01's Set-up cell, as committed. */
function setupCell(): string {
  const notebook = JSON.parse(
    readFileSync(join(PROJECT_ROOT, "notebooks", "01-reproducible-outputs.ipynb"), "utf8"),
  ) as { cells: Array<{ cell_type: string; source: string | string[] }> };
  const cell = notebook.cells.find((candidate) => candidate.cell_type === "code");
  assert.ok(cell);
  const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
  assert.match(source, /openBackend(WithProgress)?\(settings/);
  return source;
}

function assertCellOk(result: CellResult, what: string): void {
  assert.equal(result.status, "ok", `${what}: ${result.error}${result.stderr}`);
}

/** Ends whatever a failed test left running: npm's group, then Jupyter (its own group), then `pids`. */
async function cleanUp(session: Session, pids: number[]): Promise<void> {
  const jupyter = processes()
    // The token goes by environment, not on the command line: Jupyter is found by its port.
    .filter((row) => row.args.includes("jupyter") && row.args.includes(`--port=${new URL(session.base).port}`))
    .map((row) => row.pid);
  if (session.npm.exitCode === null && session.npm.signalCode === null)
    process.kill(-(session.npm.pid as number), "SIGKILL");
  for (const pid of jupyter) process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline && [...jupyter, ...pids].some(alive)) await sleep(200);
  for (const pid of [...jupyter, ...pids].filter(alive)) process.kill(pid, "SIGKILL");
}

async function stopAndCheck(session: Session, send: () => void, pids: number[]): Promise<void> {
  // "close": npm has exited and every process writing to its output (start.ts, Jupyter) is done.
  const exited = new Promise<number | null>((resolve) => session.npm.once("close", (code) => resolve(code)));
  send();
  const stoppedWithin10s = await Promise.race([
    (async () => {
      const deadline = Date.now() + 10000;
      while (Date.now() < deadline && pids.some(alive)) await sleep(100);
      return !pids.some(alive);
    })(),
  ]);
  const left = pids.filter(alive);
  const leftRows = processes().filter((row) => left.includes(row.pid));
  for (const pid of left) process.kill(pid, "SIGKILL");
  assert.ok(stoppedWithin10s, `still running 10 s after the signal: ${JSON.stringify(leftRows)}\n${session.output()}`);
  // npm exits 0, or by the signal it was sent (as after Ctrl+C in a terminal).
  const code = await Promise.race([exited, sleep(20000).then(() => "npm did not exit")]);
  assert.ok(code === 0 || code === null, `npm exit: ${String(code)}\n${session.output()}`);
  assert.doesNotMatch(session.output(), /Traceback|RuntimeError|Error:/, "nothing printed a traceback or an error");
  assert.match(session.output(), /seedlab: stopped\./);
}

test("Ctrl+C on npm start with three notebooks holding the local model: no kernel, no model server, no traceback", async (t) => {
  const port = await freePort();
  const session = await startNpm(port);
  const pids: number[] = [];
  try {
    const notebooks = [
      "01-reproducible-outputs.ipynb",
      "02-considerations.ipynb",
      "03-measuring-reproducibility.ipynb",
    ];
    const kernels: string[] = [];
    for (const notebook of notebooks) kernels.push(await openNotebook(session, notebook));
    const setup = setupCell();
    for (const kernel of kernels) {
      const result = runCell(kernel, setup);
      assertCellOk(result, "Set-up");
      assert.match(result.html, /server: shared, started by npm start/, "the Set-up cell says which server");
    }
    const [first, second] = kernels as [string, string, string];
    const shared = sharedServer();

    await t.test("npm start says the model server is ready before it says what to open", () => {
      const text = session.output();
      const ready = text.indexOf("seedlab: local model server for the notebooks ready at");
      assert.ok(ready >= 0 && ready < text.indexOf("seedlab: open http"), text);
    });

    await t.test(
      "the kernels' ports are below the system's ephemeral range (jupyter/config/)",
      { skip: ephemeralPortStart() === null && "reads Linux's /proc" },
      () => {
        const low = ephemeralPortStart() as number;
        for (const kernel of kernels) {
          const info = JSON.parse(readFileSync(join(runtimeDir, `kernel-${kernel}.json`), "utf8")) as Record<
            string,
            number
          >;
          for (const name of ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"]) {
            assert.ok(
              info[name]! >= 20000 && info[name]! < low,
              `kernel ${kernel}'s ${name} ${info[name]} is in [20000, ${low})`,
            );
          }
        }
      },
    );

    await t.test("Set-up run three times in one kernel starts no model server of its own", () => {
      for (const run of ["second", "third"]) {
        const result = runCell(first, setup);
        assertCellOk(result, `Set-up, ${run} run`);
        assert.match(result.html, /server: shared, started by npm start/, `Set-up, ${run} run: ${result.html}`);
      }
      assert.equal(modelServersOf(kernelPid(first)).length, 0);
      assert.equal(sharedServer(), shared);
    });

    await t.test("a batch after backend.close() fails at once, saying to run the Set-up cell again", () => {
      const result = runCell(
        first,
        'await backend.close();\nawait runBatch({ client: backend.client, request: { model: backend.model, user: "Once upon a time", max_tokens: 5 }, runs: 5 });',
      );
      assert.equal(result.status, "error");
      const shown = result.stderr + result.error;
      assert.match(shown, /Run the Set-up cell again/);
      assert.doesNotMatch(shown, /ECONNREFUSED|Connection error/);
      assert.equal(modelServersOf(kernelPid(first)).length, 0);
      assert.ok(alive(shared), "backend.close() left the shared server running");
      assertCellOk(runCell(first, setup), "Set-up after close");
    });

    await t.test("interrupting a kernel keeps the model server", async () => {
      await api(session, "POST", `/api/kernels/${second}/interrupt`);
      await sleep(1000);
      assert.ok(alive(shared), "the model server survived the interrupt");
      const result = runCell(
        second,
        'const again = await getChatResponse(backend.client, { model: backend.model, user: "Once upon a time", seed: 1, temperature: 0, max_tokens: 5 });\nconsole.log(`answered: ${again.content !== null}`);',
      );
      assertCellOk(result, "a request after the interrupt");
      assert.match(result.stdout, /answered: true/);
    });

    pids.push(shared);
    for (const kernel of kernels) {
      assert.equal(modelServersOf(kernelPid(kernel)).length, 0, "no kernel holds a model server of its own");
      pids.push(...kernelPids(kernel));
    }
    await stopAndCheck(session, () => process.kill(-(session.npm.pid as number), "SIGINT"), pids);
  } finally {
    await cleanUp(session, pids);
  }
});

test("SIGTERM to npm start stops Jupyter, its kernel and the model server; a second npm start names the first", async () => {
  const port = await freePort();
  const session = await startNpm(port);
  const pids: number[] = [];
  try {
    // A second npm start for the same folder names the running one and its URL, and starts nothing.
    const second = spawnSync("npm", ["start"], {
      cwd: PROJECT_ROOT,
      env: userEnv(port + 1),
      encoding: "utf8",
      timeout: 60000,
    });
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /already serving .*notebooks \(npm start: scripts\/start\.ts, pid \d+\)/);
    assert.ok(second.stdout.includes(`open ${session.url}`), second.stdout);
    assert.doesNotMatch(second.stdout + second.stderr, /Jupyter is serving|Serving notebooks/);

    const kernel = await openNotebook(session, "01-reproducible-outputs.ipynb");
    assertCellOk(runCell(kernel, setupCell()), "Set-up");
    pids.push(...kernelPids(kernel), sharedServer());
    await stopAndCheck(session, () => session.npm.kill("SIGTERM"), pids);
  } finally {
    await cleanUp(session, pids);
  }
});

test("npm start killed outright (SIGKILL): its Jupyter, the kernel and the model server still end", async () => {
  const port = await freePort();
  const session = await startNpm(port);
  const pids: number[] = [];
  try {
    const kernel = await openNotebook(session, "01-reproducible-outputs.ipynb");
    assertCellOk(runCell(kernel, setupCell()), "Set-up");
    const rows = processes();
    // The token goes by environment, not on the command line: Jupyter is found by its port; its parent runs start.ts.
    const jupyter = rows.filter((row) => row.args.includes("jupyter") && row.args.includes(`--port=${port}`));
    assert.equal(jupyter.length, 1, "npm start's Jupyter");
    const start = rows.find((row) => row.pid === jupyter[0]?.ppid);
    assert.match(start?.args ?? "", /scripts[\\/]start\.ts/, "Jupyter's parent runs scripts/start.ts");
    pids.push((jupyter[0] as ProcessRow).pid, ...kernelPids(kernel), sharedServer());
    process.kill(start!.pid, "SIGKILL"); // nothing of start.ts runs after this: no handler, no exit hook
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && pids.some(alive)) await sleep(100);
    const left = processes().filter((row) => pids.includes(row.pid));
    assert.deepEqual(left, [], `still running 10 s after npm start was killed\n${session.output()}`);
  } finally {
    await cleanUp(session, pids);
  }
});
