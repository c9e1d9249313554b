/**
 * Reading runs: whether a run succeeded (as a type guard, so its `content` is a string without a cast), the runs of a
 * batch in index order whatever was passed, and the run others are compared with.
 */
import type { Batch, ChatRun, RunError } from "./types";

/** A run that returned a text: `error` is null and `content` a string. */
export type SucceededRun = ChatRun & { content: string; error: null };
/** A run that failed or was never sent: `error` says why, `content` is null. */
export type FailedRun = ChatRun & { error: RunError };

/**
 * Whether a run returned a text.
 * @param run Any run.
 * @returns True when it has no `error` and a `content` (then typed {@link SucceededRun}).
 */
export function isSucceeded(run: ChatRun): run is SucceededRun {
  return run.error === null && run.content !== null;
}

/**
 * The runs of a batch, or the runs given, as a new array sorted by `run.index`.
 * @param batch A batch, or its runs.
 * @returns The runs, index 0 first.
 */
export function runsOf(batch: Batch | readonly ChatRun[]): ChatRun[] {
  const runs: readonly ChatRun[] = isBatch(batch) ? batch.runs : batch;
  return [...runs].sort((a, b) => a.index - b.index);
}

/**
 * The runs that returned a text, sorted by `run.index`.
 * @param batch A batch, or its runs.
 * @returns The successful runs.
 */
export function succeededRuns(batch: Batch | readonly ChatRun[]): SucceededRun[] {
  return runsOf(batch).filter(isSucceeded);
}

/**
 * Whether a value is a batch rather than a list of runs.
 * @param batch A batch, or its runs.
 * @returns True for a `Batch`.
 */
export function isBatch(batch: Batch | readonly ChatRun[]): batch is Batch {
  return !Array.isArray(batch);
}

/**
 * The run others are compared with.
 * @param runs The runs.
 * @param referenceIndex The `run.index` asked for, if any.
 * @returns That run if it succeeded, else the first successful run; null when none succeeded.
 */
export function findReference(runs: readonly ChatRun[], referenceIndex?: number): SucceededRun | null {
  const succeeded = runs.filter(isSucceeded);
  return succeeded.find((run) => run.index === referenceIndex) ?? succeeded[0] ?? null;
}
