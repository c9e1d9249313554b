export declare const JUPYTER_PACKAGES: string[];
export declare function jupyterInstalled(): boolean;
export declare function ensureJupyter(options?: { quiet?: boolean }): void;
