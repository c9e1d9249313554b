/**
 * One context's token loop, calling node-llama-cpp's native context directly.
 *
 * node-llama-cpp's public evaluation API (`LlamaContextSequence.evaluate` / `controlledEvaluate`) queues
 * every token through a batching dispatcher, locks, a thread allocator and a new native sampler per call.
 * With a model as small as the embedded one that layer costs more than the model: on one AVX2 core, 0.65 ms
 * of CPU per greedy token through it against 0.41 ms for the same native calls made here, and 1.04 against
 * 0.82 ms per token over a mix of sampled, greedy and log-probability requests. The native calls, their
 * arguments and order are the ones node-llama-cpp makes for one sequence per context (prompts split into
 * `batchSize` pieces, logits for the last token only, its default sampler settings), so every text is the
 * same (test/local-decoder.test.ts compares both ways).
 *
 * This relies on node-llama-cpp internals, pinned to the exact version in package.json: `LlamaContext._ctx`
 * (the native context), `LlamaContextSequence._sequenceId` and `_resolveSamplerConfig`, `LlamaModel._model`
 * and `Llama._bindings.AddonSampler`. `createDecoder` checks that they exist and says what to do if not.
 */
import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";

/** The native context's methods used here (node-llama-cpp's `AddonContext`). */
interface NativeContext {
  initBatch(size: number): void;
  addToBatch(sequenceId: number, firstPosition: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array;
  decodeBatch(): Promise<void>;
  sampleToken(
    batchLogitIndex: number,
    sampler: NativeSampler,
    probabilities: boolean,
    confidence: boolean,
  ): Promise<[token: number, probabilities?: number[], confidence?: number]>;
  removeTokenCellsFromSequence(sequenceId: number, start: number, end: number): boolean;
}

/** node-llama-cpp's native `AddonSampler`. */
interface NativeSampler {
  applyConfig(config: object): void;
  dispose(): void;
}

/** What the engine gets after a token is evaluated. */
export interface NextToken {
  /** The most likely token (ties: the lower id), as llama.cpp's greedy sampler picks it. */
  token: Token;
  /** When asked: the whole vocabulary as pairs `[token, probability, token, probability, ...]`, most likely first. */
  probabilities?: readonly number[];
  /** When asked: the probability of `token`. */
  confidence?: number;
}

/** A context's single sequence, decoded token by token. */
export interface Decoder {
  /** Starts a new text: forgets the sequence's tokens (the next `evaluate` starts at position 0). */
  reset(): void;
  /**
   * Evaluates tokens after the ones already in the sequence, then reads the next token off the last one.
   * @param tokens - a prompt (split into `batchSize` pieces) or one generated token.
   * @param want - whether to also return the whole distribution and/or the chosen token's probability.
   * @returns the most likely next token, and what was asked.
   */
  evaluate(tokens: readonly Token[], want: { probabilities: boolean; confidence: boolean }): Promise<NextToken>;
  /** Frees the sampler and the sequence (the context is the engine's to dispose). */
  dispose(): void;
}

/**
 * Creates the decoder of a context's one sequence.
 * @param model - the loaded model.
 * @param context - a context created with `sequences: 1`.
 * @param sequence - that context's sequence. The decoder keeps it referenced: node-llama-cpp disposes a
 *   sequence object that is garbage-collected, which empties its KV cache even in the middle of a text.
 * @returns the decoder.
 * @throws Error when this node-llama-cpp lacks the internals listed above.
 */
export function createDecoder(model: LlamaModel, context: LlamaContext, sequence: LlamaContextSequence): Decoder {
  const internals = {
    "LlamaContext._ctx": (context as unknown as { _ctx?: NativeContext })._ctx,
    "LlamaContextSequence._sequenceId": (sequence as unknown as { _sequenceId?: number })._sequenceId,
    "LlamaContextSequence._resolveSamplerConfig": (
      sequence as unknown as { _resolveSamplerConfig?: (options: object) => object }
    )._resolveSamplerConfig,
    "LlamaModel._model": (model as unknown as { _model?: object })._model,
    "Llama._bindings.AddonSampler": (
      model as unknown as { _llama?: { _bindings?: { AddonSampler?: new (model: object) => NativeSampler } } }
    )._llama?._bindings?.AddonSampler,
  };
  const native = internals["LlamaContext._ctx"];
  const sequenceId = internals["LlamaContextSequence._sequenceId"];
  const resolveSamplerConfig = internals["LlamaContextSequence._resolveSamplerConfig"];
  const nativeModel = internals["LlamaModel._model"];
  const Sampler = internals["Llama._bindings.AddonSampler"];
  if (!native || sequenceId === undefined || !resolveSamplerConfig || !nativeModel || !Sampler) {
    const missing = Object.keys(internals).filter((name) => !internals[name as keyof typeof internals]);
    throw new Error(
      `This node-llama-cpp lacks internals seedlab's engine calls (${missing.join(", ")}). ` +
        "Install the version pinned in package.json: run `npm ci` from the project root.",
    );
  }
  // The settings node-llama-cpp gives a `generateNext` without sampling options: temperature 0 (greedy),
  // which keeps the whole vocabulary in the candidates the probabilities are computed from.
  const samplerConfig = resolveSamplerConfig.call(sequence, { seed: 0 });
  const newSampler = (): NativeSampler => {
    const created = new Sampler(nativeModel);
    created.applyConfig(samplerConfig);
    return created;
  };
  // A fresh native sampler per text (node-llama-cpp makes one per call): nothing carries from one text to the next.
  let sampler = newSampler();
  const batchSize = context.batchSize;
  let position = 0;

  return {
    reset() {
      if (position > 0) native.removeTokenCellsFromSequence(sequenceId, 0, position);
      position = 0;
      sampler.dispose();
      sampler = newSampler();
    },
    async evaluate(tokens, want) {
      if (tokens.length === 0) throw new Error("Nothing to evaluate.");
      let logitIndex = 0;
      for (let start = 0; start < tokens.length; start += batchSize) {
        const piece = tokens.slice(start, start + batchSize);
        const last = start + piece.length === tokens.length;
        native.initBatch(piece.length);
        const indexes = native.addToBatch(
          sequenceId,
          position,
          Uint32Array.from(piece),
          last ? Uint32Array.of(piece.length - 1) : new Uint32Array(0),
        );
        await native.decodeBatch();
        position += piece.length;
        if (last) logitIndex = indexes[0] ?? 0;
      }
      const [token, probabilities, confidence] = await native.sampleToken(
        logitIndex,
        sampler,
        want.probabilities,
        want.confidence,
      );
      if (token === -1 || token === undefined) throw new Error("The engine returned no token.");
      return { token: token as Token, probabilities, confidence };
    },
    dispose() {
      sampler.dispose();
      sequence.dispose();
    },
  };
}
