/**
 * A batch's outcome in one line, e.g. "5/5 identical · 1 fingerprint · parameters identical" or
 * "3/5 identical · 4 distinct outputs · 2 fingerprints · parameters differ: seed · 1 failed".
 */
import type { Comparison } from "../analysis/compare-runs";

/**
 * One line summing up a comparison: identical outputs over successful runs ("all 3 different" when every
 * successful run returned its own text, "2 texts, each returned twice" when every text came back equally often), distinct outputs (when
 * more than one), fingerprints ("no fingerprint" when none was sent), whether parameters were
 * identical (or which differ), and failed runs (when any).
 * @param comparison The result of `compareRuns`.
 * @returns The verdict line (plain text).
 */
export function renderVerdict(comparison: Comparison): string {
  const parts: string[] = [];
  if (comparison.succeeded === 0) {
    parts.push("no successful run");
  } else {
    const distinct = comparison.distinctOutputs.length;
    // "1/3 identical" for three different texts reads as a contradiction: say that none repeated.
    const allDifferent = distinct > 1 && distinct === comparison.succeeded;
    // Seeds 1, 1, 2, 2: "2/4 identical" hides that both seeds repeated; say "2 texts, each returned twice".
    const repeats = comparison.mostCommonCount;
    const evenRepeats =
      distinct > 1 && repeats > 1 && comparison.distinctOutputs.every((output) => output.count === repeats);
    if (evenRepeats) parts.push(`${distinct} texts, each returned ${repeats === 2 ? "twice" : `${repeats} times`}`);
    else {
      // "all 3 different", not "no two identical · 3 distinct outputs" (the same fact twice).
      if (allDifferent) parts.push(`all ${distinct} different`);
      else {
        parts.push(`${repeats}/${comparison.succeeded} identical`);
        if (distinct > 1) parts.push(`${distinct} distinct outputs`);
      }
    }
    const fingerprints = comparison.fingerprints;
    const onlyNone = fingerprints.length === 1 && fingerprints[0]?.fingerprint === null;
    parts.push(
      onlyNone ? "no fingerprint" : `${fingerprints.length} fingerprint${fingerprints.length === 1 ? "" : "s"}`,
    );
  }
  parts.push(
    comparison.parametersIdentical
      ? "parameters identical"
      : `parameters differ: ${comparison.differingParameters.join(", ")}`,
  );
  if (comparison.failed > 0) parts.push(`${comparison.failed} failed`);
  return parts.join(" · ");
}
