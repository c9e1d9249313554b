// `npm test`: installs what a fresh machine lacks (Debian's Jupyter, and Chromium for the browser test),
// type-checks src/, tests and scripts with the project's own strict compiler, checks the formatting
// (Prettier), then runs the test files with Node's test runner in
// three phases, each announced before it starts: the model-free tests, the tests on the local model,
// the notebooks (after rebuilding the compiled library, dist/, if src/ changed). Extra arguments are
// test files to run instead of all of them: `npm test -- test/compare.test.ts`. `npm run test:fast` (`--fast`) runs only the model-free tests:
// no model, no Jupyter, no type-check.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureChromium } from "./ensure-chromium.mjs";
import { ensureBuild } from "./ensure-build.mjs";
import { ensureKernelSnapshot } from "./kernel-snapshot.mjs";
import { ensureJupyter } from "./ensure-jupyter.mjs";

function run(command, args) {
  const result = spawnSync(command, args, { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// A test file's phase, from what it uses: Jupyter running notebooks, or a browser; the local model
// or node-llama-cpp (or npm's install resolution, which is as slow); else it is model-free.
const NOTEBOOK_TEST = /\brunNotebooks\b|chromium|playwright|"jupyter", "kernelspec"|\/api\/sessions/;
const MODEL_TEST =
  /\bstartLocalServer\(|\bawait openBackend\(|\bloadEngine\(|import\("node-llama-cpp"\)|bin\/seedlab|cli\/main|npm ci/;
function phaseOf(file) {
  const text = readFileSync(file, "utf8");
  return NOTEBOOK_TEST.test(text) ? "notebooks" : MODEL_TEST.test(text) ? "model" : "fast";
}
const allFiles = () =>
  readdirSync("test")
    .filter((name) => name.endsWith(".test.ts"))
    .sort()
    .map((name) => join("test", name));
const runTests = (files) => run(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files]);

if (process.argv[2] === "--fast") {
  const files = allFiles().filter((file) => phaseOf(file) === "fast");
  console.log(
    `seedlab: the model-free tests (${files.length} files; no model, no Jupyter, no type-check: run \`npm run typecheck\` for that)...`,
  );
  runTests(files);
  process.exit(0);
}

try {
  ensureJupyter({ need: "executor" });
  ensureChromium();
} catch (error) {
  console.error(`seedlab: ${error.message}`);
  process.exit(1);
}

const requested = process.argv.slice(2);
const files = requested.length > 0 ? requested : allFiles();
const phases = [
  ["fast", "the model-free tests"],
  ["model", "the tests on the local model (each starts its own server; a few minutes)"],
  [
    "notebooks",
    "the notebooks, npm start, the kernels and the browser: Jupyter executes every notebook on the tslab kernel (a few minutes; each test is listed as it ends)",
  ],
]
  .map(([phase, what]) => ({ what, files: files.filter((file) => phaseOf(file) === phase) }))
  .filter((phase) => phase.files.length > 0);
const steps = phases.length + 1;

console.log(
  `seedlab test [1/${steps}]: type-checking src/, tests, scripts and benches (strict) with the project's TypeScript, ` +
    "and checking the formatting (Prettier; `npm run format` fixes it)...",
);
run(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "."]);
run(process.execPath, ["node_modules/prettier/bin/prettier.cjs", "--check", "--log-level", "warn", "."]);
console.log("seedlab test: types and formatting are fine.");
phases.forEach((phase, index) => {
  console.log(
    `\nseedlab test [${index + 2}/${steps}]: ${phase.what}, ${phase.files.length} file(s): ${phase.files.map((file) => file.replace(/^test[\\/]/, "")).join(", ")}`,
  );
  // The notebooks import the compiled library: build it once here if src/ changed, not in each kernel.
  if (phase.what.startsWith("the notebooks")) {
    try {
      ensureBuild();
      ensureKernelSnapshot();
    } catch (error) {
      console.error(`seedlab: ${error.message}`);
      process.exit(1);
    }
  }
  runTests(phase.files);
});
