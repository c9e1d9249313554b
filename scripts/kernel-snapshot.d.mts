export declare const CHECK_CELLS: string[];
export declare const KERNEL_NODE_FLAGS: string[];
export declare function snapshotPaths(root?: string): { folder: string; blob: string; record: string };
export declare function snapshotKey(root?: string): string;
export declare function readySnapshot(root?: string): string | null;
export declare function ensureKernelSnapshot(options?: {
  root?: string;
  log?: (line: string) => void;
  force?: boolean;
}): { built: boolean; ok: boolean; reason: string | null };
