/** A program and the arguments that go before its own. */
export interface FoundPython {
  command: string;
  args: string[];
  /** How it was found, for messages: `SEEDLAB_PYTHON`, `python3`, `py -3`, `the Python of /usr/bin/jupyter`. */
  label: string;
}
export interface FoundJupyter extends FoundPython {
  /** `lab`: JupyterLab; `notebook`: Notebook 7 or later (both on jupyter_server); `classic`: Notebook 6 or earlier. */
  frontend: "lab" | "notebook" | "classic";
  version: string;
}
export declare const EXECUTOR_MODULES: string[];
export declare function findExecutable(name: string, env?: NodeJS.ProcessEnv): string | null;
export declare function probe(
  command: string,
  args: string[],
  options?: { env?: NodeJS.ProcessEnv; timeout?: number },
): { ok: boolean; stdout: string; stderr: string };
export declare function pythonBehind(jupyter: string): string | null;
export declare function pythonCandidates(env?: NodeJS.ProcessEnv): FoundPython[];
export declare function findPython(modules: string[], env?: NodeJS.ProcessEnv): FoundPython | null;
export declare function findJupyter(env?: NodeJS.ProcessEnv): FoundJupyter | null;
