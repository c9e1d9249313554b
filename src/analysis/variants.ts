/**
 * One baseline request and variants that each change one thing, sent together and compared with the
 * baseline: the "keep every parameter constant" consideration, measured.
 */
import type OpenAI from "openai";
import { DEFAULT_CONCURRENCY } from "../core/constants";
import type { BatchProgress, ChatRun } from "../core/types";
import type { ChatRequest } from "../core/chat";
import { runRequests } from "../core/batch";
import { SeedlabError } from "../core/errors";
import { isSucceeded } from "../core/runs";
import { wordSimilarity } from "./compare-runs";

/** A change to the baseline request, with a label that says what changed. */
export interface Variant {
  label: string;
  /** Fields replacing the baseline's (`{}` sends the baseline again, a useful control). */
  change: Partial<ChatRequest>;
}

/** A variant's run and how it compares with the baseline's. */
export interface VariantOutcome {
  label: string;
  change: Partial<ChatRequest>;
  run: ChatRun;
  /** True when both succeeded and the texts are equal. */
  identicalToBaseline: boolean;
  /** Word similarity to the baseline in [0, 1] (see `wordSimilarity`); null when either failed. */
  similarityToBaseline: number | null;
}

/** The baseline's run and every variant's outcome, in the order given. */
export interface VariantsResult {
  baseline: ChatRun;
  outcomes: VariantOutcome[];
}

/**
 * Sends the baseline and each variant once (concurrently, failures recorded) and compares each with the baseline.
 * @param options.client An `openai` SDK client.
 * @param options.baseline The request every variant starts from.
 * @param options.variants The changes to try.
 * @param options.concurrency Requests in flight at once (default 5).
 * @param options.onProgress Called after each finished request (e.g. `showProgress(...).onBatch`).
 * @returns The baseline's run and one outcome per variant.
 * @throws {InvalidParameterError} When the baseline or a variant is an invalid request, before anything is sent.
 */
export async function runVariants({
  client,
  baseline,
  variants,
  concurrency = DEFAULT_CONCURRENCY,
  onProgress,
}: {
  client: OpenAI;
  baseline: ChatRequest;
  variants: Variant[];
  concurrency?: number;
  onProgress?: (progress: BatchProgress) => void;
}): Promise<VariantsResult> {
  const requests: ChatRequest[] = [
    baseline,
    ...variants.map((variant) => ({ ...baseline, ...variant.change }) as ChatRequest),
  ];
  const batch = await runRequests({ client, requests, concurrency, label: "baseline and variants", onProgress });
  const [baselineRun, ...variantRuns] = batch.runs;
  if (baselineRun === undefined) throw new SeedlabError("runRequests returned no run for the baseline.");
  const outcomes = variants.map((variant, position): VariantOutcome => {
    const run = variantRuns[position] as ChatRun;
    const comparable = isSucceeded(baselineRun) && isSucceeded(run);
    return {
      label: variant.label,
      change: variant.change,
      run,
      identicalToBaseline: comparable && run.content === baselineRun.content,
      similarityToBaseline: comparable ? wordSimilarity(baselineRun.content, run.content) : null,
    };
  });
  return { baseline: baselineRun, outcomes };
}
