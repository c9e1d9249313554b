// Starts tslab from the project root, whatever folder the notebook lives in.
// tslab compiles cells with rootDir = the kernel's working directory, so a kernel started in
// notebooks/ could not import ../dist. From the root, cells import "./dist/index" and dotenv finds ./.env.
// Usage: node launch-kernel.js CONNECTION_FILE [PROJECT_ROOT]. The committed kernel.json (used by
// `npm start` through JUPYTER_PATH) passes only the connection file; the kernelspec that
// `seedlab kernel install` writes into the user's Jupyter passes the project root too.
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
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(0);
}, 1000).unref();
// Notebooks import the compiled library (dist/): rebuild it first if src/ changed since the last build, so a
// kernel restart picks up edits to src/. Build notes and type errors go to stderr (Jupyter's log); a failed
// build still starts the kernel (its import cell then says what is missing).
const { pathToFileURL } = require("node:url");
import(pathToFileURL(path.join(projectRoot, "scripts", "ensure-build.mjs")).href)
  .then(({ ensureBuild }) => ensureBuild({ root: projectRoot }))
  .catch((error) => console.error(`launch-kernel.js: could not build the seedlab library: ${error.message}`))
  .then(() => require(tslab).startKernel({ configPath, enableFindLocal: false }));
