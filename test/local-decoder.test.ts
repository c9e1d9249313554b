// The engine's decoder (src/local/decoder.ts) calls node-llama-cpp's native context directly. These tests
// prove it computes what node-llama-cpp's public API computes, step by step: the same next token and the same
// probabilities (values and order) for the same tokens, with and without log-probability requests; and that
// a text survives garbage collection in its middle (node-llama-cpp disposes a collected sequence object,
// which empties its KV cache: an engine that dropped its reference changed texts at random).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Llama, LlamaContext, LlamaModel, Token } from "node-llama-cpp";
import { createDecoder } from "../src/local/decoder";
import { loadEngine, workerContextOptions } from "../src/local/engine";
import { findModelPath } from "../src/local/model-path";

let llama: Llama;
let model: LlamaModel;
const contexts: LlamaContext[] = [];

before(async () => {
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  model = await llama.loadModel({ modelPath: findModelPath({}) });
});
after(async () => {
  for (const context of contexts) await context.dispose();
  await model?.dispose();
  await llama?.dispose();
});

/** A context as the engine creates them (float32 attention, one sequence). */
async function newContext(): Promise<LlamaContext> {
  const context = await model.createContext(
    workerContextOptions({ contextSize: 512, batchSize: 512, threads: 1, attention: "float32" }),
  );
  contexts.push(context);
  return context;
}

test("the decoder returns node-llama-cpp's tokens and probabilities, step by step, over two texts", async () => {
  const [mine, theirs] = [await newContext(), await newContext()];
  const decoder = createDecoder(model, mine, mine.getSequence());
  const sequence = theirs.getSequence();
  let compared = 0;
  for (const prompt of ["Once upon a time", "Tom had a big red ball."]) {
    decoder.reset();
    await sequence.clearHistory();
    const promptTokens = [model.tokens.bos as Token, ...model.tokenize(prompt, false)];
    let input: Token[] = promptTokens;
    for (let step = 0; step < 40; step++) {
      const ask =
        step % 3 === 2 ? { probabilities: false, confidence: true } : { probabilities: true, confidence: false };
      const next = await decoder.evaluate(input, ask);
      const generateNext = { token: true, ...ask };
      const reference = (
        await sequence.controlledEvaluate(
          input.map((token, index) => (index === input.length - 1 ? [token, { generateNext }] : token)),
        )
      ).at(-1)?.next;
      assert.equal(next.token, reference?.token, `${prompt}, step ${step}: the next token`);
      if (ask.probabilities) {
        const pairs = [...(reference?.probabilities ?? new Map<Token, number>())].flat();
        assert.deepEqual(next.probabilities, pairs, `${prompt}, step ${step}: the probabilities`);
        assert.equal(pairs.length, 2 * 512, "the whole vocabulary of the embedded model");
        // Feed a less likely token now and then, as sampling does.
        input = [(step % 2 === 0 ? pairs[4] : pairs[0]) as Token];
      } else {
        assert.equal(next.confidence, reference?.confidence, `${prompt}, step ${step}: the confidence`);
        input = [next.token];
      }
      compared++;
    }
  }
  assert.equal(compared, 80);
  decoder.dispose();
});

test("a text is the same when garbage collection runs in its middle", async () => {
  setFlagsFromString("--expose-gc");
  const collect = runInNewContext("gc") as () => void;
  const engine = await loadEngine({ modelPath: findModelPath({}), workers: 1 });
  try {
    const options = {
      promptTokens: engine.tokenizeMessages([{ role: "user", content: "Once upon a time" }]),
      seed: 5,
      choiceIndex: 0,
      temperature: 1.2,
      topP: 0.9,
      maxTokens: 150,
      stop: [],
      logprobs: false,
      topLogprobs: 0,
    };
    const quiet = await engine.generate(options);
    let collections = 0;
    const collected = await engine.generate({
      ...options,
      onDelta: () => {
        if (collections++ % 10 === 0) collect();
      },
    });
    assert.ok(collections > 20, `collected ${collections} times`);
    assert.equal(collected.completionTokens, quiet.completionTokens);
    assert.equal(collected.text, quiet.text);
  } finally {
    await engine.close();
  }
});
