// Makes sure Debian's Chromium is installed for the browser test (test/browser.test.ts drives it with
// playwright-core, which must never download a browser of its own). As root it installs the
// `chromium` package with apt-get; otherwise it stops with the exact command to run. Exported for
// scripts/test.mjs; run directly it just checks and installs.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";

/** Where Debian's package puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";
const INSTALL_STEPS = [
  ["apt-get", ["update"]],
  ["apt-get", ["install", "-y", "--no-install-recommends", "chromium"]],
];
const INSTALL_COMMAND = INSTALL_STEPS.map(([command, args]) => [command, ...args].join(" ")).join(" && ");

/** True when Chromium runs (`chromium --version`). */
export function chromiumInstalled() {
  return (
    existsSync(CHROMIUM_PATH) &&
    spawnSync(CHROMIUM_PATH, ["--version"], { stdio: "ignore", timeout: 30000 }).status === 0
  );
}

/**
 * Installs Debian's Chromium when it is missing.
 * @returns {string} The browser's path.
 * @throws {Error} when it is missing and cannot be installed (not root, no apt-get, or apt-get failed).
 */
export function ensureChromium({ quiet = false } = {}) {
  if (chromiumInstalled()) return CHROMIUM_PATH;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const hasAptGet = spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
  if (!isRoot || !hasAptGet) {
    throw new Error(
      `Chromium is not installed (the browser test needs ${CHROMIUM_PATH}). Install Debian's package, then run this again:\n  sudo sh -c '${INSTALL_COMMAND}'`,
    );
  }
  if (!quiet) console.error("seedlab: installing Debian's Chromium for the browser test (one time, about a minute)");
  for (const [command, args] of INSTALL_STEPS) {
    const result = spawnSync(command, args, {
      stdio: quiet ? "ignore" : ["ignore", "ignore", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (result.status !== 0)
      throw new Error(
        `Installing Chromium failed (\`${[command, ...args].join(" ")}\` exited ${result.status}). Run it yourself to see why:\n  ${INSTALL_COMMAND}`,
      );
  }
  if (!chromiumInstalled())
    throw new Error(
      `Installing Chromium did not give a working ${CHROMIUM_PATH}. Run it yourself to see why:\n  ${INSTALL_COMMAND}`,
    );
  return CHROMIUM_PATH;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    ensureChromium();
    console.log(`Chromium is installed: ${CHROMIUM_PATH}`);
  } catch (error) {
    console.error(`seedlab: ${error.message}`);
    process.exit(1);
  }
}
