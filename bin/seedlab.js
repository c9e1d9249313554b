#!/usr/bin/env node
// The `seedlab` command (package.json "bin"): runs the compiled library's dist/cli/main.js when dist/ is up
// to date with src/ (scripts/ensure-build.mjs says so; plain Node, fastest), else loads the project's tsx so
// the TypeScript entry src/cli/main.ts runs as is, in this process, then hands over to it.
// `seedlab --help` for usage.
"use strict";
const path = require("node:path");
const { pathToFileURL } = require("node:url");

const root = path.resolve(__dirname, "..");

async function loadMain() {
  const { staleReason } = await import(pathToFileURL(path.join(root, "scripts", "ensure-build.mjs")).href);
  if (staleReason(root) === null) return require(path.join(root, "dist", "cli", "main.js"));
  let loader;
  try {
    loader = pathToFileURL(require.resolve("tsx", { paths: [root] })).href;
  } catch {
    process.stderr.write(`seedlab: tsx is not installed in ${root}. Run \`npm install\` there first.\n`);
    process.exit(3);
  }
  // tsx's loader registers both its ES module hooks and its CommonJS hooks (what `node --import tsx` does).
  await import(loader);
  return require(path.join(root, "src", "cli", "main.ts"));
}

loadMain()
  .then((cli) => cli.main())
  .catch((error) => {
    process.stderr.write(`seedlab: ${error && error.stack ? error.stack : error}\n`);
    process.exit(3);
  });
