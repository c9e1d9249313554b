/**
 * The local server's `system_fingerprint`: a hash of everything that can change the output of a
 * fixed request (same messages, seed and parameters):
 * - the model file's sha256,
 * - the engine: node-llama-cpp's version, its llama.cpp release and its build (CPU, or Metal on Apple Silicon),
 * - the binary package (each platform's build is compiled apart: `@node-llama-cpp/linux-x64@3.21.1`),
 * - the ggml CPU backend variant llama.cpp loaded (e.g. `x64`, `haswell`; `auto` is recorded as what it resolved to).
 *   Not the machine's CPU: two CPUs running the same variant run the same code (measured: same texts
 *   on an AMD Zen 4 and an Intel Sapphire Rapids with the same forced variant),
 * - the context's batch size (batch size 1 evaluates the prompt token by token: other float sums),
 * - how attention is computed (flash attention or not, the KV cache's float type),
 * - the sampler version and the prompt format (or the model's chat template),
 * - the end-of-text convention (whether BOS ends a text too, as in llama2.c models; see end-of-text.ts).
 * Threads and context size are left out: they were measured not to change outputs.
 * Same configuration → same fingerprint across restarts; any change above → a new one.
 */
import { createHash } from "crypto";
import { createReadStream } from "fs";

/** Everything that enters the fingerprint. */
export interface FingerprintInputs {
  modelSha256: string;
  engineVersion: string;
  llamaCppRelease: string;
  /** node-llama-cpp's GPU build that ran ("none", or "metal" on Apple Silicon, with the layers kept on the CPU). */
  gpu: string;
  /** The binary package, `name@version`. */
  binaries: string;
  /** The ggml CPU variant loaded. */
  cpuVariant: string;
  batchSize: number;
  /** Flash attention or not, and the KV cache's float type, e.g. `no-flash-attention,kv-cache-f32`. */
  attention: string;
  samplerVersion: string;
  promptFormat: string;
  /** `eog`, or `eog+bos` when BOS also ends a text. */
  endOfText: string;
}

/**
 * Computes the `system_fingerprint` string.
 * @param inputs - the output-relevant configuration.
 * @returns `fp_` followed by 12 hex digits of a sha256 over the inputs.
 */
export function computeFingerprint(inputs: FingerprintInputs): string {
  const canonical = JSON.stringify(Object.entries(inputs).sort(([left], [right]) => (left < right ? -1 : 1)));
  return `fp_${createHash("sha256").update(canonical).digest("hex").slice(0, 12)}`;
}

/**
 * Hashes a file without reading it into memory at once.
 * @param filePath - the file to hash.
 * @returns its sha256 in hex.
 */
export function sha256OfFile(filePath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(filePath)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}
