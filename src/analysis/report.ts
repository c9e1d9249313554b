/**
 * A reproducibility report over a suite of prompts × N runs: how often all N outputs of a prompt are
 * the same text (TARr@N, the "total agreement rate on raw outputs" of Atil et al. 2024), how many
 * distinct texts came back and how often, how similar they are, and whether texts differ between
 * runs that reported the SAME `system_fingerprint` (so a backend change cannot explain them).
 * `runSuite` sends the requests; `buildReport` is pure and works on any batches, saved or synthetic.
 */
import type OpenAI from "openai";
import { DEFAULT_CONCURRENCY, DEFAULT_RUNS } from "../core/constants";
import type { Batch, BatchProgress, ChatRun } from "../core/types";
import { buildChatParameters, type ChatRequest } from "../core/chat";
import { runBatch } from "../core/batch";
import { isSucceeded } from "../core/runs";
import { compareRuns, type Comparison, type FingerprintGroup } from "./compare-runs";
import { validateBatchOptions } from "../core/validate";
import { invalidParameter } from "../core/errors";

/** One prompt of a suite: a request and a short name for it. */
export interface SuitePrompt {
  /** A short name shown in the report; default `prompt 1`, `prompt 2`, ... */
  label?: string;
  /** The request sent N times (see `ChatRequest`). */
  request: ChatRequest;
}

/** One `system_fingerprint` of a prompt's batch and how many distinct texts its runs returned. */
export interface FingerprintOutputs extends FingerprintGroup {
  /** Distinct texts among those runs (1 = they all agree). */
  distinctOutputs: number;
}

/**
 * What one prompt's N runs show: their {@link Comparison} (runs, distinct texts, most common share, similarity,
 * parameters), with each fingerprint's number of distinct texts and whether texts differ within or between them.
 */
export interface PromptReport extends Comparison {
  label: string;
  /** True when all N runs succeeded and returned the same text (string equality): this prompt counts for TARr@N. */
  allIdentical: boolean;
  /** The fingerprints of the successful runs, most common first, each with its number of distinct texts. */
  fingerprints: FingerprintOutputs[];
  /** Two runs with the SAME fingerprint returned different texts: the backend configuration does not explain the difference. */
  differsWithinFingerprint: boolean;
  /** Two runs with DIFFERENT fingerprints returned different texts. */
  differsBetweenFingerprints: boolean;
}

/** The report over a whole suite. */
export interface ReproducibilityReport {
  /** One entry per prompt, in suite order. */
  prompts: PromptReport[];
  /** N, the runs per prompt; null when the prompts had different numbers of runs. */
  runsPerPrompt: number | null;
  /** Prompts whose N outputs were all the same text. */
  identicalPrompts: number;
  /**
   * TARr@N: `identicalPrompts / prompts.length`, in [0, 1]. A prompt with a failed run does not count as
   * identical (it has fewer than N outputs); see `failedRuns`.
   */
  tarr: number;
  /** Failed runs over the whole suite. */
  failedRuns: number;
  /** Runs over the whole suite. */
  totalRuns: number;
  /** Some prompt returned different texts under one fingerprint. */
  differsWithinFingerprint: boolean;
  /** Some prompt returned different texts under different fingerprints. */
  differsBetweenFingerprints: boolean;
  /** Labels of prompts whose runs did not all send the same parameters. */
  promptsWithDifferingParameters: string[];
}

/** Options of {@link runSuite}. */
export interface SuiteOptions {
  /** An `openai` SDK client (see `openBackend`). */
  client: OpenAI;
  /** The prompts, at least one. */
  prompts: SuitePrompt[];
  /** N: runs per prompt, an integer >= 1. Default 5. */
  runs?: number;
  /** Requests in flight at once within a prompt's batch. Default 5. */
  concurrency?: number;
  /** Called after every finished run, counted over the whole suite (so `renderProgressHtml` shows suite progress). */
  onProgress?: (progress: BatchProgress) => void;
  /** Aborts the suite (see `runBatch`). */
  signal?: AbortSignal;
}

/**
 * Runs every prompt of a suite N times (one `runBatch` per prompt, prompts one after another).
 * Every request is validated before the first one is sent.
 * @param options `client`, `prompts`, `runs` (default 5), `concurrency` (default 5), `onProgress`, `signal`.
 * @returns One batch per prompt, in suite order, labelled with the prompt's label; failed runs carry `error`.
 * @throws {InvalidParameterError} For an empty or malformed `prompts`, a bad request, `runs` or `concurrency`, before any request.
 */
