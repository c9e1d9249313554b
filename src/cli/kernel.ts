/**
 * `seedlab kernel install` / `seedlab kernel install --uninstall`: puts the "TypeScript (seedlab)"
 * kernel into the user's own Jupyter, so JupyterLab, Notebook 7, the classic notebook and VS Code
 * list it and run the notebooks from any folder. The kernelspec holds absolute paths (this Node, the
 * project's launcher, the project root), because the user's Jupyter starts it from anywhere.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { booleanFlag, parseCommandLine, renderHelp, usageLine, UsageError, type CommandSpec } from "./args";
import type { CommandContext } from "./context";
import { EXIT_CODES, expected } from "../core/errors";

/** The kernel's name: its folder in `<data dir>/kernels/` and the notebooks' `metadata.kernelspec.name`. */
export const KERNEL_NAME = "seedlab";
/** The name Jupyter, JupyterLab and VS Code show. */
export const KERNEL_DISPLAY_NAME = "TypeScript (seedlab)";

/** The `kernel` command's flags and help. */
export const KERNEL_COMMAND: CommandSpec = {
  name: "kernel",
  summary: 'install the "TypeScript (seedlab)" kernel into your own Jupyter / VS Code (or remove it).',
  usage: "kernel install [options]",
  positionals: { minimum: 1, maximum: 1, names: ["install"] },
  flags: {
    uninstall: { type: "boolean", description: "Remove the kernel instead (only the one seedlab installed)." },
  },
  details: [
    "Writes <Jupyter data dir>/kernels/seedlab/kernel.json with absolute paths: this Node",
    "(process.execPath), the launcher jupyter/kernels/seedlab/launch-kernel.js and the project root (the",
    "kernel always runs there, whatever folder a notebook is opened from). The data dir is JUPYTER_DATA_DIR when",
    "set, else ~/.local/share/jupyter (Linux; $XDG_DATA_HOME/jupyter when set), ~/Library/Jupyter (macOS),",
    "%APPDATA%\\jupyter (Windows), as Jupyter itself computes it (JUPYTER_PLATFORM_DIRS=1 is honoured too).",
    "",
    'Then: JupyterLab / Notebook 7 / VS Code list "TypeScript (seedlab)"; open notebooks/01-reproducible-outputs.ipynb.',
    "Moved the project or changed Node? Run it again. Exit codes: 0 done, 2 bad usage or a kernel that is not seedlab's in the way.",
    "",
    "Example:",
    "  npx seedlab kernel install",
    "  npx seedlab kernel install --uninstall",
  ].join("\n"),
};

/** The kernelspec that {@link installKernel} writes. */
export interface SeedlabKernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  metadata: { seedlab: { projectRoot: string; node: string } };
}

/** Where the kernel was or would be installed, and what happened. */
export interface KernelInstallResult {
  /** The kernel's folder, `<data dir>/kernels/seedlab`. */
  directory: string;
  /** The project root of the kernel that was there before and was replaced or removed, or null. */
  previousProjectRoot: string | null;
  /** True when something was written or removed. */
  changed: boolean;
}

/** Thrown when a kernel named `seedlab` is in the way that seedlab did not write: exit code 2. */
export class KernelInstallError extends Error {
  override readonly name = "KernelInstallError";
}

/**
 * The user's Jupyter data directory, as `jupyter --data-dir` computes it (jupyter_core 5).
 * @param env The environment (`JUPYTER_DATA_DIR`, `JUPYTER_PLATFORM_DIRS`, `XDG_DATA_HOME`, `APPDATA`, `LOCALAPPDATA`, `HOME`, `USERPROFILE`).
 * @param platform `process.platform` by default.
 * @returns An absolute path (it may not exist yet).
 */
export function jupyterDataDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const pathModule = platform === "win32" ? path.win32 : path.posix;
  const chosen = env.JUPYTER_DATA_DIR?.trim();
  if (chosen) return pathModule.resolve(chosen);
  const home = (platform === "win32" ? env.USERPROFILE : env.HOME)?.trim() || os.homedir();
  const platformDirs = ["1", "true", "yes", "on"].includes((env.JUPYTER_PLATFORM_DIRS ?? "").trim().toLowerCase());
  const xdgData = env.XDG_DATA_HOME?.trim() || pathModule.join(home, ".local", "share");
  if (platform === "darwin")
    return platformDirs
      ? pathModule.join(home, "Library", "Application Support", "jupyter")
      : pathModule.join(home, "Library", "Jupyter");
  if (platform === "win32") {
    if (platformDirs)
      return pathModule.join(env.LOCALAPPDATA?.trim() || pathModule.join(home, "AppData", "Local"), "jupyter");
    const appData = env.APPDATA?.trim();
    return appData ? pathModule.join(appData, "jupyter") : pathModule.join(home, ".jupyter", "data");
  }
  return pathModule.join(xdgData, "jupyter");
}

/**
 * The project root: the nearest folder above this file whose package.json is seedlab's.
 * @returns An absolute path.
 */
export function findProjectRoot(): string {
  for (let folder = __dirname; ; folder = path.dirname(folder)) {
    const manifest = path.join(folder, "package.json");
    if (
      fs.existsSync(manifest) &&
      (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string }).name === "seedlab"
    )
      return folder;
    if (path.dirname(folder) === folder) throw new Error(`No seedlab package.json above ${__dirname}.`);
  }
}

/**
 * The kernelspec for a project: absolute Node, launcher and project root.
 * @param projectRoot The seedlab project's folder.
 * @param node The Node executable the kernel runs on (default: this one).
 * @returns The kernel.json content.
 */
