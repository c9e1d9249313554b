/**
 * `npm start`: the main job. Serves the notebooks in Jupyter on 127.0.0.1 with the committed tslab
 * kernel (JupyterLab when installed, else Debian's classic notebook) and prints the URL to open.
 * The notebooks start the embedded local model themselves when no API key or base URL is set.
 *
 * Options: SEEDLAB_JUPYTER_PORT, from the environment or `.env` (default 8888; the next free port is
 * used when it is taken).
 *
 * Stopping: one Ctrl+C (SIGINT to the terminal's process group) or a SIGTERM. Jupyter runs in its own
 * process group, so the terminal's SIGINT does not reach it; this script sends it one SIGTERM, on
 * which Jupyter shuts its kernels down (each kernel's model server exits with its kernel) and exits.
 * Further signals while it stops are ignored. A second `npm start` for the same folder finds the
 * running one (a small state file in the temp folder) and prints its URL instead of starting another.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "dotenv";
import { ensureJupyter } from "./ensure-jupyter.mjs";
import { PROJECT_ROOT } from "./run-notebooks";

function hasJupyterLab(): boolean {
  return spawnSync("sh", ["-c", "jupyter lab --version"], { stdio: "ignore" }).status === 0;
}

/** What a running `npm start` records about itself, for a second one to find. */
interface RunningStart {
  pid: number;
  url: string | null;
  notebookDir: string;
}

/** The state file of `npm start` serving `notebookDir` (one per folder and user, in the temp folder). */
function stateFile(notebookDir: string): string {
  const key = createHash("sha256").update(notebookDir).digest("hex").slice(0, 16);
  const user = typeof process.getuid === "function" ? process.getuid() : "user";
  return join(tmpdir(), `seedlab-start-${user}-${key}.json`);
}

/** True when `pid` is a live `npm start` (start.ts) process, not a recycled pid. */
function isRunningStart(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const cmdline = `/proc/${pid}/cmdline`;
  return !existsSync(cmdline) || readFileSync(cmdline, "utf8").includes("start.ts");
}

/** The `npm start` already serving `notebookDir`, or null. */
function findRunningStart(notebookDir: string): RunningStart | null {
  try {
    const running = JSON.parse(readFileSync(stateFile(notebookDir), "utf8")) as RunningStart;
    return running.notebookDir === notebookDir && running.pid !== process.pid && isRunningStart(running.pid) ? running : null;
  } catch {
    return null;
  }
}

/** The parent pid and command line of `pid` (Linux /proc), or null when it is gone. */
function processInfo(pid: number): { ppid: number; cmdline: string } | null {
  // A zombie (exited, not yet reaped) counts as gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (state === "Z") return null;
    return { ppid: Number(ppid), cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ") };
  } catch {
    return null;
  }
}

/**
 * The processes that run this script on the user's behalf: the parent, and up the chain to the `npm`
 * that ran `npm start` (tsx, sh -c, npm). A SIGTERM to npm kills its `sh -c` without reaching this
 * script, so the script watches them and stops when one is gone.
 */
function launcherPids(): number[] {
  const pids = [process.ppid];
  if (process.env.npm_lifecycle_event === undefined) return pids;
  for (let pid = process.ppid, depth = 0; depth < 4; depth++) {
    const info = processInfo(pid);
    if (info === null || info.ppid <= 1) break;
    if (/(^|\/)npm(-cli\.js)?( |$)/.test(info.cmdline) || info.cmdline.includes("npm-cli.js")) break;
    pid = info.ppid;
    pids.push(pid);
  }
  return pids;
}

