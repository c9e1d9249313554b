/**
 * seedlab's public API: what the notebooks, the README and your own scripts use. Everything else is internal (tests
 * import internals from their modules directly). Import from `"./src/index"` (a tslab kernel does not resolve a
 * folder to its `index.ts`).
 *
 * Layout: `core/` (one request, a batch, their records, errors and saved runs), `analysis/` (what runs show),
 * `render/` (HTML, SVG and text views), `local/` (the embedded model's server), `cli/` (the `seedlab` command),
 * and here `settings.ts`, `client.ts` and `backend.ts` (where requests go).
 */

// Named, not `export *`: an ES module importing this CommonJS-compiled file sees only names it can detect.

/** The records: a request's parameters, one run, a batch, progress. */
export type { Batch, BatchProgress, ChatMessage, ChatParameters, ChatRun, RunError, TokenLogprob } from "./core/types";
/** A run that returned a text, and the type guard that says so. */
export { isSucceeded, runsOf, type FailedRun, type SucceededRun } from "./core/runs";
/** Defaults, each defined once. */
export { DEFAULT_CONCURRENCY, DEFAULT_MAX_TOKENS, DEFAULT_RUNS, DEFAULT_TEMPERATURE } from "./core/constants";
/** Errors: every seedlab error extends `SeedlabError`; bad input is an `InvalidParameterError`, before any request. */
export { ChatRequestError, type ChatRequest } from "./core/chat";
export { InvalidParameterError, SeedlabError } from "./core/errors";
export { SavedRunsError } from "./core/saved-runs";
export { BackendClosedError } from "./core/backend-session";

/** Settings from the environment and `.env`; the backend they name; an `openai` client. */
export { describeSettings, loadSettings, type Settings } from "./settings";
export { openBackend, type Backend } from "./backend";
export { createClient, type ClientSettings } from "./client";
export { addServerConfiguration, startLocalServer, type LocalServer, type LocalServerOptions } from "./local/start";
export { cpuVariantsHere, type CpuVariantsHere } from "./local/cpu-variant";

/** One request, a batch of them, saved and resumed batches. */
export { getChatResponse, tryChatResponse } from "./core/chat";
export { runBatch, runRequests, type BatchOptions } from "./core/batch";
export { appendRun, readRuns, runSavedBatch, writeRuns, type SavedBatchOptions } from "./core/saved-runs";

/** What runs show. */
export { compareRuns, wordSimilarity, type Comparison } from "./analysis/compare-runs";
export { verifyReproducibility, type Check } from "./analysis/verify";
export { runVariants, type Variant, type VariantsResult } from "./analysis/variants";
export { compareBatches, type BatchChanges, type RunPair } from "./analysis/compare-batches";
export {
  float16Attention,
  runOnTwoConfigurations,
  type OtherConfiguration,
  type TwoConfigurations,
} from "./analysis/configurations";
export { buildReport, runSuite, type PromptReport, type ReproducibilityReport } from "./analysis/report";
export type { SuitePrompt } from "./analysis/report";
export { computeMargins, findBatchDivergences, findDivergence } from "./analysis/divergence";
export type { BatchDivergence, TokenMargin } from "./analysis/divergence";
export { runSweep, summarizeSweep, type Sweep } from "./analysis/sweep";

/** Views: every renderer returns a string (HTML, SVG or terminal text). */
export {
  renderBatchChangesHtml,
  renderBatchHtml,
  renderBatchText,
  renderChecksHtml,
  renderComparisonHtml,
  renderDiffHtml,
  renderDiffLegendHtml,
  renderDiffText,
  renderDivergenceHtml,
  renderFingerprintChangeHtml,
  renderHeatmapSvg,
  renderMarginsHtml,
  renderNeighbourLineHtml,
  renderProgressHtml,
  renderReportHtml,
  renderRunHtml,
  renderRunText,
  renderSettingsHtml,
  renderSweepHtml,
  renderVariantsHtml,
  renderVerdict,
} from "./render/index";

/** Live progress in a notebook cell: what is running, n of N, each step's time (pass `tslab.newDisplay()`). */
export { openBackendWithProgress, showProgress, type LiveDisplay, type Progress } from "./progress";
