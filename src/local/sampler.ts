/**
 * Token sampling in plain JavaScript from the model's raw logits, with a seeded PRNG.
 *
 * Sampling here (rather than inside llama.cpp) makes every step ours to reason about: the seed fully
 * determines the draw, temperature 0 is an exact argmax, top_p is the smallest set of most likely
 * tokens whose probability reaches `top_p`, and the reported log-probabilities are the model's true
 * ones (log-softmax of the raw logits, before temperature and top_p). Ties are broken by the lower
 * token id, so the order of the engine's logits map never matters.
 *
 * Bump `SAMPLER_VERSION` whenever a change here can change an output: it is part of the
 * system fingerprint.
 */
import { createHash } from "node:crypto";

/** Version of the sampling algorithm; part of the system fingerprint. */
export const SAMPLER_VERSION = "js-sampler-1";

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

/** One candidate token with its raw logit. */
export interface TokenLogit {
  token: number;
  logit: number;
}

/** A sampled token and the distribution it came from. */
export interface SampledToken {
  token: number;
  /** The model's log-probability of `token` (log-softmax of the raw logits). */
  logprob: number;
  /** All candidates by descending logit (ties: lower token id first), with their log-probabilities. */
  ranked: Array<{ token: number; logprob: number }>;
}

/**
 * Picks the next token.
 * @param logits - the full vocabulary's raw logits.
 * @param options.temperature - 0 picks the most likely token; otherwise logits are divided by it.
 * @param options.topP - nucleus size in (0, 1].
 * @param options.random - the seeded generator of this choice (one draw per sampled token, none at temperature 0).
 * @returns the token with its log-probability and the ranked distribution.
 */
export function sampleToken(
  logits: readonly TokenLogit[],
  { temperature, topP, random }: { temperature: number; topP: number; random: RandomSource },
): SampledToken {
  const sorted = logits.slice().sort((left, right) => right.logit - left.logit || left.token - right.token);
  const best = sorted[0];
  if (best === undefined) throw new Error("The model returned no logits.");
  let sumExp = 0;
  for (const { logit } of sorted) sumExp += Math.exp(logit - best.logit);
  const logNormaliser = best.logit + Math.log(sumExp);
  const ranked = sorted.map(({ token, logit }) => ({ token, logprob: logit - logNormaliser }));

  let chosenRank = 0;
  if (temperature > 0) {
    // Probabilities at this temperature, in rank order; the nucleus is the shortest prefix reaching top_p.
    const weights = sorted.map(({ logit }) => Math.exp((logit - best.logit) / temperature));
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    let nucleusSize = 0;
    let nucleusWeight = 0;
    while (nucleusSize < weights.length && (nucleusSize === 0 || nucleusWeight / total < topP)) {
      nucleusWeight += weights[nucleusSize] ?? 0;
      nucleusSize++;
    }
    let target = random() * nucleusWeight;
    chosenRank = nucleusSize - 1;
    for (let rank = 0; rank < nucleusSize; rank++) {
      target -= weights[rank] ?? 0;
      if (target < 0) {
        chosenRank = rank;
        break;
      }
    }
  }
  const chosen = ranked[chosenRank] ?? ranked[0]!;
  return { token: chosen.token, logprob: chosen.logprob, ranked };
}
