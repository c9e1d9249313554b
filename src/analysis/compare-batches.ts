/**
 * Two batches of the same requests compared run by run: before and after a backend change, last
 * week's saved runs and today's. Runs are paired by position (`run.index`), so a batch over seeds
 * 100..119 pairs seed with seed.
 */
import type { Batch, ChatRun } from "../core/types";
import { isSucceeded, runsOf, type SucceededRun } from "../core/runs";
import { wordSimilarity } from "./compare-runs";

/** One pair of runs at the same position. */
export type RunPair = {
  index: number;
  /** Both runs sent exactly the same parameters (equal hashes). */
  sameParameters: boolean;
} & (
  | {
      /** `same`: equal texts; `changed`: different texts. */
      outcome: "same" | "changed";
      before: SucceededRun;
      after: SucceededRun;
      /** Word similarity in [0, 1] (see `wordSimilarity`). */
      similarity: number;
    }
  | {
      /** Either run failed. */
      outcome: "failed";
      before: ChatRun;
      after: ChatRun;
      similarity: null;
    }
);

/** The result of {@link compareBatches}. */
export interface BatchChanges {
  pairs: RunPair[];
  /** Pairs whose texts differ (both runs succeeded). */
  changed: number;
  /** Pairs with equal texts. */
  same: number;
  /** Pairs where either run failed. */
  failed: number;
  /** Pairs whose requests differ: their texts are not expected to match. */
  parameterChanges: number;
  /** `index` of runs present in only one batch. */
  unpaired: number[];
  /** Distinct fingerprints in each batch ("none" for null), in order of first appearance. */
  fingerprintsBefore: string[];
  fingerprintsAfter: string[];
  /** True when the two batches' sets of fingerprints differ. */
  fingerprintChanged: boolean;
}

function fingerprints(runs: readonly ChatRun[]): string[] {
  const seen: string[] = [];
  for (const run of runs.filter(isSucceeded)) {
    const value = run.systemFingerprint ?? "none";
    if (!seen.includes(value)) seen.push(value);
  }
  return seen;
}

/**
 * Pairs the runs of two batches by `run.index` and says, for each pair, whether the text changed.
 * @param before The earlier batch (or its runs).
 * @param after The later batch (or its runs).
 * @returns Pairs in index order, counts, and both batches' fingerprints.
 */
export function compareBatches(before: Batch | readonly ChatRun[], after: Batch | readonly ChatRun[]): BatchChanges {
  const beforeRuns = runsOf(before);
  const afterByIndex = new Map(runsOf(after).map((run) => [run.index, run] as const));
  const pairs: RunPair[] = [];
  const unpaired: number[] = [];
  for (const run of beforeRuns) {
    const other = afterByIndex.get(run.index);
    if (other === undefined) {
      unpaired.push(run.index);
      continue;
    }
    afterByIndex.delete(run.index);
    const common = { index: run.index, sameParameters: run.parametersHash === other.parametersHash };
    if (isSucceeded(run) && isSucceeded(other)) {
      const outcome = run.content === other.content ? "same" : "changed";
      pairs.push({
        ...common,
        outcome,
        before: run,
        after: other,
        similarity: wordSimilarity(run.content, other.content),
      });
    } else {
      pairs.push({ ...common, outcome: "failed", before: run, after: other, similarity: null });
    }
  }
  unpaired.push(...afterByIndex.keys());
  const fingerprintsBefore = fingerprints(beforeRuns);
  const fingerprintsAfter = fingerprints(runsOf(after));
  return {
    pairs,
    changed: pairs.filter((pair) => pair.outcome === "changed").length,
    same: pairs.filter((pair) => pair.outcome === "same").length,
    failed: pairs.filter((pair) => pair.outcome === "failed").length,
    parameterChanges: pairs.filter((pair) => !pair.sameParameters).length,
    unpaired: unpaired.sort((a, b) => a - b),
    fingerprintsBefore,
    fingerprintsAfter,
    fingerprintChanged: [...fingerprintsBefore].sort().join("\n") !== [...fingerprintsAfter].sort().join("\n"),
  };
}
