/**
 * `npm start`: the main job. Serves the notebooks in Jupyter on 127.0.0.1 with the committed
 * "TypeScript (seedlab)" kernel and prints the URL to open. Uses the Jupyter that is installed:
 * JupyterLab, else Notebook 7, else the classic notebook (pip, conda, Homebrew or Debian), found on PATH
 * and spawned directly, without a shell (scripts/find-jupyter.mjs). None? As root on Debian/Ubuntu it
 * installs Debian's packages; elsewhere it prints this platform's install command and the VS Code route.
 * When no API key or base URL is set, it starts one embedded local model server while Jupyter starts and
 * lends it to every kernel (SEEDLAB_SHARED_SERVER; see src/local/shared.ts); it stops when this script ends.
 *
 * Options: SEEDLAB_JUPYTER_PORT, from the environment or `.env` (default 8888; the next free port is
 * used when it is taken).
 *
 * Stopping: one Ctrl+C (SIGINT to the terminal's process group) or a SIGTERM. Jupyter runs in its own
 * process group, so the terminal's SIGINT does not reach it; this script asks it to shut down (its kernels
 * first; a kernel's own model server exits with its kernel), stops the shared model server and exits. Further signals while it stops are
 * ignored. A second `npm start` for the same folder finds the running one (a small state file in the temp
 * folder) and prints its URL instead of starting another.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { parse } from "dotenv";
import { ensureBuild } from "./ensure-build.mjs";
import { ensureKernelSnapshot } from "./kernel-snapshot.mjs";
import { ensureJupyter } from "./ensure-jupyter.mjs";
import { PROJECT_ROOT } from "./run-notebooks";
import { lendLocalServer } from "../src/local/shared";

/**
 * Stops a Jupyter server the same way on every platform: `POST /api/shutdown` (JupyterLab, Notebook 7
 * and the classic notebook 6 all have it; Jupyter then shuts its kernels down), then, if it is still
 * running after a few seconds, `child.kill()`. On Windows there are no POSIX signals between
 * processes: Node's `kill()` there is TerminateProcess, which cannot let Jupyter stop its kernels,
 * hence the HTTP request first.
 */
