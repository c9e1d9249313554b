/** Builds ChatRun records for comparison and rendering tests (the texts are test data, not model output). */
import type { ChatParameters, ChatRun, RunError } from "../../src/core/types";
import { hashParameters } from "../../src/core/chat";

const PARAMETERS: ChatParameters = {
  model: "m",
  messages: [{ role: "user", content: "Hi" }],
  seed: 123,
  temperature: 0,
  max_tokens: 200,
};

/**
 * One run; a string is a successful output, an error record a failure.
 * @param index Position in the batch.
 * @param outcome The content, or the error.
 * @param options Fingerprint (default "fp_a") and parameters overrides.
 */
export function makeRun(
  index: number,
  outcome: string | RunError,
  { fingerprint = "fp_a", parameters = {} }: { fingerprint?: string | null; parameters?: Partial<ChatParameters> } = {},
): ChatRun {
  const fullParameters = { ...PARAMETERS, ...parameters } as ChatParameters;
  const failed = typeof outcome !== "string";
  return {
    index,
    content: failed ? null : outcome,
    systemFingerprint: failed ? null : fingerprint,
    promptTokens: failed ? null : 9,
    completionTokens: failed ? null : outcome.split(" ").length,
    finishReason: failed ? null : "stop",
    seedUsed: 123,
    responseModel: failed ? null : "m",
    logprobs: null,
    latencyMs: 10,
    attempts: 1,
    parameters: fullParameters,
    parametersHash: hashParameters(fullParameters),
    startedAt: "2025-01-01T00:00:00.000Z",
    error: failed ? outcome : null,
  };
}

/** Runs 0..n-1 from a list of outcomes. */
export function makeRuns(outcomes: Array<string | RunError>): ChatRun[] {
  return outcomes.map((outcome, index) => makeRun(index, outcome));
}

export const RATE_LIMITED: RunError = { type: "RateLimitError", status: 429, message: "429 Rate limit reached" };
