export declare const CHROMIUM_PATH: string;
export declare function chromiumInstalled(): boolean;
export declare function ensureChromium(options?: { quiet?: boolean }): string;
