// Starts tslab from the project root, whatever folder the notebook lives in.
// tslab compiles cells with rootDir = the kernel's working directory, so a kernel started in
// notebooks/ could not import ../src. From the root, cells import "./src/..." and dotenv finds ./.env.
"use strict";
const path = require("node:path");

const projectRoot = path.resolve(__dirname, "..", "..", "..");
const configPath = process.argv[2];
if (!configPath) {
  console.error("launch-kernel.js: expected the Jupyter connection file as its first argument.");
  process.exit(2);
}
process.chdir(projectRoot);
// Like ipykernel, exit when the Jupyter that started this kernel is gone (even killed): tslab does not
// watch its parent, and an orphaned kernel would keep its model server too.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(0);
}, 1000).unref();
require(path.join(projectRoot, "node_modules", "tslab", "dist", "main.js")).startKernel({
  configPath,
  enableFindLocal: false,
});
