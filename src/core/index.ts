/**
 * The core: one request (`chat.ts`), a batch of them (`batch.ts`), saved and resumed batches (`saved-runs.ts`), the
 * records they pass around (`types.ts`, `runs.ts`), defaults (`constants.ts`), errors (`errors.ts`) and input checks
 * (`validate.ts`).
 */
export type { Batch, BatchProgress, ChatMessage, ChatParameters, ChatRun, RunError, TokenLogprob } from "./types";
export { findReference, isBatch, isSucceeded, runsOf, succeededRuns, type FailedRun, type SucceededRun } from "./runs";
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_TOKENS,
  DEFAULT_RUNS,
  DEFAULT_TEMPERATURE,
  DEFAULT_TIMEOUT_MS,
  SEED_HEADER,
} from "./constants";
export { EXIT_CODES, InvalidParameterError, SeedlabError, ShownAs } from "./errors";
export { expected, formatValue, invalidParameter } from "./errors";
export { buildChatParameters, ChatRequestError, getChatResponse, hashParameters, sendChat } from "./chat";
export { tryChatResponse } from "./chat";
export type { ChatOptions, ChatRequest } from "./chat";
export { describeParameters, runBatch, runRequests, type BatchOptions } from "./batch";
export { appendRun, readRuns, runSavedBatch, SavedRunsError, writeRuns } from "./saved-runs";
export type { SavedBatchOptions } from "./saved-runs";
export { validateBatchOptions, validateChatParameters, validateCount } from "./validate";
export { validateSeed, validateTemperature } from "./validate";
