/**
 * Token sampling in plain JavaScript from the model's probabilities, with a seeded PRNG.
 *
 * Sampling here (rather than inside llama.cpp) makes every step ours to reason about: the seed fully
 * determines the draw, temperature 0 is an exact argmax, top_p is the smallest set of most likely
 * tokens whose probability reaches `top_p`, and the reported log-probabilities are the model's true
 * ones (log-softmax of the raw logits, before temperature and top_p). Ties are broken by the lower
 * token id, so the order of the engine's probabilities never matters.
 *
 * Bump `SAMPLER_VERSION` whenever a change here can change an output: it is part of the
 * system fingerprint.
 */
import { createHash } from "node:crypto";

/** Version of the sampling algorithm; part of the system fingerprint. */
export const SAMPLER_VERSION = "js-sampler-3";

/** A uniform random number generator in [0, 1). */
export type RandomSource = () => number;

/**
 * A deterministic PRNG (sfc32) whose state comes from sha256 of the seed and the choice index, so
 * choice 0 of `n: 3` is the same text as the single choice of `n: 1` with the same seed.
 * @param seed - the request's seed (any safe integer).
 * @param choiceIndex - which of the request's `n` choices this generator draws for.
 * @returns a function returning uniform numbers in [0, 1).
 */
export function createSeededRandom(seed: number, choiceIndex = 0): RandomSource {
  const digest = createHash("sha256").update(`seedlab:${seed}:${choiceIndex}`).digest();
  let a = digest.readUInt32LE(0);
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12);
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t >>> 0;
  };
  for (let warmUp = 0; warmUp < 12; warmUp++) next();
  return () => next() / 4294967296;
}

/** A sampled token and the distribution it came from. */
export interface SampledToken {
  token: number;
  /** The model's log-probability of `token` (computed on first use). */
  readonly logprob: number;
  /** The model's log-probability of any token of the vocabulary. */
  logprobOf(token: number): number;
  /** The `count` most likely tokens (ties: lower token id first) with their log-probabilities. */
  top(count: number): Array<{ token: number; logprob: number }>;
}

/** OpenAI's floor for the log-probability of a token too unlikely to register in float32. */
export const LOGPROB_FLOOR = -9999;

/**
 * Picks the next token.
 * @param probabilities - the full vocabulary's probabilities as pairs `[token, probability, token,
 *   probability, ...]` (node-llama-cpp's native format), in any order; a probability of 0 counts as
 *   log-probability `LOGPROB_FLOOR`.
 * @param options.temperature - 0 picks the most likely token; otherwise log-probabilities are divided by it.
 * @param options.topP - nucleus size in (0, 1].
 * @param options.random - the seeded generator of this choice (one draw per sampled token, none at temperature 0).
 * @returns the token, its log-probability and access to the most likely alternatives.
 */
export function sampleToken(
  probabilities: ArrayLike<number>,
  { temperature, topP, random }: { temperature: number; topP: number; random: RandomSource },
): SampledToken {
  // Typed arrays, no intermediate maps: this runs once per generated token.
  if (probabilities.length % 2 !== 0) throw new Error("Expected [token, probability] pairs, got an odd length.");
  const count = probabilities.length / 2;
  const tokens = new Int32Array(count);
  const logits = new Float64Array(count);
  for (let index = 0; index < count; index++) {
    const logprob = Math.log(probabilities[2 * index + 1]!);
    tokens[index] = probabilities[2 * index]!;
    logits[index] = Number.isFinite(logprob) ? logprob : LOGPROB_FLOOR;
  }
  // Rank by descending log-probability, ties by token id. The engine hands the pairs over sorted by probability
  // with ties in any order (many tiny probabilities round to the same float): one pass puts each run of ties in
  // token order; a full sort only if the pairs come unsorted. Either way the order is independent of the engine's.
  const ranksBefore = (left: number, right: number) => logits[right]! - logits[left]! || tokens[left]! - tokens[right]!;
  const order = new Int32Array(count);
  let sortedByProbability = true;
  for (let position = 0; position < count; position++) {
    order[position] = position;
    if (position > 0 && logits[position]! > logits[position - 1]!) sortedByProbability = false;
  }
  if (!sortedByProbability) order.sort(ranksBefore);
  else {
    // Insertion sort within each run of equal log-probabilities (by token id).
    for (let position = 1; position < count; position++) {
      const entry = order[position]!;
      let before = position - 1;
      while (before >= 0 && ranksBefore(order[before]!, entry) > 0) {
        order[before + 1] = order[before]!;
        before--;
      }
      order[before + 1] = entry;
    }
  }
  const best = order[0];
  if (best === undefined) throw new Error("The model returned no probabilities.");
  const maxLogit = logits[best]!;
  // The log-normaliser (log-sum-exp) is only needed for reported log-probabilities: computed on first use.
  let logNormaliser: number | undefined;
  const normaliser = (): number => {
    if (logNormaliser === undefined) {
      let sumExp = 0;
      for (let position = 0; position < count; position++) sumExp += Math.exp(logits[position]! - maxLogit);
      logNormaliser = maxLogit + Math.log(sumExp);
    }
    return logNormaliser;
  };

  let chosen = best;
  if (temperature > 0) {
    // Probabilities at this temperature, in rank order; the nucleus is the shortest prefix reaching top_p.
    const weights = new Float64Array(count);
    let total = 0;
    for (let rank = 0; rank < count; rank++) {
      weights[rank] = Math.exp((logits[order[rank]!]! - maxLogit) / temperature);
      total += weights[rank]!;
    }
    let nucleusSize = 0;
    let nucleusWeight = 0;
    while (nucleusSize < count && (nucleusSize === 0 || nucleusWeight / total < topP))
      nucleusWeight += weights[nucleusSize++]!;
    let target = random() * nucleusWeight;
    let chosenRank = nucleusSize - 1;
    for (let rank = 0; rank < nucleusSize; rank++) {
      target -= weights[rank]!;
      if (target < 0) {
        chosenRank = rank;
        break;
      }
    }
    chosen = order[chosenRank]!;
  }
  return {
    token: tokens[chosen]!,
    get logprob() {
      return logits[chosen]! - normaliser();
    },
    logprobOf: (token) => {
      const position = tokens.indexOf(token);
      return (position === -1 ? Number.NEGATIVE_INFINITY : logits[position]!) - normaliser();
    },
    top: (topCount) =>
      Array.from(order.subarray(0, topCount), (position) => ({
        token: tokens[position]!,
        logprob: logits[position]! - normaliser(),
      })),
  };
}
