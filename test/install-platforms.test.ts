// Every laptop in the room can install seedlab: npm's own resolution, run as each platform would run it,
// from the committed lock. A preload makes npm's Node report another `process.platform` / `process.arch`
// (`npm ci --os=... --cpu=...` would not: npm checks required dependencies against the real machine).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";

const root = join(__dirname, "..");
const work = mkdtempSync(join(tmpdir(), "seedlab-platforms-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** node-llama-cpp and esbuild binary packages each platform must get; nothing else of theirs. */
const EXPECTED: Record<string, { llama: string[]; esbuild: string }> = {
  // Upstream declares some binary packages for a second CPU too (mac-arm64-metal also on Intel Macs,
  // win-arm64 also on x64, linux-arm64 also on x64, for cross builds): npm installs those as well.
  "darwin-arm64": { llama: ["mac-arm64-metal"], esbuild: "darwin-arm64" },
  "darwin-x64": { llama: ["mac-arm64-metal", "mac-x64"], esbuild: "darwin-x64" },
  "win32-x64": { llama: ["win-arm64", "win-x64"], esbuild: "win32-x64" },
  "linux-x64": { llama: ["linux-arm64", "linux-x64"], esbuild: "linux-x64" },
  "linux-arm64": { llama: ["linux-arm64"], esbuild: "linux-arm64" },
};

function npmCli(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm !== undefined && fromNpm.endsWith("npm-cli.js")) return fromNpm;
  const candidates = [
    join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "bin", "npm-cli.js"),
    join(dirname(process.execPath), "node_modules", "npm", "bin", "npm-cli.js"),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  assert.ok(found, `npm's npm-cli.js not found next to ${process.execPath}`);
  return found;
}

function resolveAs(platform: string, arch: string): { status: number | null; added: string[]; output: string } {
  const dir = join(work, `${platform}-${arch}`);
  spawnSync(process.execPath, ["-e", `require("fs").mkdirSync(${JSON.stringify(dir)}, { recursive: true })`]);
  copyFileSync(join(root, "package.json"), join(dir, "package.json"));
  copyFileSync(join(root, "package-lock.json"), join(dir, "package-lock.json"));
  const preload = join(dir, "fake-platform.cjs");
  writeFileSync(
    preload,
    `Object.defineProperty(process, "platform", { value: ${JSON.stringify(platform)} });\n` +
      `Object.defineProperty(process, "arch", { value: ${JSON.stringify(arch)} });\n`,
  );
  const result = spawnSync(
    process.execPath,
    ["--require", preload, npmCli(), "ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"],
    { cwd: dir, encoding: "utf8", env: { ...process.env, npm_config_loglevel: "notice" }, timeout: 120_000 },
  );
  const output = `${result.stdout}\n${result.stderr}`;
  const added = [...output.matchAll(/^add (\S+) (\S+)$/gm)].map((match) => `${match[1]}@${match[2]}`);
  return { status: result.status, added, output };
}

const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
  packages: Record<string, { version?: string; integrity?: string; link?: boolean }>;
};

test("the lock is complete: every package pinned with its version and integrity hash, every platform's binaries listed", () => {
  for (const [location, entry] of Object.entries(lock.packages)) {
    if (location === "" || entry.link === true) continue;
    assert.ok(entry.version && entry.integrity, `${location} has no version/integrity in package-lock.json`);
  }
  const llamaVersion = lock.packages["node_modules/node-llama-cpp"]?.version;
  for (const name of ["mac-arm64-metal", "mac-x64", "win-x64", "win-arm64", "linux-x64", "linux-arm64"]) {
    assert.equal(
      lock.packages[`node_modules/@node-llama-cpp/${name}`]?.version,
      llamaVersion,
      `@node-llama-cpp/${name}`,
    );
  }
});

for (const [target, expected] of Object.entries(EXPECTED)) {
  test(`npm ci as ${target}: its own node-llama-cpp and esbuild binaries, no GPU variant, no EBADPLATFORM`, () => {
    const [platform, arch] = target.split("-") as [string, string];
    const { status, added, output } = resolveAs(platform, arch);
    assert.doesNotMatch(output, /EBADPLATFORM/);
    assert.equal(status, 0, output.slice(-2000));
    const llama = added
      .filter((name) => name.startsWith("@node-llama-cpp/"))
      .map((name) => name.split("/")[1]!.split("@")[0]!);
    assert.deepEqual(llama.sort(), expected.llama);
    const esbuild = added
      .filter((name) => name.startsWith("@esbuild/"))
      .map((name) => name.split("/")[1]!.split("@")[0]!);
    assert.deepEqual(esbuild, [expected.esbuild]);
    assert.ok(
      added.some((name) => name.startsWith("node-llama-cpp@")),
      "node-llama-cpp itself",
    );
    assert.deepEqual(
      added.filter((name) => /cuda|vulkan|riscv64/.test(name)),
      [],
    );
  });
}