async function stopJupyter(jupyter: ChildProcess, baseUrl: string | null, token: string): Promise<void> {
  if (jupyter.exitCode !== null || jupyter.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => jupyter.once("exit", () => resolve()));
  // Jupyter's own shutdown waits for each kernel to answer. Not gone 4 s after asking: SIGTERM; still there 3 s
  // later (seen on a loaded 2-core machine, 1 run in 2): SIGKILL. Counted from the request, not from Jupyter's
  // answer: a Jupyter that does not answer at all (seen once in a few runs after Ctrl+C) is gone within 7 s too.
  // Its kernels then exit by themselves within a second (launch-kernel.js watches its parent), and the model
  // server stops with this script.
  const term = setTimeout(() => jupyter.kill("SIGTERM"), baseUrl === null ? 0 : 4000);
  const kill = setTimeout(() => jupyter.kill("SIGKILL"), (baseUrl === null ? 0 : 4000) + 3000);
  if (baseUrl !== null) {
    try {
      await fetch(`${baseUrl}api/shutdown`, {
        method: "POST",
        headers: { Authorization: `token ${token}` },
        signal: AbortSignal.timeout(3000),
      });
    } catch {
      // Not answering: killed by the timers above.
    }
  }
  await exited;
  clearTimeout(term);
  clearTimeout(kill);
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
    return running.notebookDir === notebookDir && running.pid !== process.pid && isRunningStart(running.pid)
      ? running
      : null;
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
 * that ran `npm start` (sh -c, npm). A SIGTERM to npm kills its `sh -c` without reaching this
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
    console.log(
      `seedlab: Jupyter is already serving ${notebookDir} (npm start: scripts/start.ts, pid ${running.pid}).`,
    );
    console.log(
      running.url === null
        ? "seedlab: it is still starting; its URL appears in its terminal."
        : `seedlab: open ${running.url}`,
    );
    console.log("seedlab: stop it with Ctrl+C in its terminal to start a new one.");
    return;
  }
  const jupyter = ensureJupyter({ need: "server" }).jupyter;
  if (jupyter === null) throw new Error("No Jupyter was found."); // ensureJupyter threw already, with the fix.
  ensureBuild({ root: PROJECT_ROOT }); // The notebooks import dist/: build it now rather than in the first kernel.
  ensureKernelSnapshot({ root: PROJECT_ROOT }); // Kernels start from it (a no-op unless Node or packages changed).
  const envFile = join(PROJECT_ROOT, ".env");
  const fromFile = existsSync(envFile) ? parse(readFileSync(envFile)).SEEDLAB_JUPYTER_PORT : undefined;
  const port = process.env.SEEDLAB_JUPYTER_PORT?.trim() || fromFile?.trim() || "8888";
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new Error(
      `Expected \`SEEDLAB_JUPYTER_PORT\` to be a port number from 1 to 65535, got "${port}". Set e.g. SEEDLAB_JUPYTER_PORT=8888, or remove it for the default.`,
    );
  }
  const token = randomBytes(16).toString("hex");
  const args = [
    ...jupyter.args,
    "--no-browser",
    "--ip=127.0.0.1",
    `--port=${port}`,
    `--notebook-dir=${notebookDir}`,
    // "New" then makes a TypeScript notebook, not a Python one.
    "--MultiKernelManager.default_kernel_name=seedlab",
  ];
  if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--allow-root");

  const state = stateFile(notebookDir);
  const record = (url: string | null): void => {
    writeFileSync(state, JSON.stringify({ pid: process.pid, url, notebookDir } satisfies RunningStart), {
      mode: 0o600,
    });
  };
  record(null);

  console.log(
    `seedlab: starting ${jupyter.frontend === "lab" ? "JupyterLab " : `Notebook ${jupyter.frontend === "classic" ? "(classic) " : ""}`}${jupyter.version} (${[jupyter.command, ...jupyter.args].join(" ")})`,
  );
  // The committed kernelspec first, the user's own JUPYTER_PATH after it. Absolute, or the kernel dies
  // before it answers kernel_info. The token goes by environment (every Jupyter reads JUPYTER_TOKEN),
  // not on the command line where other users could read it.
  const jupyterPath = [join(PROJECT_ROOT, "jupyter"), process.env.JUPYTER_PATH].filter(Boolean).join(delimiter);
  // jupyter/config/ adds to the user's configuration: kernel ports below the system's ephemeral range, and an end
  // with this process (scripts/npm_start_jupyter.py).
  const configPath = [join(PROJECT_ROOT, "jupyter", "config"), process.env.JUPYTER_CONFIG_PATH]
    .filter(Boolean)
    .join(delimiter);
  const modelServerLine = lendLocalServer("npm start"); // One model server for every kernel, starting while Jupyter starts.
  const server = spawn(jupyter.command, args, {
    cwd: PROJECT_ROOT,
    // PYDEVD_DISABLE_FILE_VALIDATION: silences the Python kernel's debugger warning Jupyter prints when the
    // browser lists kernelspecs (Debian's python3 kernel), which has nothing to do with seedlab.
    env: {
      ...process.env,
      JUPYTER_PATH: jupyterPath,
      JUPYTER_CONFIG_PATH: configPath,
      SEEDLAB_JUPYTER_OWNER_PID: String(process.pid), // it ends when this process is gone (jupyter/config/)
      JUPYTER_TOKEN: token,
      PYDEVD_DISABLE_FILE_VALIDATION: "1",
    },
    stdio: ["ignore", "inherit", "pipe"],
    windowsHide: true,
    // Its own process group: a terminal's Ctrl+C reaches this script only, which stops Jupyter once.
    // (SIGINT and then SIGTERM interrupt Jupyter's kernel shutdown and leave kernels behind.)
    detached: true,
  });
  let baseUrl: string | null = null;
  server.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    process.stderr.write(chunk);
    const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(chunk);
    if (baseUrl === null && match) {
      baseUrl = `http://127.0.0.1:${match[1]}/`;
      const url = `${baseUrl}${jupyter.frontend === "lab" ? "lab" : "tree"}?token=${token}`;
      record(url);
      // After the model server's line (it is usually ready by now): the last lines say what to open.
      const modelServerWait = new Promise((resolve) => setTimeout(resolve, 15_000).unref());
      void Promise.race([modelServerLine, modelServerWait]).then(() => {
        if (stopping) return;
        console.log(`\nseedlab: Jupyter is serving the notebooks with the "TypeScript (seedlab)" kernel.`);
        console.log(`seedlab: open ${url}`);
        console.log(`seedlab: start with 01-reproducible-outputs.ipynb. Press Ctrl+C to stop.\n`);
      });
    }
  });

  let stopping = false;
  const stop = (): void => {
    // npm forwards the terminal's signal too: one stop is enough, repeats are ignored.
    if (stopping || server.exitCode !== null || server.signalCode !== null) return;
    stopping = true;
    console.log("\nseedlab: stopping Jupyter, its kernels and the model server...");
    void stopJupyter(server, baseUrl, token);
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
    if (server.exitCode === null && server.signalCode === null) server.kill("SIGTERM");
    try {
      if ((JSON.parse(readFileSync(state, "utf8")) as RunningStart).pid === process.pid) rmSync(state, { force: true });
    } catch {
      // Already gone.
    }
  });
  server.on("error", (error) => {
    console.error(`seedlab start: could not run ${jupyter.command}: ${error.message}`);
    process.exit(1);
  });
  server.on("exit", (code, signal) => {
    if (stopping) console.log("seedlab: stopped.");
    process.exit(stopping ? 0 : (code ?? (signal === null ? 0 : 1)));
  });
}

try {
  main();
} catch (error) {
  console.error(`seedlab start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
