// The `seedlab` command line driven as a user drives it: `node bin/seedlab.js ...` in child processes,
// output piped (so never coloured), against the REAL local model. One `seedlab serve` started here is
// shared through `--base-url`; one test lets `run` start the local model itself. Model outputs are
// compared with each other, never with literal text.
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Batch } from "../src/core/types";
import type { CheckReport } from "../src/cli/check";
import { escapeXml } from "../src/cli/junit";
import { runCli } from "../src/cli/main";
import { findPython } from "../scripts/find-jupyter.mjs";

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin", "seedlab.js");
// A fresh fake key each run: recognisable in a search, never a committed key-shaped string.
const SECRET = `sk-cli-test-secret-${randomBytes(12).toString("hex")}`;
const ANSI = /\u001b\[/;

// A clean environment: no settings from this machine, and no .env (the working folder is a temp folder).
const baseEnvironment: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) =>
      !name.startsWith("SEEDLAB_") && !name.startsWith("OPENAI_") && name !== "NO_COLOR" && name !== "FORCE_COLOR",
  ),
);

let workFolder: string;
let server: ChildProcess;
let serverStderr = "";
let url: string;
let remote: string[];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function seedlab(args: string[], { env = {} }: { env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: workFolder,
      env: { ...baseEnvironment, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the command line in this process with captured, non-TTY streams. */
async function runInProcess(args: string[]): Promise<Result> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: baseEnvironment,
    cwd: workFolder,
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

const file = (name: string): string => path.join(workFolder, name);
const writeJson = (name: string, value: unknown): string => {
  fs.writeFileSync(file(name), JSON.stringify(value, null, 2));
  return name;
};

/** Parses XML with a real parser (Python's minidom, in every Python), or fails with its message. */
function assertWellFormedXml(xmlFile: string): void {
  const python = findPython(["xml.dom.minidom"]);
  assert.ok(python, "a Python (SEEDLAB_PYTHON, python3, python or py -3) is needed to parse the JUnit file");
  const parsed = spawnSync(
    python.command,
    [
      ...python.args,
      "-c",
      "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1]); print('well-formed')",
      xmlFile,
    ],
    { encoding: "utf8" },
  );
  assert.equal(parsed.error, undefined, `${python.command} could not run`);
  assert.equal(parsed.status, 0, `not well-formed XML: ${parsed.stderr}`);
}

before(async () => {
  workFolder = fs.mkdtempSync(path.join(os.tmpdir(), "seedlab-cli-"));
  // `seedlab serve` on a free port: the shared backend, and the serve command's own test.
  server = spawn(process.execPath, [BIN, "serve", "--port", "0"], {
    cwd: workFolder,
    env: baseEnvironment,
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stderr?.on("data", (chunk: Buffer) => (serverStderr += chunk.toString("utf8")));
  url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    server.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      const match = /seedlab local server: (http:\/\/\S+)/.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    server.once("exit", (code) =>
      reject(new Error(`seedlab serve exited (${code}) before it was ready: ${serverStderr}`)),
    );
  });
  remote = ["--base-url", url, "--model", "stories260K"];
});

after(() => {
  if (server.exitCode === null) server.kill("SIGKILL");
  fs.rmSync(workFolder, { recursive: true, force: true });
});

test("--help on the top level and every command: usage, flags, exit codes; exit 0", async () => {
  const results = await Promise.all(
    [["--help"], ["run", "--help"], ["check", "-h"], ["serve", "--help"], ["compare", "--help"], ["help", "check"]].map(
      (args) => seedlab(args),
    ),
  );
  const [top, run, check, serve, compare, helpCheck] = results as [Result, Result, Result, Result, Result, Result];
  for (const result of results) {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.doesNotMatch(result.stdout, ANSI);
  }
  assert.match(top.stdout, /Usage: seedlab <command>/);
  for (const command of ["run", "check", "serve", "compare"])
    assert.match(top.stdout, new RegExp(`^  ${command} `, "m"));
  assert.match(top.stdout, /Exit codes:[^]*\b2 +bad usage/);
  assert.match(run.stdout, /Usage: seedlab run \[options\] \[PROMPT\]/);
  for (const flag of [
    "--seed N",
    "--temperature T",
    "--top-p P",
    "--max-tokens N",
    "--param NAME=VALUE",
    "-n, --runs N",
    "--save FILE",
    "--json",
    "--base-url URL",
    "--backend KIND",
    "--concurrency N",
  ]) {
    assert.ok(run.stdout.includes(flag), `run --help lists ${flag}`);
  }
  assert.match(check.stdout, /Usage: seedlab check \[options\] SUITE[^]*--junit FILE[^]*minIdenticalShare/);
  assert.equal(helpCheck.stdout, check.stdout);
  assert.match(serve.stdout, /--host HOST[^]*--port PORT[^]*--model FILE/);
  assert.match(compare.stdout, /Usage: seedlab compare \[options\] BEFORE\.jsonl AFTER\.jsonl/);
});

test("bad arguments: exit 2, a message naming the flag and the value, the usage line, nothing sent", async () => {
  fs.writeFileSync(file("typo.json"), JSON.stringify({ prompts: [{ user: "Hi", minIdenticalshare: 1 }] }));
  fs.writeFileSync(file("not-json.json"), "{ prompts: ");
  writeJson("share.json", { prompts: [{ user: "Hi" }, { user: "Ho", minIdenticalShare: 2 }] });
  writeJson("twins.json", {
    prompts: [
      { name: "a", user: "Hi" },
      { name: "a", user: "Ho" },
    ],
  });
  writeJson("hot.json", { parameters: { temperature: 3 }, prompts: [{ user: "Hi" }] });
  fs.writeFileSync(file("garbage.jsonl"), "not a run\n");
  // A port nothing listens on: a command that sent anything would fail with exit 1, not 2.
  const nowhere = ["--base-url", "http://127.0.0.1:9/v1", "--model", "m"];
  const cases: Array<{ args: string[]; message: RegExp; usage: RegExp }> = [
    {
      args: ["run", "--temperature", "hot", "Hi", ...nowhere],
      message: /`--temperature` to be a number from 0 to 2, got "hot"/,
      usage: /Usage: seedlab run /,
    },
    {
      args: ["run", "--seed", "1.5", "Hi", ...nowhere],
      message: /`--seed` to be a whole number .* got "1\.5"/,
      usage: /Usage: seedlab run /,
    },
    { args: ["run", "Hi", "--seed"], message: /`--seed` needs a value/, usage: /Usage: seedlab run / },
    {
      args: ["run", "-n", "0", "Hi", ...nowhere],
      message: /`--runs` to be a whole number from 1 and up, got "0"/,
      usage: /Usage: seedlab run /,
    },
    {
      args: ["run", "--top-p", "0", "Hi", ...nowhere],
      message: /`--top-p` to be a number above 0 and at most 1, got "0"/,
      usage: /Usage: seedlab run /,
    },
    {
      args: ["run", "--frobnicate", "Hi", ...nowhere],
      message: /Unknown flag `--frobnicate`/,
      usage: /Usage: seedlab run /,
    },
    {
      args: ["run", "--json=yes", "Hi", ...nowhere],
      message: /`--json` takes no value, got "yes"/,
      usage: /Usage: seedlab run /,
    },
    { args: ["run", ...nowhere], message: /needs a prompt/, usage: /Usage: seedlab run / },
    { args: ["run", "Once", "upon", ...nowhere], message: /Unexpected argument "upon"/, usage: /Usage: seedlab run / },
    {
      args: ["run", "--param", "top_logprobs=99", "Hi", ...nowhere],
      message: /`top_logprobs` to be an integer from 0 to 20, got 99.*`--param top_logprobs`/,
      usage: /Usage: seedlab run /,
    },
    {
      args: ["run", "--param", "seed", "Hi", ...nowhere],
      message: /`--param` to be NAME=VALUE, got "seed"/,
      usage: /Usage: seedlab run /,
    },
    {
      args: ["run", "--backend", "cloud", "Hi"],
      message: /`--backend` to be one of "openai", "compatible", "local", got "cloud"/,
      usage: /Usage: seedlab run /,
    },
    {
      args: ["run", "--base-url", "localhost:8080", "Hi"],
      message: /`--base-url` to be an http\(s\) URL, got "localhost:8080"/,
      usage: /Usage: seedlab run /,
    },
    { args: ["check", ...nowhere], message: /needs SUITE/, usage: /Usage: seedlab check / },
    {
      args: ["check", "typo.json", ...nowhere],
      message: /unknown key `prompts\[0\]\.minIdenticalshare`/,
      usage: /Nothing was sent/,
    },
    {
      args: ["check", "not-json.json", ...nowhere],
      message: /not-json\.json is not valid JSON/,
      usage: /Nothing was sent/,
    },
    {
      args: ["check", "missing.json", ...nowhere],
      message: /missing\.json: it does not exist/,
      usage: /Nothing was sent/,
    },
    {
      args: ["check", "share.json", ...nowhere],
      message: /`prompts\[1\]\.minIdenticalShare` to be a share from 0 to 1, got 2/,
      usage: /Nothing was sent/,
    },
    {
      args: ["check", "twins.json", ...nowhere],
      message: /`prompts\[1\]\.name` to be unique in the suite, got "a"/,
      usage: /Nothing was sent/,
    },
    {
      args: ["check", "hot.json", ...nowhere],
      message: /`prompts\[0\]\.parameters\.temperature`: Expected `temperature` to be a number from 0 to 2, got 3/,
      usage: /Nothing was sent/,
    },
    {
      args: ["check", "hot.json", "--runs", "none", ...nowhere],
      message: /`--runs` to be a whole number from 1 and up, got "none"/,
      usage: /Usage: seedlab check /,
    },
    {
      args: ["serve", "--port", "99999"],
      message: /`--port` to be a whole number from 0 to 65535, got "99999"/,
      usage: /Usage: seedlab serve /,
    },
    { args: ["compare", "only-one.jsonl"], message: /needs AFTER\.jsonl/, usage: /Usage: seedlab compare / },
    {
      args: ["compare", "garbage.jsonl", "garbage.jsonl"],
      message: /Line 1 of .*garbage\.jsonl is not JSON/,
      usage: /seedlab compare:/,
    },
    { args: ["deploy"], message: /Unknown command `deploy`/, usage: /Usage: seedlab <command>/ },
  ];
  // A few through the real executable (in parallel), the rest through `runCli` in this process (the
  // same code after the launcher), to keep this file fast on two cores.
  const spawned = new Set([0, 2, 5, 11, 15, 21, 24]);
  const results = await Promise.all(
    cases.map(({ args }, index) => (spawned.has(index) ? seedlab(args) : runInProcess(args))),
  );
  cases.forEach(({ args, message, usage }, index) => {
    const result = results[index] as Result;
    const label = `seedlab ${args.join(" ")}\n${result.stderr}`;
    assert.equal(result.code, 2, label);
    assert.match(result.stderr, message, label);
    assert.match(result.stderr, usage, label);
    assert.equal(result.stdout, "", label);
  });
});

test("run, seeded at temperature 0 against `seedlab serve`: the table, identical runs, the verdict; plain when piped", async () => {
  const result = await seedlab([
    "run",
    "Once upon a time",
    "--system",
    "You are a storyteller.",
    "--seed",
    "123",
    "--temperature",
    "0",
    "--max-tokens",
    "30",
    "-n",
    "3",
    ...remote,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stdout + result.stderr, ANSI, "no colour when piped");
  assert.doesNotMatch(result.stderr, /\r/, "no progress bar when stderr is not a terminal");
  assert.match(result.stdout, /^seedlab run · compatible · stories260K · http:\/\/127\.0\.0\.1:\d+\/v1 · 3 runs$/m);
  assert.match(result.stdout, /^seed 123, temperature 0 — 3\/3 identical · 1 fingerprint · parameters identical$/m);
  assert.match(result.stdout, /^#0  fingerprint fp_\w+ · prompt tokens \d+ · completion tokens \d+$/m);
  assert.equal(result.stdout.match(/\(identical to run #0\)/g)?.length, 2);
  assert.match(result.stdout, /^Verdict: 3\/3 identical · 1 fingerprint · parameters identical$/m);
  assert.doesNotMatch(result.stdout, /Seeds the backend used/, "seeded: no seed list");
});

test("run unseeded with --json and --param: the batch as JSON, a fresh seed per run, the key never printed", async () => {
  const result = await seedlab(
    [
      "run",
      "--user",
      "The little dog",
      "-n",
      "3",
      "--max-tokens",
      "12",
      "--param",
      "top_logprobs=2",
      "--param",
      "logprobs=true",
      "--json",
      ...remote,
    ],
    {
      env: { OPENAI_API_KEY: SECRET },
    },
  );
  assert.equal(result.code, 0, result.stderr);
  const batch = JSON.parse(result.stdout) as Batch;
  assert.equal(batch.runs.length, 3);
  assert.ok(batch.runs.every((run) => run.error === null && typeof run.content === "string"));
  assert.equal(new Set(batch.runs.map((run) => run.seedUsed)).size, 3, "the server drew a seed per run");
  assert.equal(batch.runs[0]?.parameters.seed, undefined);
  assert.equal(batch.runs[0]?.parameters.top_logprobs, 2);
  assert.ok((batch.runs[0]?.logprobs?.length ?? 0) > 0, "the extra parameters reached the backend");
  assert.ok(!(result.stdout + result.stderr).includes(SECRET));
});

test("run without backend flags starts the local model itself, and lists the seeds it used when unseeded", async () => {
  const result = await seedlab(["run", "Once upon a time", "-n", "2", "--max-tokens", "10"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^seedlab run · local · stories260K · http:\/\/127\.0\.0\.1:\d+\/v1 · 2 runs$/m);
  assert.match(result.stdout, /^Seeds the backend used: #0 -?\d+, #1 -?\d+ \(replay one with --seed\)\.$/m);
  assert.match(result.stdout, /^Verdict: /m);
});

test("run against a compatible server without --model uses the one model it lists, and says so on stderr", async () => {
  const result = await seedlab([
    "run",
    "Once upon a time",
    "-n",
    "1",
    "--seed",
    "1",
    "--max-tokens",
    "5",
    "--base-url",
    url,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /SEEDLAB_MODEL is not set: using `stories260K`, the one model http:\/\/127\.0\.0\.1:\d+\/v1 serves\./,
  );
  assert.match(result.stdout, /^seedlab run · compatible · stories260K · /m);
});

test("run exits 1 when requests fail, and shows why", async () => {
  const result = await seedlab([
    "run",
    "Hi",
    "-n",
    "2",
    "--base-url",
    "http://127.0.0.1:9/v1",
    "--model",
    "m",
    "--max-retries",
    "0",
  ]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /FAILED APIConnectionError/);
  assert.match(result.stdout, /Verdict: no successful run · parameters identical · 2 failed/);
  assert.match(result.stderr, /2 of 2 runs failed/);
});

test("check passes a seeded temperature-0 suite (100% identical), with a JSON report and well-formed JUnit XML", async () => {
  const result = await seedlab([
    "check",
    path.join(ROOT, "examples", "suite.json"),
    "--runs",
    "3",
    "--json",
    "report.json",
    "--junit",
    "reports/junit.xml",
    ...remote,
  ]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.doesNotMatch(result.stdout, ANSI);
  const suite = JSON.parse(fs.readFileSync(path.join(ROOT, "examples", "suite.json"), "utf8")) as {
    prompts: Array<{ name: string }>;
  };
  for (const prompt of suite.prompts)
    assert.match(result.stdout, new RegExp(`^PASS  ${prompt.name} · 3/3 identical`, "m"));
  assert.match(result.stdout, new RegExp(`All ${suite.prompts.length} prompts passed\\.`));

  const report = JSON.parse(fs.readFileSync(file("report.json"), "utf8")) as CheckReport;
  assert.equal(report.passed, true);
  assert.equal(report.summary.passed, suite.prompts.length);
  assert.ok(
    report.prompts.every(
      (prompt) => prompt.identicalShare === 1 && prompt.runs.length === 3 && prompt.status === "passed",
    ),
  );

  assertWellFormedXml(file("reports/junit.xml"));
  const xml = fs.readFileSync(file("reports/junit.xml"), "utf8");
  assert.match(
    xml,
    new RegExp(`<testsuites name="seedlab check" tests="${suite.prompts.length}" failures="0" errors="0"`),
  );
  assert.doesNotMatch(xml, /<failure|<error/);
});

test("check fails an unseeded temperature-1 prompt held to 100%: exit 1, the report names it, JUnit escapes it", async () => {
  const hotName = `unseeded <hot> & "quoted" 'prompt'`;
  const suiteFile = writeJson("failing-suite.json", {
    name: "Suite <with> & markup",
    runs: 4,
    parameters: { max_tokens: 20 },
    prompts: [
      { name: "seeded", user: "Once upon a time", parameters: { seed: 5, temperature: 0 } },
      { name: hotName, user: "Once upon a time", parameters: { temperature: 1 }, minIdenticalShare: 1 },
      {
        name: "unknown fingerprint",
        user: "The cat",
        parameters: { seed: 5, temperature: 0 },
        runs: 2,
        allowedFingerprints: ["fp_not_this_backend"],
      },
    ],
  });
  const result = await seedlab(["check", suiteFile, "--junit", "failing.xml", "--json", "failing.json", ...remote], {
    env: { OPENAI_API_KEY: SECRET },
  });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stdout, /^PASS  seeded · 4\/4 identical/m);
  assert.ok(result.stdout.includes(`FAIL  ${hotName} · `), result.stdout);
  assert.match(result.stdout, /of 4 runs identical \(\d+%\), below the minimum 100% \(4 of 4\)/);
  assert.match(result.stdout, /most common output \(runs? #\d/);
  assert.match(
    result.stdout,
    /^FAIL  unknown fingerprint · [^]*fingerprint "fp_\w+" not allowed \(allowed: "fp_not_this_backend"\)/m,
  );
  assert.ok(
    result.stdout.includes(`1 of 3 prompts passed. Failed: ${JSON.stringify(hotName)}, "unknown fingerprint".`),
    result.stdout,
  );

  const report = JSON.parse(fs.readFileSync(file("failing.json"), "utf8")) as CheckReport;
  assert.equal(report.passed, false);
  assert.deepEqual(
    report.prompts.map((prompt) => prompt.status),
    ["passed", "failed", "failed"],
  );
  assert.ok((report.prompts[1]?.identicalShare ?? 1) < 1);

  assertWellFormedXml(file("failing.xml"));
  const xml = fs.readFileSync(file("failing.xml"), "utf8");
  assert.match(xml, /<testsuites name="seedlab check" tests="3" failures="2" errors="0"/);
  assert.ok(
    xml.includes(`<testcase name="${escapeXml(hotName)}" classname="${escapeXml("Suite <with> & markup")}"`),
    xml,
  );
  assert.equal(xml.match(/<failure message="[^"]*" type="ReproducibilityFailure">/g)?.length, 2);
  for (const text of [result.stdout, result.stderr, xml, fs.readFileSync(file("failing.json"), "utf8")])
    assert.ok(!text.includes(SECRET));
});

test("escapeXml: markup escaped, characters XML cannot hold dropped", () => {
  assert.equal(escapeXml(`a<b>&"c"'d'`), "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;");
  assert.equal(escapeXml("bell\u0007 nul\u0000 esc\u001b[31mred\u001b[0m tab\tok"), "bell nul escred tab\tok");
});

test("compare two saved batches: the same request → no changes (exit 0); another seed → changes (exit 1)", async () => {
  const save = (name: string, seed: string): Promise<Result> =>
    seedlab(
      [
        "run",
        "Once upon a time",
        "--seed",
        seed,
        "--temperature",
        "0.8",
        "--max-tokens",
        "20",
        "-n",
        "2",
        "--save",
        name,
        ...remote,
      ],
      { env: { OPENAI_API_KEY: SECRET } },
    );
  const saved = await Promise.all([save("a.jsonl", "1"), save("b.jsonl", "1"), save("c.jsonl", "2")]);
  for (const result of saved) {
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Saved 2 runs to [abc]\.jsonl\./);
  }
  assert.equal(fs.readFileSync(file("a.jsonl"), "utf8").trim().split("\n").length, 2);
  for (const name of ["a.jsonl", "b.jsonl", "c.jsonl"])
    assert.ok(!fs.readFileSync(file(name), "utf8").includes(SECRET), `${name} holds no key`);

  const same = await seedlab(["compare", "a.jsonl", "b.jsonl"]);
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /^before: a\.jsonl · 2 runs · fingerprints fp_\w+$/m);
  assert.match(same.stdout, /^Fingerprint unchanged\.$/m);
  assert.match(same.stdout, /^#0  same · same request$/m);
  assert.match(same.stdout, /^No changes: 2 same · 0 changed\.$/m);

  const changed = await seedlab(["compare", "a.jsonl", "c.jsonl"]);
  assert.equal(changed.code, 1, changed.stdout + changed.stderr);
  assert.doesNotMatch(changed.stdout, ANSI);
  assert.match(changed.stdout, /^#0  changed · similarity \d\.\d\d · request differs: seed$/m);
  assert.match(changed.stdout, /\[-|\{\+/, "a word diff");
  assert.match(changed.stdout, /^Changes: 0 same · 2 changed · 2 with a different request\.$/m);

  // Saving again to a file of the same request resumes: nothing is sent, the same runs come back.
  const resumed = await save("a.jsonl", "1");
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /2 resumed from the file, not sent again/);

  // Another request into the same file is refused before anything is sent.
  const clash = await save("a.jsonl", "3");
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /a\.jsonl holds runs of a different request[^]*Nothing was sent/);
  assert.equal(clash.stdout, "");
});

test("serve stops cleanly on SIGTERM (exit 0)", async () => {
  const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
  server.kill("SIGTERM");
  assert.equal(await exited, 0, serverStderr);
  assert.match(serverStderr, /seedlab local server stopped\./);
});