export async function runSuite({
  client,
  prompts,
  runs = DEFAULT_RUNS,
  concurrency = DEFAULT_CONCURRENCY,
  onProgress,
  signal,
}: SuiteOptions): Promise<Batch[]> {
  validatePrompts(prompts);
  validateBatchOptions({ runs, concurrency });
  prompts.forEach((prompt) => buildChatParameters(prompt.request));
  const total = prompts.length * runs;
  let finishedBefore = 0;
  let failedBefore = 0;
  const batches: Batch[] = [];
  for (const [position, prompt] of prompts.entries()) {
    const options: Parameters<typeof runBatch>[0] = {
      client,
      request: prompt.request,
      runs,
      concurrency,
      label: promptLabel(prompt, position),
    };
    if (signal !== undefined) options.signal = signal;
    if (onProgress !== undefined) {
      const offsetFinished = finishedBefore;
      const offsetFailed = failedBefore;
      options.onProgress = (progress) =>
        onProgress({
          finished: offsetFinished + progress.finished,
          failed: offsetFailed + progress.failed,
          total,
          run: progress.run,
        });
    }
    const batch = await runBatch(options);
    finishedBefore += batch.runs.length;
    failedBefore += batch.runs.filter((run) => !isSucceeded(run)).length;
    batches.push(batch);
  }
  return batches;
}

/**
 * Builds the reproducibility report from one batch per prompt. Pure: no requests.
 * @param options.batches One batch per prompt (each batch's `label` names the prompt), at least one, each with at least one run.
 * @returns TARr@N, and per prompt the distinct texts, most common share, similarity, fingerprints and parameter check.
 * @throws {InvalidParameterError} When `batches` is empty, not an array, or holds a batch without runs.
 */
export function buildReport({ batches }: { batches: readonly Batch[] }): ReproducibilityReport {
  if (!Array.isArray(batches) || batches.length === 0) {
    throw invalidParameter(
      "batches",
      "a non-empty array of batches (one per prompt)",
      batches,
      "Pass the result of runSuite(...).",
    );
  }
  batches.forEach((batch, position) => {
    if (typeof batch !== "object" || batch === null || !Array.isArray(batch.runs) || batch.runs.length === 0) {
      throw invalidParameter(
        `batches[${position}]`,
        "a batch with at least one run",
        batch,
        "Leave out prompts that were not run.",
      );
    }
  });
  const prompts = batches.map((batch) => reportPrompt(batch.label, batch.runs));
  const sizes = new Set(prompts.map((prompt) => prompt.total));
  const identicalPrompts = prompts.filter((prompt) => prompt.allIdentical).length;
  return {
    prompts,
    runsPerPrompt: sizes.size === 1 ? (prompts[0] as PromptReport).total : null,
    identicalPrompts,
    tarr: identicalPrompts / prompts.length,
    failedRuns: prompts.reduce((sum, prompt) => sum + prompt.failed, 0),
    totalRuns: prompts.reduce((sum, prompt) => sum + prompt.total, 0),
    differsWithinFingerprint: prompts.some((prompt) => prompt.differsWithinFingerprint),
    differsBetweenFingerprints: prompts.some((prompt) => prompt.differsBetweenFingerprints),
    promptsWithDifferingParameters: prompts
      .filter((prompt) => !prompt.parametersIdentical)
      .map((prompt) => prompt.label),
  };
}

function reportPrompt(label: string, runs: readonly ChatRun[]): PromptReport {
  const comparison = compareRuns(runs);
  const textOf = new Map(runs.filter(isSucceeded).map((run) => [run.index, run.content] as const));
  const textsOf = (group: FingerprintGroup): Set<string | undefined> =>
    new Set(group.runIndexes.map((index) => textOf.get(index)));
  const fingerprints: FingerprintOutputs[] = comparison.fingerprints.map((group) => ({
    ...group,
    distinctOutputs: textsOf(group).size,
  }));
  // Between fingerprints: some run of one group and some run of another disagree.
  let differsBetweenFingerprints = false;
  for (const [position, group] of fingerprints.entries()) {
    const texts = textsOf(group);
    for (const other of fingerprints.slice(position + 1)) {
      const otherTexts = textsOf(other);
      if (texts.size > 1 || otherTexts.size > 1 || [...texts][0] !== [...otherTexts][0])
        differsBetweenFingerprints = true;
    }
  }
  return {
    ...comparison,
    label,
    allIdentical: comparison.failed === 0 && comparison.distinctOutputs.length === 1,
    fingerprints,
    differsWithinFingerprint: fingerprints.some((group) => group.distinctOutputs > 1),
    differsBetweenFingerprints,
  };
}

function promptLabel(prompt: SuitePrompt, position: number): string {
  return prompt.label ?? `prompt ${position + 1}`;
}

function validatePrompts(prompts: unknown): asserts prompts is SuitePrompt[] {
  if (!Array.isArray(prompts) || prompts.length === 0) {
    throw invalidParameter(
      "prompts",
      "a non-empty array of { label?, request }",
      prompts,
      'Pass e.g. [{ label: "Mars", request: { model, user: "..." } }].',
    );
  }
  prompts.forEach((prompt: unknown, position) => {
    const request =
      typeof prompt === "object" && prompt !== null ? (prompt as { request?: unknown }).request : undefined;
    if (typeof request !== "object" || request === null) {
      throw invalidParameter(
        `prompts[${position}].request`,
        "a request object",
        request,
        "Write each prompt as { label, request: { model, user, ... } }.",
      );
    }
    const label = (prompt as { label?: unknown }).label;
    if (label !== undefined && typeof label !== "string") {
      throw invalidParameter(
        `prompts[${position}].label`,
        "a string",
        label,
        'Use a short name such as "Mars news", or leave it out.',
      );
    }
  });
}
