/**
 * `npm run bench`: tokens/s of the local server (over HTTP, through the openai SDK, sampling in JS)
 * next to the raw engine (node-llama-cpp in this process, its own native sampler) on the same prompt,
 * seed, temperature and token budget. Prints figures; asserts nothing (speed is not a test).
 * The two are measured interleaved (one server request, then one raw generation, repeated), so a
 * load that comes and goes on the machine weighs on both alike; the ratio is of total tokens over
 * total time. At temperature 0 both are greedy, so their texts should also match: the bench says
 * whether they do.
 *
 * Why sampled requests are slower on the server: to sample in JavaScript (seeded, exact temperature
 * and top_p, true log-probabilities) the server copies the probability of every token of the
 * vocabulary out of llama.cpp for each token (node-llama-cpp 3.21.1's `probabilities`), about 0.3 ms
 * with this tiny model, whose whole forward pass takes under 1 ms. Greedy requests take llama.cpp's own
 * argmax and copy nothing. That copy grows with the vocabulary (512 tokens here), the forward pass with
 * the model's size: measure other models before drawing conclusions.
 */
import type { Token } from "node-llama-cpp";
import OpenAI from "openai";
import { detectEndOfText } from "../src/local/end-of-text";
import { workerContextOptions } from "../src/local/engine";
import { findModelPath } from "../src/local/model-path";
import { startLocalServer } from "../src/local/start";

const PROMPT = "Once upon a time";
const MAX_TOKENS = 256;
const REPEATS = 12;
const WARM_UPS = 3;
const CASES = [
  { label: "greedy (temperature 0)", temperature: 0, seed: 42 },
  { label: "seeded (temperature 1)", temperature: 1, seed: 42 },
];

/** Tokens generated and seconds spent, summed over the timed runs. */
interface Tally {
  tokens: number;
  seconds: number;
  text: string;
}

type Generate = (temperature: number, seed: number) => Promise<{ tokens: number; text: string }>;

async function openServer(): Promise<{ generate: Generate; close: () => Promise<void> }> {
  // auto: the CPU variant the raw engine below loads, so both run the same llama.cpp code.
  const server = await startLocalServer({ threads: 1, cpuVariant: "auto" });
  const client = new OpenAI({ apiKey: "local", baseURL: server.url, maxRetries: 0 });
  return {
    generate: async (temperature, seed) => {
      const response = await client.chat.completions.create({
        model: server.model,
        messages: [{ role: "user", content: PROMPT }],
        temperature,
        seed,
        max_tokens: MAX_TOKENS,
      });
      return { tokens: response.usage?.completion_tokens ?? 0, text: response.choices[0]?.message.content ?? "" };
    },
    close: () => server.close(),
  };
}

async function openRawEngine(): Promise<{ generate: Generate; close: () => Promise<void> }> {
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: findModelPath() });
  // The server's context settings (float32 attention: no flash attention, float32 KV cache), so both run the same llama.cpp code.
  const context = await model.createContext(
    workerContextOptions({ contextSize: 2048, batchSize: 512, threads: 1, attention: "float32" }),
  );
  const sequence = context.getSequence();
  const bos = model.tokens.bos;
  // Like the server: a llama2.c model ends its story at BOS.
  const bosEndsText = detectEndOfText(model.fileInfo.metadata) === "eog+bos";
  const endsText = (token: Token) => model.isEogToken(token) || (bosEndsText && token === bos);
  const promptTokens = [...(bos === null ? [] : [bos]), ...model.tokenize(PROMPT, false)];
  return {
    generate: async (temperature, seed) => {
      await sequence.clearHistory();
      const generated = [];
      // top_k 0 (the whole vocabulary) and top_p 1: what the server's requests ask for, not node-llama-cpp's defaults (40, 0.95).
      for await (const token of sequence.evaluate(promptTokens, { temperature, seed, topK: 0, topP: 1 })) {
        generated.push(token);
        if (endsText(token) || generated.length >= MAX_TOKENS) break;
      }
      const text = model.detokenize(
        generated.filter((token) => !endsText(token)),
        false,
        promptTokens,
      );
      return { tokens: generated.length, text };
    },
    close: async () => {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

async function timed(tally: Tally, generate: Generate, temperature: number, seed: number): Promise<void> {
  const started = performance.now();
  const { tokens, text } = await generate(temperature, seed);
  tally.seconds += (performance.now() - started) / 1000;
  tally.tokens += tokens;
  tally.text = text;
}

async function main(): Promise<void> {
  console.log(
    `Prompt ${JSON.stringify(PROMPT)}, max ${MAX_TOKENS} tokens, ${WARM_UPS} warm-up and ${REPEATS} timed runs each, interleaved, threads 1, batch size 512.`,
  );
  const server = await openServer();
  const raw = await openRawEngine();
  try {
    for (const { label, temperature, seed } of CASES) {
      for (let warmUp = 0; warmUp < WARM_UPS; warmUp++) {
        await server.generate(temperature, seed);
        await raw.generate(temperature, seed);
      }
      const serverTally: Tally = { tokens: 0, seconds: 0, text: "" };
      const rawTally: Tally = { tokens: 0, seconds: 0, text: "" };
      for (let repeat = 0; repeat < REPEATS; repeat++) {
        await timed(serverTally, server.generate, temperature, seed);
        await timed(rawTally, raw.generate, temperature, seed);
      }
      const serverRate = serverTally.tokens / serverTally.seconds;
      const rawRate = rawTally.tokens / rawTally.seconds;
      console.log(`\n${label}, seed ${seed}`);
      console.log(
        `  server (HTTP + SDK + JS sampler): ${serverRate.toFixed(0)} tokens/s (${serverTally.tokens} tokens in ${serverTally.seconds.toFixed(2)} s)`,
      );
      console.log(
        `  raw engine (node-llama-cpp):      ${rawRate.toFixed(0)} tokens/s (${rawTally.tokens} tokens in ${rawTally.seconds.toFixed(2)} s)`,
      );
      console.log(`  ratio server / raw: ${(serverRate / rawRate).toFixed(2)} (target >= 0.9)`);
      if (temperature === 0) console.log(`  same greedy text: ${serverTally.text === rawTally.text ? "yes" : "no"}`);
    }
  } finally {
    await raw.close();
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
