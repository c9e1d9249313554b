/**
 * What runs show: a batch compared with itself (`compare-runs.ts`), two batches run by run (`compare-batches.ts`), the
 * verification checks (`verify.ts`), one-change variants (`variants.ts`), the reproducibility report over a suite
 * (`report.ts`), first divergences and token margins (`divergence.ts`), a seed × temperature sweep (`sweep.ts`), and
 * the same requests on two local configurations (`configurations.ts`).
 */
export { compareRuns, wordSimilarity } from "./compare-runs";
export type { Comparison, DistinctOutput, FingerprintGroup } from "./compare-runs";
export { compareBatches, type BatchChanges, type RunPair } from "./compare-batches";
export { verifyReproducibility, type Check, type CheckStatus } from "./verify";
export { runVariants, type Variant, type VariantOutcome, type VariantsResult } from "./variants";
export { buildReport, runSuite } from "./report";
export type { FingerprintOutputs, PromptReport, ReproducibilityReport } from "./report";
export type { SuiteOptions, SuitePrompt } from "./report";
export { computeMargins, findBatchDivergences, findDivergence } from "./divergence";
export type { Alternative, BatchDivergence, Divergence, DivergenceUnit, TokenMargin } from "./divergence";
export { runSweep, summarizeSweep, type Sweep, type SweepCell, type SweepOptions, type SweepRow } from "./sweep";
export {
  float16Attention,
  runOnTwoConfigurations,
  type OtherConfiguration,
  type TwoConfigurations,
  type TwoConfigurationsOptions,
} from "./configurations";
