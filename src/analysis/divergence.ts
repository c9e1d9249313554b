/**
 * Where two texts part: the first token (or, without usable log-probabilities, the first character)
 * at which a run differs from a reference run, what each run could have chosen there, and how close
 * each token of a run was to being a different one (top-1 minus top-2 probability: its margin).
 * A text generated token by token follows the same path until one token differs; after that, the
 * rest is conditioned on a different prefix, so the first divergence is where to look.
 */
import type { Batch, ChatRun, TokenLogprob } from "../core/types";
import { InvalidParameterError, ShownAs, formatValue, invalidParameter } from "../core/errors";
import { isSucceeded, runsOf, type SucceededRun } from "../core/runs";

/** What a divergence position counts: completion tokens (from logprobs) or characters of the text. */
export type DivergenceUnit = "token" | "character";

/** One candidate token at a position, from `top_logprobs`. */
export interface Alternative {
  token: string;
  logprob: number;
  /** `exp(logprob)`, in [0, 1]. */
  probability: number;
  /** True for the token this run actually emitted there. */
  chosen: boolean;
}

/** Where one run first differs from the reference run. */
export interface Divergence {
  /** `run.index` of the run compared. */
  runIndex: number;
  /** `run.index` of the reference run. */
  referenceIndex: number;
  unit: DivergenceUnit;
  /** Index of the first differing token or character (0 = the very first one). */
  position: number;
  /** Offset in the texts where they part, in characters (equals `position` for the character unit). */
  characterOffset: number;
  /** Up to `contextCharacters` of the shared text just before the divergence. */
  before: string;
  /** Up to `contextCharacters` of the reference's text from the divergence on ("" when it ended there). */
  referenceAfter: string;
  /** Up to `contextCharacters` of this run's text from the divergence on ("" when it ended there). */
  runAfter: string;
  /** The reference's token at `position` (token unit only); null when the reference ended before it. */
  referenceToken: string | null;
  /** This run's token at `position` (token unit only); null when this run ended before it. */
  runToken: string | null;
  /** Probability of `referenceToken` in the reference run, in [0, 1]; null without it. */
  referenceTokenProbability: number | null;
  /** Probability of `runToken` in this run, in [0, 1]; null without it. */
  runTokenProbability: number | null;
  /** The reference's top alternatives at `position`, most likely first; null without logprobs there. */
  referenceAlternatives: Alternative[] | null;
  /** This run's top alternatives at `position`, most likely first; null without logprobs there. */
  runAlternatives: Alternative[] | null;
}

/** First divergences of every run of a batch against one reference run. */
export interface BatchDivergence {
  /** `run.index` of the reference run; null when no run succeeded. */
  referenceIndex: number | null;
  /** The unit of every position below: `token` only when every compared run has logprobs whose tokens spell its text. */
  unit: DivergenceUnit;
  /** Why the unit is `character` when it is (e.g. "run 3 has no logprobs"); null for `token`. */
  unitReason: string | null;
  /** Runs with the reference's exact text (the reference included). */
  identicalIndexes: number[];
  /** Failed runs (left out). */
  failedIndexes: number[];
  /** One entry per successful run whose text differs, in run order. */
  divergences: Divergence[];
  /** Divergence positions, ascending (the distribution over the batch). */
  positions: number[];
  /** Lowest, median and highest position; null when no run diverged. */
  positionSummary: { minimum: number; median: number; maximum: number } | null;
}

/** Options of {@link findDivergence}. */
export interface DivergenceOptions {
  /** The run compared against. */
  reference: ChatRun;
  /** The run to compare. */
  run: ChatRun;
  /** `auto` (default): tokens when both runs have logprobs whose tokens spell their texts, else characters. */
  unit?: DivergenceUnit | "auto";
  /** Characters of context around the divergence. Default 40. */
  contextCharacters?: number;
}

