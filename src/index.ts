/**
 * seedlab's public API: settings, backends, one request, batches, comparison, rendering.
 * Notebooks import from here: `import { loadSettings, openBackend, runBatch } from "./src";`.
 */
export type { Batch, BatchProgress, ChatMessage, ChatParameters, ChatRun, RunError, TokenLogprob } from "./types";
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_LOCAL_MODEL,
  DEFAULT_MAX_RETRIES,
  DEFAULT_OPENAI_MODEL,
  DEFAULT_TIMEOUT_MS,
  OPENAI_API_BASE_URL,
  SETTING_NAMES,
  describeSettings,
  loadSettings,
  type SettingName,
  type SettingSource,
  type Settings,
} from "./config";
export { NO_API_KEY, createClient, type ClientSettings } from "./client";
export { openBackend, type Backend } from "./backend";
export {
  ChatRequestError,
  DEFAULT_MAX_TOKENS,
  DEFAULT_TEMPERATURE,
  SEED_HEADER,
  buildChatParameters,
  canonicalJson,
  failedRun,
  getChatResponse,
  hashParameters,
  redactSecrets,
  sendChat,
  toRunError,
  tryChatResponse,
  type ChatOptions,
  type ChatRequest,
} from "./chat";
export { describeParameters, runBatch, runRequests, type BatchOptions } from "./batch";
export { compareRuns, wordSimilarity, type Comparison, type DistinctOutput, type FingerprintGroup } from "./compare";
// Named, not `export *`: an ES module importing this CommonJS-compiled file sees only names it can detect.
export {
  DIFF_STYLES,
  TABLE_STYLES,
  diffTexts,
  escapeHtml,
  findReference,
  htmlCell,
  htmlHeader,
  renderBatchHtml,
  renderBatchText,
  renderDiffHtml,
  renderDiffLegendHtml,
  renderDiffText,
  renderRunHtml,
  renderRunText,
  renderVerdict,
  shouldUseColor,
  type BatchHtmlOptions,
  type DiffGranularity,
  type TextRenderOptions,
} from "./render";
export {
  BACKEND_KINDS,
  InvalidParameterError,
  explainUnsupportedParameter,
  formatValue,
  validateBackendKind,
  validateBaseURL,
  validateBatchOptions,
  validateChatParameters,
  validateCount,
  validateMessages,
  validateSeed,
  validateTemperature,
  type BackendKind,
} from "./validate";
export { verifyReproducibility, type Check, type CheckStatus } from "./verify";
export { runVariants, type Variant, type VariantOutcome, type VariantsResult } from "./variants";
export { compareBatches, type BatchChanges, type RunPair } from "./compare-batches";
export {
  renderBatchChangesHtml,
  renderChecksHtml,
  renderComparisonHtml,
  renderFingerprintChangeHtml,
  renderProgressHtml,
  renderSettingsHtml,
  renderVariantsHtml,
} from "./render-notebook";
export { startLocalServer, type LocalServer, type LocalServerOptions } from "./local/start";
export { SavedRunsError, appendRun, readRuns, runSavedBatch, writeRuns, type SavedBatchOptions } from "./saved-runs";
export { buildReport, runSuite, type FingerprintOutputs, type PromptReport, type ReproducibilityReport, type SuiteOptions, type SuitePrompt } from "./report";
export {
  computeMargins,
  findBatchDivergences,
  findDivergence,
  type Alternative,
  type BatchDivergence,
  type BatchDivergenceOptions,
  type Divergence,
  type DivergenceOptions,
  type DivergenceUnit,
  type MarginOptions,
  type TokenMargin,
} from "./divergence";
export { runSweep, summarizeSweep, type Sweep, type SweepCell, type SweepOptions, type SweepRow } from "./sweep";
export { renderDivergenceHtml, renderHeatmapSvg, renderMarginsHtml, renderPositionsSvg, renderReportHtml, renderSweepHtml } from "./render-analysis";
export { showProgress, openBackendWithProgress, type LiveDisplay, type Progress } from "./progress";
