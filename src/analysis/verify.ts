/**
 * Step 5 of the guide, made explicit: the three things that must hold for a batch to count as
 * reproduced (same text, same backend configuration, same request), each as a pass, a fail or an
 * "unknown" with what it means.
 */
import type { Batch, ChatRun } from "../core/types";
import { runsOf } from "../core/runs";
import { compareRuns } from "./compare-runs";

/** The outcome of one check. `unknown`: the backend gave no way to tell (no fingerprint sent). */
export type CheckStatus = "pass" | "fail" | "unknown";

/** One verification check. */
export interface Check {
  name: "content" | "fingerprint" | "parameters";
  status: CheckStatus;
  /** What was found, e.g. "all 5 responses are the same text". */
  summary: string;
  /** What the finding means for the user, and what to look at next. */
  meaning: string;
}

/**
 * Checks a batch of runs of one request: identical contents, one `system_fingerprint`, identical
 * parameters. Failed runs make the content check fail (an output that did not arrive was not reproduced).
 * @param batch A batch, or its runs.
 * @returns Three checks: content, fingerprint, parameters.
 */
export function verifyReproducibility(batch: Batch | readonly ChatRun[]): Check[] {
  const runs = runsOf(batch);
  const comparison = compareRuns(runs);
  const total = comparison.total;
  const checks: Check[] = [];

  const distinct = comparison.distinctOutputs.length;
  if (comparison.succeeded === 0) {
    checks.push({
      name: "content",
      status: "fail",
      summary: `none of the ${total} requests succeeded`,
      meaning: "Nothing to compare: see the errors in the batch table.",
    });
  } else if (distinct === 1 && comparison.failed === 0) {
    checks.push({
      name: "content",
      status: "pass",
      summary: `all ${total} responses are the same text`,
      meaning: "The outputs reproduced, byte for byte.",
    });
  } else if (distinct === 1) {
    checks.push({
      name: "content",
      status: "fail",
      summary: `the ${comparison.succeeded} responses that arrived are the same text, but ${comparison.failed} of ${total} requests failed`,
      meaning:
        "A failed request did not reproduce anything: see its error in the batch table, then run the batch again.",
    });
  } else {
    checks.push({
      name: "content",
      status: "fail",
      summary:
        distinct === comparison.succeeded
          ? `${distinct} distinct texts among ${comparison.succeeded} responses: no two identical`
          : `${distinct} distinct texts among ${comparison.succeeded} responses; ${comparison.mostCommonCount} identical to the most common`,
      meaning:
        "The same request gave different texts. If the parameters and the fingerprint below pass, the backend sampled differently " +
        "(no seed, or a best-effort seed that did not hold); if one of them fails, that is the cause to fix first.",
    });
  }

  const fingerprints = comparison.fingerprints;
  if (fingerprints.length === 0) {
    checks.push({
      name: "fingerprint",
      status: "unknown",
      summary: "no response arrived",
      meaning: "Nothing to compare.",
    });
  } else if (fingerprints.every((group) => group.fingerprint === null)) {
    checks.push({
      name: "fingerprint",
      status: "unknown",
      summary: "the backend sent no system_fingerprint",
      meaning: "You cannot tell from the responses whether the backend's configuration changed between requests.",
    });
  } else if (fingerprints.length === 1) {
    checks.push({
      name: "fingerprint",
      status: "pass",
      summary: `every response reports system_fingerprint ${fingerprints[0]?.fingerprint}`,
      meaning:
        "One backend configuration served every request: a difference in content cannot come from a configuration change.",
    });
  } else {
    const list = fingerprints.map((group) => `${group.fingerprint ?? "none"} (${group.count})`).join(", ");
    checks.push({
      name: "fingerprint",
      status: "fail",
      summary: `${fingerprints.length} fingerprints: ${list}`,
      meaning:
        "Different backend configurations served these requests; outputs may differ even with the same seed. Compare runs within one fingerprint.",
    });
  }

  const hashes = new Set(runs.map((run) => run.parametersHash));
  if (comparison.parametersIdentical) {
    checks.push({
      name: "parameters",
      status: "pass",
      summary: `all ${total} requests sent identical parameters (hash ${[...hashes][0] ?? "—"})`,
      meaning: `${sameParametersPhrase(runs[0]?.parameters)}: the requests were the same request.`,
    });
  } else {
    checks.push({
      name: "parameters",
      status: "fail",
      summary: `the requests differ in ${comparison.differingParameters.map((key) => `\`${key}\``).join(", ")} (${hashes.size} parameter hashes)`,
      meaning:
        "These were not the same request, so different outputs are expected. Keep every parameter constant to test reproducibility.",
    });
  }
  return checks;
}

/** "Same model, messages, seed, temperature and every other parameter", naming only what the request sent. */
function sameParametersPhrase(parameters: ChatRun["parameters"] | undefined): string {
  const named = ["model", "messages", "seed", "temperature"].filter((key) => parameters?.[key] !== undefined);
  return named.length === 0 ? "Same parameters, every one" : `Same ${named.join(", ")} and every other parameter sent`;
}