/**
 * Where `run` first differs from `reference`.
 * @param options `reference`, `run`, `unit` (default `auto`), `contextCharacters` (default 40).
 * @returns The divergence, or null when both texts are equal.
 * @throws {InvalidParameterError} When either run failed, or `unit` is `token` and a run has no usable logprobs.
 */
export function findDivergence({
  reference,
  run,
  unit = "auto",
  contextCharacters = 40,
}: DivergenceOptions): Divergence | null {
  if (!isSucceededRun(reference)) throw notSucceeded("reference", reference);
  if (!isSucceededRun(run)) throw notSucceeded("run", run);
  if (unit !== "auto" && unit !== "token" && unit !== "character") {
    throw invalidParameter(
      "unit",
      '"auto", "token" or "character"',
      unit,
      'Use "auto" to count tokens when logprobs allow it.',
    );
  }
  if (!Number.isSafeInteger(contextCharacters) || contextCharacters < 0) {
    throw invalidParameter("contextCharacters", "an integer from 0 and up", contextCharacters, "Use e.g. 40.");
  }
  const referenceText = reference.content;
  const runText = run.content;
  if (referenceText === runText) return null;
  const tokensUsable = hasSpellingTokens(reference) && hasSpellingTokens(run);
  if (unit === "token" && !tokensUsable) {
    const culprit = hasSpellingTokens(reference) ? run : reference;
    const problem = culprit.logprobs === null ? "has none" : "has tokens that do not spell its text";
    const fix = 'Request logprobs: true, or use unit "character".';
    throw invalidParameter(
      "unit",
      '"token" only for runs with logprobs',
      new ShownAs(`"token", but run ${culprit.index} ${problem}`),
      fix,
    );
  }
  const useTokens = unit === "token" || (unit === "auto" && tokensUsable);

  let position: number;
  let characterOffset: number;
  if (useTokens) {
    const referenceTokens = reference.logprobs as TokenLogprob[];
    const runTokens = run.logprobs as TokenLogprob[];
    position = 0;
    characterOffset = 0;
    while (
      position < referenceTokens.length &&
      position < runTokens.length &&
      (referenceTokens[position] as TokenLogprob).token === (runTokens[position] as TokenLogprob).token
    ) {
      characterOffset += (referenceTokens[position] as TokenLogprob).token.length;
      position += 1;
    }
  } else {
    position = commonPrefixLength(referenceText, runText);
    characterOffset = position;
  }
  return {
    runIndex: run.index,
    referenceIndex: reference.index,
    unit: useTokens ? "token" : "character",
    position,
    characterOffset,
    before: referenceText.slice(Math.max(0, characterOffset - contextCharacters), characterOffset),
    referenceAfter: referenceText.slice(characterOffset, characterOffset + contextCharacters),
    runAfter: runText.slice(characterOffset, characterOffset + contextCharacters),
    referenceToken: useTokens ? (reference.logprobs?.[position]?.token ?? null) : null,
    runToken: useTokens ? (run.logprobs?.[position]?.token ?? null) : null,
    referenceTokenProbability: useTokens ? probabilityAt(reference, position) : null,
    runTokenProbability: useTokens ? probabilityAt(run, position) : null,
    referenceAlternatives: alternativesAt(reference, position, useTokens),
    runAlternatives: alternativesAt(run, position, useTokens),
  };
}

/** Options of {@link findBatchDivergences}. */
export interface BatchDivergenceOptions {
  /** The batch, or its runs. */
  batch: Batch | readonly ChatRun[];
  /** `run.index` of the reference run; default the first successful run. */
  referenceIndex?: number;
  /** `auto` (default), `token` or `character`; one unit for the whole batch so positions compare. */
  unit?: DivergenceUnit | "auto";
  /** Characters of context around each divergence. Default 40. */
  contextCharacters?: number;
}

