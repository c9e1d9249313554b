// Makes sure the Jupyter that a script needs is there, on any platform, without a shell.
// `npm start` needs a Jupyter that serves notebooks (JupyterLab, Notebook 7 or the classic notebook);
// the tests and `npm run walkthrough` need a Python that imports nbformat, nbclient and nbconvert.
// When it is missing: as root on Debian or Ubuntu, Debian's packages are installed with apt-get (no
// PyPI needed); anywhere else it stops with the install command for this platform, and the VS Code route.
// Run directly (`node scripts/ensure-jupyter.mjs`), it checks, installs if it can, and says what it found.
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { EXECUTOR_MODULES, findExecutable, findJupyter, findPython } from "./find-jupyter.mjs";

/** Debian's packages: nbconvert and nbclient (the executor), jupyter_client, the classic notebook (the server). */
export const JUPYTER_PACKAGES = ["jupyter-nbconvert", "jupyter-client", "jupyter-notebook"];

const VS_CODE_ROUTE = [
  "Or, without a Jupyter server: open this folder in VS Code (with its Jupyter extension), run",
  "  npx seedlab kernel install",
  'once, then pick the kernel "TypeScript (seedlab)" in a notebook.',
].join("\n");

/**
 * The commands that install Jupyter on this platform, one per line, for a message.
 * @param {{ platform?: NodeJS.Platform, hasAptGet?: boolean }} [options] (defaults: this machine)
 * @returns {string}
 */
export function installHint({ platform = process.platform, hasAptGet = findExecutable("apt-get") !== null } = {}) {
  if (platform === "linux" && hasAptGet) {
    return `  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${JUPYTER_PACKAGES.join(" ")}`;
  }
  if (platform === "darwin") {
    return [
      "  brew install jupyterlab",
      "or: python3 -m pip install jupyterlab",
      "or: conda install -c conda-forge jupyterlab",
    ].join("\n");
  }
  if (platform === "win32") {
    return ["  py -m pip install jupyterlab", "or: conda install -c conda-forge jupyterlab"].join("\n");
  }
  return [
    "  python3 -m pip install jupyterlab   (in a virtual environment if your system's Python refuses)",
    "or: conda install -c conda-forge jupyterlab",
  ].join("\n");
}

function isRoot() {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

function findAll(need) {
  return {
    jupyter: need === "executor" ? null : findJupyter(),
    python: need === "server" ? null : findPython(EXECUTOR_MODULES),
  };
}

function missingParts(found, need) {
  const missing = [];
  if ((need === "server" || need === "both") && !found.jupyter)
    missing.push("a Jupyter that serves notebooks (no `jupyter lab` or `jupyter notebook` found on PATH)");
  if ((need === "executor" || need === "both") && !found.python) {
    missing.push(
      `a Python that imports ${EXECUTOR_MODULES.join(", ")} (tried SEEDLAB_PYTHON, python3, python, py -3 and the Python of the \`jupyter\` command)`,
    );
  }
  return missing;
}

/** True when both a Jupyter server and the executor's Python are found. */
export function jupyterInstalled() {
  return missingParts(findAll("both"), "both").length === 0;
}

/**
 * Finds what the caller needs and, when it is missing, installs Debian's Jupyter packages (root with
 * apt-get only).
 * @param {{ quiet?: boolean, need?: "server" | "executor" | "both" }} [options] `need` defaults to "both"
 * @returns {{ jupyter: ReturnType<typeof findJupyter>, python: ReturnType<typeof findPython> }} what was found
 *   (the part not needed may be null)
 * @throws {Error} when it is missing and cannot be installed here, with the install command for this platform
 */
export function ensureJupyter({ quiet = false, need = "both" } = {}) {
  let found = findAll(need);
  let missing = missingParts(found, need);
  if (missing.length === 0) return found;
  const aptGet = process.platform === "linux" ? findExecutable("apt-get") : null;
  if (!aptGet || !isRoot() || process.env.SEEDLAB_PYTHON?.trim()) {
    const alternative =
      need === "server"
        ? VS_CODE_ROUTE
        : `Or set SEEDLAB_PYTHON to a Python that has ${EXECUTOR_MODULES.join(", ")} (e.g. a virtual environment's python).`;
    throw new Error(
      `Jupyter is missing: ${missing.join("; ")}. Install it, then run this again:\n${installHint()}\n${alternative}`,
    );
  }
  if (!quiet)
    console.error(
      `seedlab: installing Debian's Jupyter packages (one time, about 10 s): ${JUPYTER_PACKAGES.join(", ")}`,
    );
  const options = {
    stdio: quiet ? "ignore" : ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  };
  const update = spawnSync(aptGet, ["update"], options);
  const install =
    update.status === 0
      ? spawnSync(aptGet, ["install", "-y", "--no-install-recommends", ...JUPYTER_PACKAGES], options)
      : update;
  found = findAll(need);
  missing = missingParts(found, need);
  if (install.status !== 0 || missing.length > 0) {
    throw new Error(
      `Installing Jupyter failed (exit ${install.status}${missing.length ? `; still missing: ${missing.join("; ")}` : ""}). Run it yourself to see why:\n  apt-get update && apt-get install -y --no-install-recommends ${JUPYTER_PACKAGES.join(" ")}`,
    );
  }
  return found;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    const { jupyter, python } = ensureJupyter();
    console.log(
      `Jupyter server: ${jupyter?.frontend} ${jupyter?.version} (${[jupyter?.command, ...(jupyter?.args ?? [])].join(" ")})`,
    );
    console.log(
      `Notebook executor's Python: ${[python?.command, ...(python?.args ?? [])].join(" ")} (${python?.label})`,
    );
  } catch (error) {
    console.error(`seedlab: ${error.message}`);
    process.exit(1);
  }
}
