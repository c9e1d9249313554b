// The kernel's ports. Jupyter picks a kernel's five ports, frees them and writes them in the connection file; another
// process can take one before the kernel binds it. tslab alone then keeps running without its sockets: a kernel that
// never answers, and a notebook that waits 60 s and fails (it happened in CI). launch-kernel.js makes such a kernel
// exit at once, the executor starts another, and the executor gives kernels ports the system never hands out by itself.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { EXECUTOR_MODULES, findPython } from "../scripts/find-jupyter.mjs";
import { ensureKernelSnapshot, readySnapshot } from "../scripts/kernel-snapshot.mjs";
import { PROJECT_ROOT, runNotebooks, writeCodeNotebook } from "../scripts/run-notebooks";
import { ephemeralPortStart, freePort } from "./support/processes";

const folder = mkdtempSync(join(tmpdir(), "seedlab-kernel-ports-test-"));
after(() => rmSync(folder, { recursive: true, force: true }));

const LAUNCHER = join(PROJECT_ROOT, "jupyter", "kernels", "seedlab", "launch-kernel.js");
// The cell prints the ports of its own connection file (the launcher's first argument, also the kernel's).
const PORTS_CELL = `import { readFileSync } from "fs";
const connectionFile = process.argv.find((argument) => argument.endsWith(".json")) ?? "";
const info = JSON.parse(readFileSync(connectionFile, "utf8"));
console.log(JSON.stringify(["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"].map((key) => info[key])));`;

function listen(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

function printedPorts(executedPath: string): number[] {
  const executed = JSON.parse(readFileSync(executedPath, "utf8")) as {
    cells: Array<{ outputs: Array<{ name?: string; text?: string | string[] }> }>;
  };
  const stdout = executed.cells[0]!.outputs.filter((output) => output.name === "stdout");
  return JSON.parse(stdout.flatMap((output) => [output.text ?? ""].flat()).join("")) as number[];
}

for (const snapshot of ["from its snapshot", "without a snapshot"]) {
  test(`a kernel ${snapshot} whose port another process holds exits at once, names the port, and leaves no process`, async () => {
    const holder = await listen();
    const taken = (holder.address() as { port: number }).port;
    const ports = { shell_port: await freePort(), iopub_port: await freePort(), stdin_port: taken };
    const connectionFile = join(folder, `kernel-${snapshot.split(" ")[0]}.json`);
    writeFileSync(
      connectionFile,
      JSON.stringify({
        ...ports,
        control_port: await freePort(),
        hb_port: await freePort(),
        ip: "127.0.0.1",
        key: "k",
        transport: "tcp",
        signature_scheme: "hmac-sha256",
        kernel_name: "seedlab",
      }),
    );
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (snapshot === "without a snapshot") env.SEEDLAB_KERNEL_SNAPSHOT = "0";
    else {
      delete env.SEEDLAB_KERNEL_SNAPSHOT;
      assert.ok(ensureKernelSnapshot({ log: () => {} }).ok && readySnapshot(PROJECT_ROOT) !== null, "a ready snapshot");
    }
    const launcher = spawn(process.execPath, [LAUNCHER, connectionFile], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    launcher.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    launcher.stdout.resume();
    // Not a timing target: only so that a kernel that hangs (the fault) fails the test instead of stalling it.
    const exited = await new Promise<number | null>((resolve) => {
      const hung = setTimeout(() => resolve(null), 60_000);
      launcher.on("exit", (code) => {
        clearTimeout(hung);
        resolve(code);
      });
    });
    holder.close();
    if (exited === null) launcher.kill("SIGKILL");
    assert.equal(exited, 75, `the launcher's exit code (null: still running after 60 s); stderr:\n${stderr}`);
    assert.match(stderr, new RegExp(`port ${taken} from the connection file is taken by another process`));
    assert.doesNotMatch(stderr, /starting it without/, "no fallback to a kernel on the same ports");
    const left = spawnSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" })
      .stdout.split("\n")
      .filter((line) => line.includes(connectionFile));
    assert.deepEqual(left, [], "no kernel process left with this connection file");
  });
}

test("the executor starts another kernel on other ports when the first one's port is taken, and the notebook runs", async () => {
  const python = findPython(EXECUTOR_MODULES);
  assert.ok(python, "a Python with nbclient");
  const notebook = writeCodeNotebook(join(folder, "ports.ipynb"), [PORTS_CELL]);
  const outputDir = join(folder, "taken");
  const run = spawnSync(
    python.command,
    [
      ...python.args,
      join(PROJECT_ROOT, "test", "support", "taken-port-executor.py"),
      "--output-dir",
      outputDir,
      notebook,
    ],
    { cwd: PROJECT_ROOT, encoding: "utf8", env: { ...process.env, PYTHONWARNINGS: "ignore" }, timeout: 180_000 },
  );
  const taken = Number(/taken port (\d+)/.exec(run.stderr)?.[1]);
  assert.equal(run.status, 0, `the executor's exit code; stderr:\n${run.stderr}`);
  assert.match(run.stderr, new RegExp(`port ${taken} from the connection file is taken by another process`));
  assert.match(
    run.stderr,
    /the kernel for ports did not start \(Kernel died before replying to kernel_info\); starting another/,
  );
  const result = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { ok: boolean; executed: string };
  assert.ok(result.ok);
  const ports = printedPorts(result.executed);
  assert.equal(ports.length, 5);
  assert.ok(!ports.includes(taken), `the second kernel's ports ${ports.join(", ")} avoid ${taken}`);
  const launchers = spawnSync("ps", ["-eo", "args="], { encoding: "utf8" }).stdout.split("\n");
  assert.deepEqual(
    launchers.filter((line) => line.includes(outputDir) || line.includes("ports.ipynb")),
    [],
  );
});

test(
  "notebooks run by the executor get kernel ports below the system's ephemeral range",
  { skip: ephemeralPortStart() === null && "reads Linux's /proc" },
  async () => {
    const low = ephemeralPortStart();
    assert.ok(low !== null && low > 21000, `Linux's ephemeral range starts at ${low}`);
    const notebook = writeCodeNotebook(join(folder, "range.ipynb"), [PORTS_CELL]);
    const [result] = await runNotebooks({ notebooks: [notebook], outputDir: join(folder, "range"), jobs: 1 });
    assert.ok(result?.ok, `the notebook failed: ${result?.message}`);
    const ports = printedPorts(result.executed);
    assert.equal(new Set(ports).size, 5);
    for (const port of ports) assert.ok(port >= 20000 && port < low, `port ${port} is in [20000, ${low})`);
  },
);