/**
 * The first divergence of every run of a batch from a reference run, and the distribution of their positions.
 * @param options `batch`, `referenceIndex`, `unit` (default `auto`), `contextCharacters` (default 40).
 * @returns The divergences, identical and failed runs, sorted positions and their summary.
 * @throws {InvalidParameterError} When `referenceIndex` names no successful run, or `unit` is `token` and a run lacks logprobs.
 */
export function findBatchDivergences({
  batch,
  referenceIndex,
  unit = "auto",
  contextCharacters = 40,
}: BatchDivergenceOptions): BatchDivergence {
  const runs = runsOf(batch);
  const succeeded = runs.filter(isSucceeded);
  const failedIndexes = runs.filter((run) => !isSucceeded(run)).map((run) => run.index);
  let reference: SucceededRun | undefined;
  if (referenceIndex === undefined) reference = succeeded[0];
  else {
    reference = succeeded.find((run) => run.index === referenceIndex);
    if (reference === undefined) {
      throw invalidParameter(
        "referenceIndex",
        `the index of a successful run (${succeeded.map((run) => run.index).join(", ") || "none"})`,
        referenceIndex,
        "Leave it out to use the first successful run.",
      );
    }
  }
  if (reference === undefined) {
    return {
      referenceIndex: null,
      unit: unit === "token" ? "token" : "character",
      unitReason: unit === "token" ? null : "no run succeeded",
      identicalIndexes: [],
      failedIndexes,
      divergences: [],
      positions: [],
      positionSummary: null,
    };
  }
  const differing = succeeded.filter((run) => run.content !== reference.content);
  const compared = [reference, ...differing];
  const withoutTokens = compared.find((run) => !hasSpellingTokens(run));
  const batchUnit: DivergenceUnit = unit === "auto" ? (withoutTokens === undefined ? "token" : "character") : unit;
  let unitReason: string | null = null;
  if (batchUnit === "character") {
    if (unit === "character") unitReason = "characters requested";
    else if (withoutTokens !== undefined)
      unitReason = `run ${withoutTokens.index} ${withoutTokens.logprobs === null ? "has no logprobs" : "has tokens that do not spell its text"}`;
  }
  const divergences = differing.map(
    (run) => findDivergence({ reference, run, unit: batchUnit, contextCharacters }) as Divergence,
  );
  const positions = divergences.map((divergence) => divergence.position).sort((a, b) => a - b);
  return {
    referenceIndex: reference.index,
    unit: batchUnit,
    unitReason,
    identicalIndexes: succeeded.filter((run) => run.content === reference.content).map((run) => run.index),
    failedIndexes,
    divergences,
    positions,
    positionSummary:
      positions.length === 0
        ? null
        : {
            minimum: positions[0] as number,
            median: median(positions),
            maximum: positions[positions.length - 1] as number,
          },
  };
}

/** One token of a run and how close it was to being another. */
export interface TokenMargin {
  /** Token index in the completion. */
  position: number;
  token: string;
  /** Probability of the emitted token, in [0, 1]. */
  probability: number;
  /** The most likely token there and its probability. */
  top: { token: string; probability: number } | null;
  /** The second most likely token there and its probability; null when `top_logprobs` listed fewer than 2. */
  runnerUp: { token: string; probability: number } | null;
  /** Top-1 minus top-2 probability, in [0, 1]; null without a runner-up. Small = a tiny change in the numbers could flip it. */
  margin: number | null;
  /** True when `margin` is below the fragility threshold. */
  fragile: boolean;
  /** True when the emitted token was not the most likely one (sampling at temperature > 0 picked another). */
  sampledBelowTop: boolean;
}

/** Options of {@link computeMargins}. */
export interface MarginOptions {
  /** A successful run with logprobs (request `logprobs: true, top_logprobs: 2` or more). */
  run: ChatRun;
  /** A token is fragile when its margin is below this, in (0, 1]. Default 0.1. */
  fragileBelow?: number;
}

