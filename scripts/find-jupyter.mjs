// Finds what is installed, on any platform, without a shell: an executable on PATH (with PATHEXT on
// Windows), a Python that can import given modules, and a Jupyter that can serve the notebooks
// (JupyterLab, Notebook 7 or the classic notebook, from pip, conda, Homebrew or Debian). Every
// candidate is spawned directly with its arguments and asked for its version, so what is found runs.
import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join } from "node:path";

/** The modules `scripts/execute-notebooks.py` imports. */
export const EXECUTOR_MODULES = ["nbformat", "nbclient", "nbconvert"];

const IS_WINDOWS = process.platform === "win32";

function isRunnableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    if (!IS_WINDOWS) accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of a command, looked up in PATH as a shell would, or null.
 * On Windows only `.exe` and `.com` files count: Node cannot spawn a `.cmd` or `.bat` without a shell.
 * @param {string} name a command name (`jupyter`) or a path (returned when it is a runnable file)
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string | null}
 */
export function findExecutable(name, env = process.env) {
  const extensions = IS_WINDOWS ? [".exe", ".com"] : [""];
  const withExtension = (base) =>
    IS_WINDOWS && /\.(exe|com)$/i.test(base) ? [base] : extensions.map((extension) => base + extension);
  if (isAbsolute(name) || name.includes("/") || (IS_WINDOWS && name.includes("\\"))) {
    return withExtension(name).find(isRunnableFile) ?? null;
  }
  const path = env.PATH ?? env.Path ?? "";
  for (const folder of path.split(delimiter)) {
    if (!folder) continue;
    const found = withExtension(join(folder.replace(/^"(.*)"$/, "$1"), name)).find(isRunnableFile);
    if (found) return found;
  }
  return null;
}

/**
 * Runs a program directly (no shell) and returns its exit status and output.
 * @param {string} command absolute path of the program
 * @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, timeout?: number }} [options]
 */
export function probe(command, args, { env = process.env, timeout = 60_000 } = {}) {
  const result = spawnSync(command, args, {
    env: { ...env, PYTHONWARNINGS: "ignore" },
    encoding: "utf8",
    timeout,
    windowsHide: true,
  });
  return {
    ok: result.status === 0 && !result.error,
    stdout: (result.stdout ?? "").trim(),
    stderr: (result.stderr ?? "").trim(),
  };
}

/**
 * The Python interpreter behind an installed `jupyter` command: its `#!` line on macOS and Linux,
 * `python.exe` beside or above the `Scripts` folder on Windows. Null when it cannot be told.
 * @param {string} jupyter absolute path of the `jupyter` executable
 * @returns {string | null}
 */
export function pythonBehind(jupyter) {
  if (IS_WINDOWS) {
    for (const candidate of [join(dirname(jupyter), "python.exe"), join(dirname(jupyter), "..", "python.exe")]) {
      if (isRunnableFile(candidate)) return candidate;
    }
    return null;
  }
  try {
    const firstLine = readFileSync(jupyter, "utf8").slice(0, 512).split("\n")[0] ?? "";
    const match = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(firstLine);
    if (!match) return null;
    // `#!/usr/bin/env python3` names the interpreter through PATH.
    const interpreter = match[1]?.endsWith("/env") && match[2] ? findExecutable(match[2]) : match[1];
    return interpreter && isRunnableFile(interpreter) ? interpreter : null;
  } catch {
    return null;
  }
}

/**
 * The Pythons to try, in order: `SEEDLAB_PYTHON`, then `python3`, `python`, `py -3` on PATH, then
 * the interpreter behind the `jupyter` command (Debian's /usr/bin/python3 when another python3
 * without Jupyter, e.g. pyenv's, comes first on PATH).
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {Array<{ command: string, args: string[], label: string }>}
 */
