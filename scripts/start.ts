/**
 * `npm start`: the main job. Serves the notebooks in Jupyter on 127.0.0.1 with the committed tslab
 * kernel (JupyterLab when installed, else Debian's classic notebook) and prints the URL to open.
 * The notebooks start the embedded local model themselves when no API key or base URL is set.
 *
 * Options: SEEDLAB_JUPYTER_PORT, from the environment or `.env` (default 8888; the next free port is
 * used when it is taken).
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "dotenv";
import { ensureJupyter } from "./ensure-jupyter.mjs";
import { PROJECT_ROOT } from "./run-notebooks";

function hasJupyterLab(): boolean {
  return spawnSync("sh", ["-c", "jupyter lab --version"], { stdio: "ignore" }).status === 0;
}

function main(): void {
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
    `--notebook-dir=${join(PROJECT_ROOT, "notebooks")}`,
    `--${app}.token=${token}`,
    // "New" then makes a TypeScript notebook, not a Python one.
    "--MultiKernelManager.default_kernel_name=tslab",
  ];
  if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--allow-root");

  const jupyter = spawn("jupyter", args, {
    cwd: PROJECT_ROOT,
    // Absolute, or the tslab kernel dies before it answers kernel_info.
    env: { ...process.env, JUPYTER_PATH: join(PROJECT_ROOT, "jupyter") },
    stdio: ["ignore", "inherit", "pipe"],
  });
  let announced = false;
  jupyter.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    process.stderr.write(chunk);
    const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(chunk);
    if (!announced && match) {
      announced = true;
      const url = `http://127.0.0.1:${match[1]}/tree?token=${token}`;
      console.log(`\nseedlab: Jupyter is serving the notebooks with the "TypeScript (seedlab)" kernel.`);
      console.log(`seedlab: open ${url}`);
      console.log(`seedlab: start with 01-reproducible-outputs.ipynb. Press Ctrl+C to stop.\n`);
    }
  });
  const stop = (): void => {
    // SIGTERM, not SIGINT: on SIGINT the classic notebook asks for a confirmation on stdin.
    jupyter.kill("SIGTERM");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  jupyter.on("exit", (code) => process.exit(code ?? 0));
}

try {
  main();
} catch (error) {
  console.error(`seedlab start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
