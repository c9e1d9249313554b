// Makes sure Debian's Jupyter (nbconvert, client, classic notebook) is installed, because PyPI is
// out of reach here. As root it installs the packages with apt-get; otherwise it stops with the
// exact command to run. Exported for the other scripts; run directly it just checks and installs.
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";

export const JUPYTER_PACKAGES = ["jupyter-nbconvert", "jupyter-client", "jupyter-notebook"];
const INSTALL_COMMAND = `apt-get update && apt-get install -y --no-install-recommends ${JUPYTER_PACKAGES.join(" ")}`;

function has(commandLine) {
  return spawnSync("sh", ["-c", commandLine], { stdio: "ignore" }).status === 0;
}

/** True when `jupyter nbconvert` and `jupyter notebook` both run. */
export function jupyterInstalled() {
  return has("jupyter nbconvert --version") && has("jupyter notebook --version");
}

/**
 * Installs Jupyter from Debian when it is missing.
 * @throws {Error} when it is missing and cannot be installed (not root, or apt-get failed).
 */
export function ensureJupyter({ quiet = false } = {}) {
  if (jupyterInstalled()) return;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !has("command -v apt-get")) {
    throw new Error(`Jupyter is not installed. Install Debian's Jupyter packages, then run this again:\n  sudo sh -c '${INSTALL_COMMAND}'`);
  }
  if (!quiet) console.error(`seedlab: installing Debian's Jupyter packages (one time, about 10 s): ${JUPYTER_PACKAGES.join(", ")}`);
  const result = spawnSync("sh", ["-c", INSTALL_COMMAND], {
    stdio: quiet ? "ignore" : ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (result.status !== 0 || !jupyterInstalled()) {
    throw new Error(`Installing Jupyter failed (exit ${result.status}). Run it yourself to see why:\n  ${INSTALL_COMMAND}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    ensureJupyter();
    console.log("Jupyter is installed.");
  } catch (error) {
    console.error(`seedlab: ${error.message}`);
    process.exit(1);
  }
}