export function pythonCandidates(env = process.env) {
  const candidates = [];
  const add = (command, args, label) => {
    if (
      command &&
      !candidates.some((candidate) => candidate.command === command && candidate.args.join(" ") === args.join(" "))
    ) {
      candidates.push({ command, args, label });
    }
  };
  const chosen = env.SEEDLAB_PYTHON?.trim();
  if (chosen) add(findExecutable(chosen, env), [], "SEEDLAB_PYTHON");
  for (const name of ["python3", "python"]) add(findExecutable(name, env), [], name);
  add(findExecutable("py", env), ["-3"], "py -3");
  const jupyter = findExecutable("jupyter", env);
  if (jupyter) add(pythonBehind(jupyter), [], `the Python of ${jupyter}`);
  return candidates;
}

/**
 * A Python that can import every module named, or null.
 * `SEEDLAB_PYTHON`, when set, is the only one tried: a wrong value is an error, not a silent fallback.
 * @param {string[]} modules e.g. {@link EXECUTOR_MODULES}
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {{ command: string, args: string[], label: string } | null}
 * @throws {Error} when `SEEDLAB_PYTHON` is set but is not a Python that imports the modules
 */
export function findPython(modules, env = process.env) {
  // Whether the modules are installed, without importing them (importing nbconvert alone takes about a second).
  const names = JSON.stringify(modules);
  const check = [
    "-c",
    `import importlib.util, sys; missing = [m for m in ${names} if importlib.util.find_spec(m) is None]; sys.exit("No module named " + ", ".join(missing) if missing else 0)`,
  ];
  const chosen = env.SEEDLAB_PYTHON?.trim();
  if (chosen) {
    const command = findExecutable(chosen, env);
    const result = command ? probe(command, check, { env }) : null;
    if (!command || !result?.ok) {
      const why = command
        ? `it cannot import ${modules.join(", ")} (${lastLine(result?.stderr) || "no message"})`
        : "no such program";
      throw new Error(
        `Expected \`SEEDLAB_PYTHON\` to be a Python that can import ${modules.join(", ")}, got "${chosen}": ${why}. Install them into it (\`${chosen} -m pip install ${modules.join(" ")}\`), point SEEDLAB_PYTHON at another Python, or unset it to search PATH.`,
      );
    }
    return { command, args: [], label: "SEEDLAB_PYTHON" };
  }
  return (
    pythonCandidates(env).find((candidate) => probe(candidate.command, [...candidate.args, ...check], { env }).ok) ??
    null
  );
}

function lastLine(text) {
  return (text ?? "").trim().split(/\r?\n/).at(-1) ?? "";
}

/**
 * Which Jupyter can serve the notebooks: the `jupyter` command first on PATH, else a Python on PATH
 * that has JupyterLab or Notebook (`python -m jupyterlab`, e.g. a pip install whose Scripts folder is
 * not on PATH on Windows). JupyterLab is preferred over Notebook within one installation.
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {{ command: string, args: string[], frontend: "lab" | "notebook" | "classic", version: string, label: string } | null}
 *   `args` go before the frontend's own flags (e.g. `["lab"]` or `["-m", "notebook"]`). `frontend`:
 *   `lab` is JupyterLab, `notebook` is Notebook 7 or later (both on jupyter_server), `classic` is Notebook 6 or earlier.
 */
export function findJupyter(env = process.env) {
  const jupyter = findExecutable("jupyter", env);
  if (jupyter) {
    const found = frontendOf(jupyter, [["lab"], ["notebook"]], jupyter, env);
    if (found) return found;
  }
  for (const python of pythonCandidates(env)) {
    const found = frontendOf(
      python.command,
      [
        [...python.args, "-m", "jupyterlab"],
        [...python.args, "-m", "notebook"],
      ],
      python.label,
      env,
    );
    if (found) return found;
  }
  return null;
}

function frontendOf(command, [labArgs, notebookArgs], label, env) {
  const lab = probe(command, [...labArgs, "--version"], { env });
  if (lab.ok && /^\d/.test(lastLine(lab.stdout)))
    return { command, args: labArgs, frontend: "lab", version: lastLine(lab.stdout), label };
  const notebook = probe(command, [...notebookArgs, "--version"], { env });
  if (notebook.ok && /^\d/.test(lastLine(notebook.stdout))) {
    const version = lastLine(notebook.stdout);
    return {
      command,
      args: notebookArgs,
      frontend: Number.parseInt(version, 10) >= 7 ? "notebook" : "classic",
      version,
      label,
    };
  }
  return null;
}