/**
 * The margin of every token of a run: top-1 minus top-2 probability among its `top_logprobs`.
 * @param options `run`, `fragileBelow` (default 0.1).
 * @returns One record per token, in order.
 * @throws {InvalidParameterError} When the run failed or has no logprobs, or `fragileBelow` is not in (0, 1].
 */
export function computeMargins({ run, fragileBelow = 0.1 }: MarginOptions): TokenMargin[] {
  if (typeof run !== "object" || run === null || run.error !== null || run.logprobs === null) {
    throw invalidParameter(
      "run",
      "a successful run with logprobs",
      new ShownAs(describeRun(run)),
      "Send the request with logprobs: true and top_logprobs: 5.",
    );
  }
  if (typeof fragileBelow !== "number" || !(fragileBelow > 0 && fragileBelow <= 1)) {
    throw invalidParameter("fragileBelow", "a probability above 0 and at most 1", fragileBelow, "Use e.g. 0.1.");
  }
  return run.logprobs.map((entry, position) => {
    const ranked = [...entry.topLogprobs].sort((a, b) => b.logprob - a.logprob);
    const top = ranked[0] === undefined ? null : { token: ranked[0].token, probability: Math.exp(ranked[0].logprob) };
    const runnerUp =
      ranked[1] === undefined ? null : { token: ranked[1].token, probability: Math.exp(ranked[1].logprob) };
    const margin = top === null || runnerUp === null ? null : top.probability - runnerUp.probability;
    return {
      position,
      token: entry.token,
      probability: Math.exp(entry.logprob),
      top,
      runnerUp,
      margin,
      fragile: margin !== null && margin < fragileBelow,
      sampledBelowTop: top !== null && entry.logprob < (ranked[0] as { logprob: number }).logprob,
    };
  });
}

/** True when the run has logprobs whose tokens, joined, are exactly its text. */
function hasSpellingTokens(run: ChatRun): boolean {
  return (
    run.logprobs !== null && run.content !== null && run.logprobs.map((entry) => entry.token).join("") === run.content
  );
}

function probabilityAt(run: ChatRun, position: number): number | null {
  const entry = run.logprobs?.[position];
  return entry === undefined ? null : Math.exp(entry.logprob);
}

function alternativesAt(run: ChatRun, position: number, useTokens: boolean): Alternative[] | null {
  if (!useTokens) return null;
  const entry = run.logprobs?.[position];
  if (entry === undefined || entry.topLogprobs.length === 0) return null;
  return [...entry.topLogprobs]
    .sort((a, b) => b.logprob - a.logprob)
    .map((alternative) => ({
      token: alternative.token,
      logprob: alternative.logprob,
      probability: Math.exp(alternative.logprob),
      chosen: alternative.token === entry.token,
    }));
}

function commonPrefixLength(a: string, b: string): number {
  let length = 0;
  while (length < a.length && length < b.length && a[length] === b[length]) length += 1;
  // Do not split a surrogate pair (an emoji): back up to its first half.
  if (length > 0 && length < a.length && /[\uD800-\uDBFF]/.test(a[length - 1] as string)) length -= 1;
  return length;
}

function median(sorted: readonly number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A run passed in from any caller (tslab cells are not type-checked strictly): an object that succeeded. */
function isSucceededRun(run: unknown): run is SucceededRun {
  return typeof run === "object" && run !== null && isSucceeded(run as ChatRun);
}

function notSucceeded(name: string, run: unknown): InvalidParameterError {
  return invalidParameter(
    name,
    "a successful run",
    new ShownAs(describeRun(run)),
    "Compare only runs without `error`.",
  );
}

function describeRun(run: unknown): string {
  if (typeof run !== "object" || run === null) return formatValue(run);
  const { index, error, logprobs } = run as Partial<ChatRun>;
  if (error) return `run ${String(index)} that failed (${error.type})`;
  if (logprobs === null) return `run ${String(index)} without logprobs`;
  return `run ${String(index)}`;
}
