/**
 * What a batch shows about reproducibility: which outputs came back and how often, how similar
 * they are, which fingerprints answered, and whether every request really had the same parameters.
 * Failed runs are counted, and left out of the content and fingerprint figures.
 */
import { diffWords } from "diff";
import type { ChatRun } from "../core/types";
import { canonicalJson } from "../core/chat";
import { isSucceeded, type SucceededRun } from "../core/runs";

/** One distinct output text and the runs that produced it. */
export interface DistinctOutput {
  content: string;
  count: number;
  /** `run.index` of each run with this output, ascending. */
  runIndexes: number[];
}

/** One `system_fingerprint` value (null = none sent) and the successful runs that reported it. */
export interface FingerprintGroup {
  fingerprint: string | null;
  count: number;
  runIndexes: number[];
}

/** The result of {@link compareRuns}. */
export interface Comparison {
  total: number;
  succeeded: number;
  failed: number;
  /** `run.index` of each failed run. */
  failedIndexes: number[];
  /** Distinct outputs of the successful runs, most common first (ties: earliest run first). */
  distinctOutputs: DistinctOutput[];
  /** Successful runs whose output equals the most common one (0 when none succeeded). */
  mostCommonCount: number;
  /** `mostCommonCount / succeeded`, in [0, 1]; 0 when none succeeded. */
  mostCommonShare: number;
  /**
   * Pairwise similarity of the successful runs, in [0, 1], measured by {@link wordSimilarity}
   * (1 = identical). `matrix[i][j]` compares the runs `runIndexes[i]` and `runIndexes[j]`.
   */
  similarity: {
    measure: "word-overlap";
    runIndexes: number[];
    matrix: number[][];
    /** Mean over distinct pairs; null with fewer than 2 successful runs. */
    mean: number | null;
    /** Lowest over distinct pairs; null with fewer than 2 successful runs. */
    minimum: number | null;
  };
  /** Fingerprints of the successful runs, most common first; null is its own group. */
  fingerprints: FingerprintGroup[];
  /** True when every run (failed ones included) sent exactly the same parameters. */
  parametersIdentical: boolean;
  /** Top-level parameter keys whose values differ between runs, sorted. */
  differingParameters: string[];
}

/**
 * Word-level similarity of two texts, in [0, 1]: the words (and punctuation marks) the two share, in
 * order, counted in both texts, over all words of both texts (`2 × common / (words in a + words in b)`),
 * using the alignment of `diff.diffWords`. 1 = identical words (whitespace differences ignored),
 * 0 = nothing in common. Two empty texts are identical (1).
 * @param a One text.
 * @param b The other text.
 * @returns The similarity in [0, 1].
 */
export function wordSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  let common = 0;
  let total = 0;
  for (const change of diffWords(a, b)) {
    // Whitespace-only changes carry no words.
    const words = change.value.trim() === "" ? 0 : change.count;
    if (!change.added && !change.removed) {
      common += 2 * words;
      total += 2 * words;
    } else {
      total += words;
    }
  }
  return total === 0 ? 1 : common / total;
}

/**
 * Compares the runs of a batch.
 * @param runs The runs (any order; `run.index` identifies them).
 * @returns Distinct outputs, identical share, pairwise similarity, fingerprint groups, parameter check.
 */
export function compareRuns(runs: readonly ChatRun[]): Comparison {
  const succeededRuns = runs.filter(isSucceeded);
  const failedIndexes = runs.filter((run) => !isSucceeded(run)).map((run) => run.index);

  const distinctOutputs = groupBy(succeededRuns, (run) => run.content).map(([content, group]) => ({
    content,
    count: group.length,
    runIndexes: group,
  }));
  const fingerprints = groupBy(succeededRuns, (run) => run.systemFingerprint).map(([fingerprint, group]) => ({
    fingerprint,
    count: group.length,
    runIndexes: group,
  }));

  const texts = succeededRuns.map((run) => run.content);
  const matrix = texts.map((a, i) => texts.map((b, j) => (i === j ? 1 : wordSimilarity(a, b))));
  const pairs: number[] = [];
  matrix.forEach((row, i) =>
    row.forEach((value, j) => {
      if (j > i) pairs.push(value);
    }),
  );

  const mostCommonCount = distinctOutputs[0]?.count ?? 0;
  const differingParameters = findDifferingParameters(runs);
  return {
    total: runs.length,
    succeeded: succeededRuns.length,
    failed: failedIndexes.length,
    failedIndexes,
    distinctOutputs,
    mostCommonCount,
    mostCommonShare: succeededRuns.length === 0 ? 0 : mostCommonCount / succeededRuns.length,
    similarity: {
      measure: "word-overlap",
      runIndexes: succeededRuns.map((run) => run.index),
      matrix,
      mean: pairs.length === 0 ? null : pairs.reduce((sum, value) => sum + value, 0) / pairs.length,
      minimum: pairs.length === 0 ? null : Math.min(...pairs),
    },
    fingerprints,
    parametersIdentical: differingParameters.length === 0,
    differingParameters,
  };
}

/** Groups runs by a key: most common first, ties by earliest run; run indexes ascending. */
function groupBy<Key>(runs: readonly SucceededRun[], keyOf: (run: SucceededRun) => Key): Array<[Key, number[]]> {
  const groups = new Map<Key, number[]>();
  for (const run of [...runs].sort((a, b) => a.index - b.index)) {
    const key = keyOf(run);
    const group = groups.get(key);
    if (group) group.push(run.index);
    else groups.set(key, [run.index]);
  }
  return [...groups.entries()].sort((a, b) => b[1].length - a[1].length || (a[1][0] as number) - (b[1][0] as number));
}

function findDifferingParameters(runs: readonly ChatRun[]): string[] {
  const keys = new Set<string>();
  for (const run of runs) for (const key of Object.keys(run.parameters)) keys.add(key);
  const differing: string[] = [];
  for (const key of keys) {
    const values = new Set(
      runs.map((run) => (key in run.parameters ? canonicalJson(run.parameters[key]) : "(absent)")),
    );
    if (values.size > 1) differing.push(key);
  }
  return differing.sort();
}