function main(): void {
  const notebookDir = join(PROJECT_ROOT, "notebooks");
  const running = findRunningStart(notebookDir);
  if (running !== null) {
    console.log(`seedlab: Jupyter is already serving ${notebookDir} (npm start, pid ${running.pid}).`);
    console.log(running.url === null ? "seedlab: it is still starting; its URL appears in its terminal." : `seedlab: open ${running.url}`);
    console.log("seedlab: stop it with Ctrl+C in its terminal to start a new one.");
    return;
  }
  ensureJupyter();
  const envFile = join(PROJECT_ROOT, ".env");
  const fromFile = existsSync(envFile) ? parse(readFileSync(envFile)).SEEDLAB_JUPYTER_PORT : undefined;
  const port = process.env.SEEDLAB_JUPYTER_PORT?.trim() || fromFile?.trim() || "8888";
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new Error(`Expected \`SEEDLAB_JUPYTER_PORT\` to be a port number from 1 to 65535, got "${port}". Set e.g. SEEDLAB_JUPYTER_PORT=8888, or remove it for the default.`);
  }
  const token = randomBytes(16).toString("hex");
  const lab = hasJupyterLab();
  const app = lab ? "ServerApp" : "NotebookApp";
  const args = [
    lab ? "lab" : "notebook",
    "--no-browser",
    "--ip=127.0.0.1",
    `--port=${port}`,
    `--notebook-dir=${notebookDir}`,
    `--${app}.token=${token}`,
    // "New" then makes a TypeScript notebook, not a Python one.
    "--MultiKernelManager.default_kernel_name=tslab",
  ];
  if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--allow-root");

  const state = stateFile(notebookDir);
  const record = (url: string | null): void => {
    writeFileSync(state, JSON.stringify({ pid: process.pid, url, notebookDir } satisfies RunningStart), { mode: 0o600 });
  };
  record(null);

  const jupyter = spawn("jupyter", args, {
    cwd: PROJECT_ROOT,
    // Absolute, or the tslab kernel dies before it answers kernel_info.
    env: { ...process.env, JUPYTER_PATH: join(PROJECT_ROOT, "jupyter") },
    stdio: ["ignore", "inherit", "pipe"],
    // Its own process group: a terminal's Ctrl+C reaches this script only, which stops Jupyter with
    // one SIGTERM. (SIGINT and then SIGTERM interrupt Jupyter's kernel shutdown and leave kernels.)
    detached: true,
  });
  let announced = false;
  jupyter.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    process.stderr.write(chunk);
    const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(chunk);
    if (!announced && match) {
      announced = true;
      const url = `http://127.0.0.1:${match[1]}/tree?token=${token}`;
      record(url);
      console.log(`\nseedlab: Jupyter is serving the notebooks with the "TypeScript (seedlab)" kernel.`);
      console.log(`seedlab: open ${url}`);
      console.log(`seedlab: start with 01-reproducible-outputs.ipynb. Press Ctrl+C to stop.\n`);
    }
  });

  let stopping = false;
  const stop = (): void => {
    // npm and tsx forward the terminal's signal too: one stop is enough, repeats are ignored.
    if (stopping || jupyter.exitCode !== null || jupyter.signalCode !== null) return;
    stopping = true;
    console.log("\nseedlab: stopping Jupyter and its kernels (their model servers stop with them)...");
    // SIGTERM, not SIGINT: on SIGINT the classic notebook asks for a confirmation on a terminal.
    jupyter.kill("SIGTERM");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", stop);
  const launchers = launcherPids();
  setInterval(() => {
    if (launchers.some((pid) => processInfo(pid) === null)) stop();
  }, 500).unref();
  // Should this script end any other way, Jupyter must not outlive it.
  process.on("exit", () => {
    if (jupyter.exitCode === null && jupyter.signalCode === null) jupyter.kill("SIGTERM");
    try {
      if ((JSON.parse(readFileSync(state, "utf8")) as RunningStart).pid === process.pid) rmSync(state, { force: true });
    } catch {
      // Already gone.
    }
  });
  jupyter.on("exit", (code, signal) => {
    if (stopping) console.log("seedlab: stopped.");
    process.exit(stopping ? 0 : code ?? (signal === null ? 0 : 1));
  });
}

try {
  main();
} catch (error) {
  console.error(`seedlab start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
