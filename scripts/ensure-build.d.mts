export declare function buildInputs(root?: string): Record<string, number>;
export declare function staleReason(root?: string, outDir?: string): string | null;
export declare function ensureBuild(options?: {
  root?: string;
  outDir?: string;
  force?: boolean;
  log?: (line: string) => void;
}): { built: boolean; reason: string | null; typeErrors: string };
