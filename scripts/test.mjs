// `npm test`: installs what a fresh machine lacks (Debian's Jupyter, and Chromium for the browser
// test), type-checks src/, tests and
// scripts with the project's own strict compiler, then runs every test file with Node's test runner.
// Extra arguments are test files to run instead of all of them: `npm test -- test/compare.test.ts`.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ensureChromium } from "./ensure-chromium.mjs";
import { ensureJupyter } from "./ensure-jupyter.mjs";

function run(command, args) {
  const result = spawnSync(command, args, { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

try {
  ensureJupyter({ need: "executor" });
  ensureChromium();
} catch (error) {
  console.error(`seedlab: ${error.message}`);
  process.exit(1);
}

console.log("Type-checking (strict) with the project's TypeScript...");
run(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "."]);

const requested = process.argv.slice(2);
const files = requested.length > 0
  ? requested
  : readdirSync("test").filter((name) => name.endsWith(".test.ts")).sort().map((name) => join("test", name));
run(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files]);
