import type { findJupyter, findPython } from "./find-jupyter.mjs";
export declare const JUPYTER_PACKAGES: string[];
export declare function installHint(options?: { platform?: NodeJS.Platform; hasAptGet?: boolean }): string;
export declare function jupyterInstalled(): boolean;
export declare function ensureJupyter(options?: { quiet?: boolean; need?: "server" | "executor" | "both" }): {
  jupyter: ReturnType<typeof findJupyter>;
  python: ReturnType<typeof findPython>;
};