export function buildKernelSpec(projectRoot: string, node: string = process.execPath): SeedlabKernelSpec {
  return {
    argv: [
      node,
      path.join(projectRoot, "jupyter", "kernels", KERNEL_NAME, "launch-kernel.js"),
      "{connection_file}",
      projectRoot,
    ],
    display_name: KERNEL_DISPLAY_NAME,
    language: "typescript",
    metadata: { seedlab: { projectRoot, node } },
  };
}

/** The project root recorded in an installed kernel.json when seedlab wrote it; null when absent; throws when it is not seedlab's. */
function installedProjectRoot(directory: string): string | null {
  const file = path.join(directory, "kernel.json");
  if (!fs.existsSync(directory)) return null;
  let recorded: unknown;
  try {
    recorded = (JSON.parse(fs.readFileSync(file, "utf8")) as { metadata?: { seedlab?: { projectRoot?: unknown } } })
      .metadata?.seedlab?.projectRoot;
  } catch {
    recorded = undefined;
  }
  if (typeof recorded !== "string") {
    throw new KernelInstallError(
      `A kernel named "${KERNEL_NAME}" that seedlab did not install is in the way: ${directory}. Move or remove that folder yourself (\`jupyter kernelspec remove ${KERNEL_NAME}\`), then run this again.`,
    );
  }
  return recorded;
}

/**
 * Writes the kernelspec into `<data dir>/kernels/seedlab`, replacing an earlier one seedlab wrote.
 * @param options `dataDir`: the Jupyter data dir; `projectRoot`; `node`: the Node to run (default this one).
 * @returns Where it went and what it replaced.
 * @throws {KernelInstallError} When tslab is not installed in the project, or a foreign kernel named `seedlab` is there.
 */
export function installKernel({
  dataDir,
  projectRoot,
  node = process.execPath,
}: {
  dataDir: string;
  projectRoot: string;
  node?: string;
}): KernelInstallResult {
  const tslab = path.join(projectRoot, "node_modules", "tslab", "dist", "main.js");
  if (!fs.existsSync(tslab)) {
    throw new KernelInstallError(
      `Expected tslab to be installed in ${projectRoot}, but ${tslab} is missing. Run \`npm install\` there first.`,
    );
  }
  const directory = path.join(dataDir, "kernels", KERNEL_NAME);
  const previousProjectRoot = installedProjectRoot(directory);
  fs.mkdirSync(directory, { recursive: true });
  fs.writeFileSync(
    path.join(directory, "kernel.json"),
    JSON.stringify(buildKernelSpec(projectRoot, node), null, 2) + "\n",
  );
  return { directory, previousProjectRoot, changed: true };
}

/**
 * Removes `<data dir>/kernels/seedlab` when seedlab wrote it.
 * @param options `dataDir`: the Jupyter data dir.
 * @returns Where it was and whose it was; `changed` is false when nothing was there.
 * @throws {KernelInstallError} When the folder holds a kernel seedlab did not write.
 */
export function uninstallKernel({ dataDir }: { dataDir: string }): KernelInstallResult {
  const directory = path.join(dataDir, "kernels", KERNEL_NAME);
  const previousProjectRoot = installedProjectRoot(directory);
  if (previousProjectRoot === null) return { directory, previousProjectRoot, changed: false };
  fs.rmSync(directory, { recursive: true, force: true });
  return { directory, previousProjectRoot, changed: true };
}

/**
 * Runs `seedlab kernel install [--uninstall]`.
 * @param args The arguments after `kernel`.
 * @param context Streams and environment (`JUPYTER_DATA_DIR` and the platform's folders).
 * @returns The exit code.
 * @throws {UsageError} For bad usage or a kernel in the way.
 */
export async function kernelCommand(args: readonly string[], context: CommandContext): Promise<number> {
  const spec = KERNEL_COMMAND;
  const { values, positionals, help } = parseCommandLine(spec, args);
  if (help) {
    context.stdout.write(renderHelp(spec));
    return EXIT_CODES.ok;
  }
  const action = positionals[0];
  if (action !== "install") {
    const fix =
      action === "uninstall"
        ? "Write `seedlab kernel install --uninstall`."
        : "Write `seedlab kernel install` (add `--uninstall` to remove it).";
    throw new UsageError(expected("seedlab kernel", "followed by `install`", action, fix), {
      usage: usageLine(spec),
      command: spec.name,
    });
  }
  const dataDir = jupyterDataDir(context.env);
  try {
    if (booleanFlag(values, "uninstall")) {
      const result = uninstallKernel({ dataDir });
      context.stdout.write(
        result.changed
          ? `Removed the kernel "${KERNEL_DISPLAY_NAME}" (project ${result.previousProjectRoot}) from ${result.directory}.\n`
          : `The kernel "${KERNEL_DISPLAY_NAME}" is not installed (nothing at ${result.directory}).\n`,
      );
      return EXIT_CODES.ok;
    }
    const projectRoot = findProjectRoot();
    const result = installKernel({ dataDir, projectRoot });
    const replaced =
      result.previousProjectRoot === null ? "" : ` (replacing the one for ${result.previousProjectRoot})`;
    context.stdout.write(
      [
        `Installed the kernel "${KERNEL_DISPLAY_NAME}" into ${result.directory}${replaced}.`,
        `  It runs ${process.execPath} with ${path.join(projectRoot, "jupyter", "kernels", KERNEL_NAME, "launch-kernel.js")}, in ${projectRoot}.`,
        "  JupyterLab, Notebook 7 and VS Code now list it: open notebooks/01-reproducible-outputs.ipynb and pick it if asked.",
        "  Moved the project or changed Node? Run this again. To remove it: npx seedlab kernel install --uninstall",
        "",
      ].join("\n"),
    );
    return EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof KernelInstallError) {
      context.stderr.write(`seedlab kernel: ${error.message}\n`);
      return EXIT_CODES.usage;
    }
    throw error;
  }
}
