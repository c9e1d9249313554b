/**
 * `npm start`: the main job. Serves the notebooks in Jupyter on 127.0.0.1 with the committed
 * "TypeScript (seedlab)" kernel and prints the URL to open. Uses the Jupyter that is installed:
 * JupyterLab, else Notebook 7, else the classic notebook (pip, conda, Homebrew or Debian), found on PATH
 * and spawned directly, without a shell (scripts/find-jupyter.mjs). None? As root on Debian/Ubuntu it
 * installs Debian's packages; elsewhere it prints this platform's install command and the VS Code route.
 * The notebooks start the embedded local model themselves when no API key or base URL is set.
 *
 * Options: SEEDLAB_JUPYTER_PORT, from the environment or `.env` (default 8888; the next free port is
 * used when it is taken).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { parse } from "dotenv";
import { ensureJupyter } from "./ensure-jupyter.mjs";
import { PROJECT_ROOT } from "./run-notebooks";

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
  if (baseUrl !== null) {
    try {
      await fetch(`${baseUrl}api/shutdown`, { method: "POST", headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(3000) });
    } catch {
      // Not answering: killed below.
    }
  }
  const timer = setTimeout(() => jupyter.kill("SIGTERM"), baseUrl === null ? 0 : 5000);
  await exited;
  clearTimeout(timer);
}

function main(): void {
  const jupyter = ensureJupyter({ need: "server" }).jupyter;
  if (jupyter === null) throw new Error("No Jupyter was found."); // ensureJupyter threw already, with the fix.
  const envFile = join(PROJECT_ROOT, ".env");
  const fromFile = existsSync(envFile) ? parse(readFileSync(envFile)).SEEDLAB_JUPYTER_PORT : undefined;
  const port = process.env.SEEDLAB_JUPYTER_PORT?.trim() || fromFile?.trim() || "8888";
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new Error(`Expected \`SEEDLAB_JUPYTER_PORT\` to be a port number from 1 to 65535, got "${port}". Set e.g. SEEDLAB_JUPYTER_PORT=8888, or remove it for the default.`);
  }
  const token = randomBytes(16).toString("hex");
  const args = [
    ...jupyter.args,
    "--no-browser",
    "--ip=127.0.0.1",
    `--port=${port}`,
    `--notebook-dir=${join(PROJECT_ROOT, "notebooks")}`,
    // "New" then makes a TypeScript notebook, not a Python one.
    "--MultiKernelManager.default_kernel_name=seedlab",
  ];
  if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--allow-root");

  console.log(`seedlab: starting ${jupyter.frontend === "lab" ? "JupyterLab " : `Notebook ${jupyter.frontend === "classic" ? "(classic) " : ""}`}${jupyter.version} (${[jupyter.command, ...jupyter.args].join(" ")})`);
  // The committed kernelspec first, the user's own JUPYTER_PATH after it. Absolute, or the kernel dies
  // before it answers kernel_info. The token goes by environment (every Jupyter reads JUPYTER_TOKEN),
  // not on the command line where other users could read it.
  const jupyterPath = [join(PROJECT_ROOT, "jupyter"), process.env.JUPYTER_PATH].filter(Boolean).join(delimiter);
  const server = spawn(jupyter.command, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, JUPYTER_PATH: jupyterPath, JUPYTER_TOKEN: token },
    stdio: ["ignore", "inherit", "pipe"],
    windowsHide: true,
  });
  let baseUrl: string | null = null;
  server.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    process.stderr.write(chunk);
    const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(chunk);
    if (baseUrl === null && match) {
      baseUrl = `http://127.0.0.1:${match[1]}/`;
      const url = `${baseUrl}${jupyter.frontend === "lab" ? "lab" : "tree"}?token=${token}`;
      console.log(`\nseedlab: Jupyter is serving the notebooks with the "TypeScript (seedlab)" kernel.`);
      console.log(`seedlab: open ${url}`);
      console.log(`seedlab: start with 01-reproducible-outputs.ipynb. Press Ctrl+C to stop.\n`);
    }
  });
  const stop = (): void => {
    // Not SIGINT: on SIGINT the classic notebook asks for a confirmation on stdin.
    void stopJupyter(server, baseUrl, token);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  server.on("error", (error) => {
    console.error(`seedlab start: could not run ${jupyter.command}: ${error.message}`);
    process.exit(1);
  });
  server.on("exit", (code) => process.exit(code ?? 0));
}

try {
  main();
} catch (error) {
  console.error(`seedlab start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
