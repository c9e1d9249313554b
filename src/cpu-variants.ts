/**
 * The same requests on two (or more) ggml CPU variants of the local model, as two laptops with
 * different CPUs would run them: one local server per variant, each in its own process, one after
 * the other. Safe to import in a notebook kernel (the model loads in the server processes only).
 */
import type { ChatRequest } from "./chat";
import { runRequests } from "./batch";
import { createClient } from "./client";
import { detectCpuFeatures, findBinaryPackage, resolveCpuVariant, runnableVariants } from "./local/cpu-variant";
import { startLocalServer, type LocalServerOptions } from "./local/start";
import type { Batch, ChatRun } from "./types";
import { InvalidParameterError, formatValue } from "./validate";

/** The CPU variants of this machine's local engine. */
export interface CpuVariantsHere {
  /** What the installed engine ships, lowest score first (`["cpu"]`: one CPU library, nothing to choose). */
  installed: string[];
  /** What this CPU can run (when its instruction sets cannot be read, only what needs none). */
  runnable: string[];
  /** Whether `runnable` is complete (false where Node cannot read the CPU's instruction sets, e.g. Windows). */
  known: boolean;
  /** Where the CPU's instruction sets were read. */
  source: string;
  /** What `portable` and `auto` resolve to here (`auto`: null when it cannot be predicted). */
  portable: string | null;
  auto: string | null;
}

/**
 * Lists the CPU variants of the local engine and what this machine can run.
 * @returns see `CpuVariantsHere`.
 * @throws Error when node-llama-cpp's binary package for this platform is not installed.
 */
export function cpuVariantsHere(): CpuVariantsHere {
  const binaryPackage = findBinaryPackage();
  if (binaryPackage === null) throw new Error(`Expected node-llama-cpp's prebuilt binary package for ${process.platform}-${process.arch}, found none. Run \`npm ci\` from the project root.`);
  const cpu = detectCpuFeatures();
  const runnable = runnableVariants(binaryPackage.variants, cpu);
  let portable: string | null = null;
  try {
    portable = resolveCpuVariant("portable", binaryPackage.variants, cpu).forced;
  } catch {
    portable = null;
  }
  return { installed: binaryPackage.variants, runnable: runnable.variants, known: runnable.known, source: cpu.source, portable, auto: resolveCpuVariant("auto", binaryPackage.variants, cpu).expected };
}

/** One variant's runs. */
export interface VariantRuns {
  /** The setting asked for (`portable`, `auto`, `haswell`...). */
  setting: string;
  /** The variant that ran. */
  cpuVariant: string;
  fingerprint: string;
  /** In request order. */
  runs: ChatRun[];
  /** The same runs as a batch labelled `CPU variant x64 (portable)`, for `renderFingerprintChangeHtml(before, after)`. */
  batch: Batch;
}

/** The same requests on several variants. */
export interface CpuVariantComparison {
  variants: VariantRuns[];
  /** Indexes of the requests whose text is not the same on every variant (failed runs count as different). */
  changed: number[];
  /** How many requests gave the same text on every variant. */
  identical: number;
  /** True when the settings resolved to one variant only (nothing was compared: e.g. Windows arm64, or `auto` = `portable`). */
  sameVariant: boolean;
}

/**
 * Sends the same requests to one local server per CPU variant and compares the texts.
 * @param options `requests`: the requests (their `model` may be left empty: the local model is used);
 *   `variants`: settings to compare (default `["portable", "auto"]`: what every laptop runs and what
 *   this one runs fastest); `server`: further options for each server (batch size...).
 * @returns each variant's runs and fingerprint, and which requests changed.
 * @throws {InvalidParameterError} for an empty request list or fewer than two variants, before any server starts;
 *   Error naming a variant this CPU cannot run, with the list of those it can.
 */
export async function compareCpuVariants({
  requests,
  variants = ["portable", "auto"],
  server = {},
}: {
  requests: ChatRequest[];
  variants?: string[];
  server?: Omit<LocalServerOptions, "cpuVariant">;
}): Promise<CpuVariantComparison> {
  if (!Array.isArray(requests) || requests.length === 0) {
    throw new InvalidParameterError("requests", `Expected \`requests\` to be a non-empty array of requests, got ${formatValue(requests)}. Pass e.g. [{ model: "", user: "Once upon a time", seed: 1 }].`);
  }
  if (!Array.isArray(variants) || variants.length < 2) {
    throw new InvalidParameterError("variants", `Expected \`variants\` to list at least two CPU variant settings, got ${formatValue(variants)}. Use e.g. ["portable", "auto"] or ["x64", "haswell"].`);
  }
  // Every setting is checked before the first server starts: a refusal lists what this CPU can run.
  const binaryPackage = findBinaryPackage();
  const cpu = detectCpuFeatures();
  if (binaryPackage !== null) for (const setting of variants) resolveCpuVariant(setting, binaryPackage.variants, cpu);
  const results: VariantRuns[] = [];
  for (const setting of variants) {
    const local = await startLocalServer({ ...server, cpuVariant: setting });
    try {
      const client = createClient({ baseURL: local.url });
      const label = `CPU variant ${local.cpuVariant}${setting.trim().toLowerCase() === local.cpuVariant ? "" : ` (${setting.trim().toLowerCase()})`}`;
      const batch = await runRequests({ client, requests: requests.map((request) => ({ ...request, model: request.model || local.model })), concurrency: 1, label });
      results.push({ setting, cpuVariant: local.cpuVariant, fingerprint: local.fingerprint, runs: batch.runs, batch });
    } finally {
      await local.close();
    }
  }
  const changed: number[] = [];
  requests.forEach((_, index) => {
    const texts = results.map((result) => (result.runs[index]?.error ? null : result.runs[index]?.content ?? null));
    if (texts.some((text) => text === null || text !== texts[0])) changed.push(index);
  });
  return { variants: results, changed, identical: requests.length - changed.length, sameVariant: new Set(results.map((result) => result.cpuVariant)).size === 1 };
}
