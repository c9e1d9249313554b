// Starts tslab from the project root, whatever folder the notebook lives in.
// tslab compiles cells with rootDir = the kernel's working directory, so a kernel started in
// notebooks/ could not import ../dist. From the root, cells import "./dist/index" and dotenv finds ./.env.
// Usage: node launch-kernel.js CONNECTION_FILE [PROJECT_ROOT]. The committed kernel.json (used by
// `npm start` through JUPYTER_PATH) passes only the connection file; the kernelspec that
// `seedlab kernel install` writes into the user's Jupyter passes the project root too.
// When the kernels' startup snapshot is ready (scripts/kernel-snapshot.mjs), this process starts the kernel from it
// as its child (see startFromSnapshot); the child runs this same file, from the snapshot, with the same arguments.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const configPath = process.argv[2];
if (!configPath) {
  console.error("launch-kernel.js: expected the Jupyter connection file as its first argument.");
  process.exit(2);
}
const projectRoot = path.resolve(process.argv[3] || path.join(__dirname, "..", "..", ".."));
const tslab = path.join(projectRoot, "node_modules", "tslab", "dist", "main.js");
if (!fs.existsSync(tslab)) {
  console.error(
    `launch-kernel.js: tslab is not installed in ${projectRoot} (no ${tslab}). Run \`npm install\` there; if the project moved, run \`npx seedlab kernel install\` again from its new folder.`,
  );
  process.exit(2);
}
process.chdir(projectRoot);
// Like ipykernel, exit when the Jupyter that started this kernel is gone (even killed): tslab does not
// watch its parent, and an orphaned kernel would keep its model server too.
const parentPid = process.ppid;
let onParentGone = () => process.exit(0);
setInterval(() => {
  if (process.ppid !== parentPid) onParentGone();
}, 1000).unref();
// Jupyter picks the kernel's five ports, writes them to the connection file and frees them; another process can
// take one before the kernel binds it (a client's outgoing connection, say). tslab then only logs the failed bind
// and keeps running without its sockets: a kernel that never answers, and Jupyter waits for it. Exit instead, with
// PORT_TAKEN: Jupyter sees a kernel that died while starting. scripts/execute-notebooks.py then starts another (new
// ports); Jupyter's restarter tries the same ports again (jupyter_client 7 and 8), which works once they are free.
const PORT_TAKEN = 75;
const startTslab = () => {
  const ports = connectionPorts();
  process.on("unhandledRejection", (reason) => {
    const port = Number(/:(\d+)$/.exec(String(reason?.address ?? ""))?.[1]);
    if (reason?.code !== "EADDRINUSE" || !ports.includes(port)) return;
    console.error(
      `launch-kernel.js: port ${port} from the connection file is taken by another process; the kernel cannot start and exits. A new kernel gets new ports (in Jupyter: shut this one down and open the notebook again).`,
    );
    process.exit(PORT_TAKEN);
  });
  require(tslab).startKernel({ configPath, enableFindLocal: false });
};

function connectionPorts() {
  try {
    const info = JSON.parse(fs.readFileSync(configPath, "utf8"));
    return ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"].map((key) => Number(info[key]));
  } catch {
    return [];
  }
}

if (globalThis.seedlabKernelSnapshot !== undefined) {
  // Started from the kernel snapshot (scripts/kernel-snapshot-entry.cjs) by the launcher below: TypeScript and the
  // declarations are already loaded, dist/ was checked by the launcher.
  startTslab();
} else {
  // Notebooks import the compiled library (dist/): rebuild it first if src/ changed since the last build, so a
  // kernel restart picks up edits to src/. Build notes and type errors go to stderr (Jupyter's log); a failed
  // build still starts the kernel (its import cell then says what is missing).
  const { pathToFileURL } = require("node:url");
  const script = (name) => pathToFileURL(path.join(projectRoot, "scripts", name)).href;
  import(script("ensure-build.mjs"))
    .then(({ ensureBuild }) => ensureBuild({ root: projectRoot }))
    .catch((error) => console.error(`launch-kernel.js: could not build the seedlab library: ${error.message}`))
    .then(() => import(script("kernel-snapshot.mjs")))
    .then(({ readySnapshot, KERNEL_NODE_FLAGS }) => {
      const blob = readySnapshot(projectRoot);
      return blob === null ? null : { blob, flags: KERNEL_NODE_FLAGS };
    })
    .catch(() => null)
    .then((snapshot) => (snapshot === null ? startTslab() : startFromSnapshot(snapshot)));
}

/**
 * Runs the kernel in a child Node started from the snapshot (`npm ci` made it; see scripts/kernel-snapshot.mjs)
 * and stays as its parent: Jupyter knows this process. The child has its own process group, so Jupyter's
 * signals to this group (interrupt, terminate) reach it once, forwarded from here; it exits when this process
 * does (it watches its parent like this one does).
 */
function startFromSnapshot({ blob, flags }) {
  const { spawn } = require("node:child_process");
  const child = spawn(process.execPath, [...flags, "--snapshot-blob", blob, __filename, configPath, projectRoot], {
    stdio: "inherit",
    detached: process.platform !== "win32",
  });
  const started = Date.now();
  let forwarded = false;
  const forward = (signal) => {
    forwarded = true;
    child.kill(signal);
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of signals) process.on(signal, forward);
  onParentGone = () => {
    child.kill("SIGTERM");
    process.exit(0);
  };
  // A child that cannot start (Node refusing this snapshot: exit code 14; a damaged file: SIGSEGV) fails within
  // seconds: the kernel then starts here, as without a snapshot, rather than dying. A child whose ports were taken
  // (PORT_TAKEN) would fail here too: this process exits with it instead.
  let fellBack = false;
  const fallBack = (why) => {
    if (fellBack) return;
    fellBack = true;
    for (const signal of signals) process.off(signal, forward);
    onParentGone = () => process.exit(0);
    console.error(`launch-kernel.js: the kernel did not start from its snapshot (${why}); starting it without.`);
    startTslab();
  };
  child.on("error", (error) => fallBack(error.message));
  child.on("exit", (code, signal) => {
    const failedToStart = !forwarded && code !== 0 && code !== PORT_TAKEN && Date.now() - started < 5000;
    if (failedToStart) return fallBack(signal ?? `exit code ${code}`);
    if (!fellBack) process.exit(code ?? 128 + (require("node:os").constants.signals[signal] ?? 0));
  });
}
