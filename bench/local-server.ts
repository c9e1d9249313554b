/**
 * `npm run bench`: tokens/s of the local server (over HTTP, through the openai SDK, sampling in JS)
 * next to the raw engine (node-llama-cpp in this process, its own native sampler) on the same prompt,
 * seed, temperature and token budget. Prints figures; asserts nothing (speed is not a test).
 * At temperature 0 both are greedy, so their texts should also match: the bench says whether they do.
 */
import OpenAI from "openai";
import { findModelPath } from "../src/local/model-path";
import { startLocalServer } from "../src/local/start";

const PROMPT = "Once upon a time";
const MAX_TOKENS = 256;
const REPEATS = 10;
const WARM_UPS = 3;
const CASES = [
  { label: "greedy (temperature 0)", temperature: 0, seed: 42 },
  { label: "seeded (temperature 1)", temperature: 1, seed: 42 },
];

interface Measurement {
  tokens: number;
  seconds: number;
  text: string;
}

async function measureServer(temperature: number, seed: number): Promise<Measurement> {
  const server = await startLocalServer({ threads: 1 });
  try {
    const client = new OpenAI({ apiKey: "local", baseURL: server.url, maxRetries: 0 });
    const request = { model: server.model, messages: [{ role: "user" as const, content: PROMPT }], temperature, seed, max_tokens: MAX_TOKENS };
    for (let warmUp = 0; warmUp < WARM_UPS; warmUp++) await client.chat.completions.create(request);
    let tokens = 0;
    let text = "";
    const started = performance.now();
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      const response = await client.chat.completions.create(request);
      tokens += response.usage?.completion_tokens ?? 0;
      text = response.choices[0]?.message.content ?? "";
    }
    return { tokens, seconds: (performance.now() - started) / 1000, text };
  } finally {
    await server.close();
  }
}

async function measureRawEngine(temperature: number, seed: number): Promise<Measurement> {
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: findModelPath() });
  const context = await model.createContext({ contextSize: 2048, batchSize: 512, threads: 1, sequences: 1 });
  const sequence = context.getSequence();
  const bos = model.tokens.bos;
  const promptTokens = [...(bos === null ? [] : [bos]), ...model.tokenize(PROMPT, false)];
  const generate = async () => {
    await sequence.clearHistory();
    const generated = [];
    for await (const token of sequence.evaluate(promptTokens, { temperature, seed })) {
      generated.push(token);
      if (model.isEogToken(token) || generated.length >= MAX_TOKENS) break;
    }
    return generated;
  };
  try {
    for (let warmUp = 0; warmUp < WARM_UPS; warmUp++) await generate();
    let tokens = 0;
    let text = "";
    const started = performance.now();
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      const generated = await generate();
      tokens += generated.length;
      text = model.detokenize(generated.filter((token) => !model.isEogToken(token)), false, promptTokens);
    }
    return { tokens, seconds: (performance.now() - started) / 1000, text };
  } finally {
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }
}

async function main(): Promise<void> {
  console.log(`Prompt ${JSON.stringify(PROMPT)}, max ${MAX_TOKENS} tokens, ${WARM_UPS} warm-up and ${REPEATS} timed runs each, threads 1, batch size 512.`);
  for (const { label, temperature, seed } of CASES) {
    const server = await measureServer(temperature, seed);
    const raw = await measureRawEngine(temperature, seed);
    const serverRate = server.tokens / server.seconds;
    const rawRate = raw.tokens / raw.seconds;
    console.log(`\n${label}, seed ${seed}`);
    console.log(`  server (HTTP + SDK + JS sampler): ${serverRate.toFixed(0)} tokens/s (${server.tokens} tokens in ${server.seconds.toFixed(2)} s)`);
    console.log(`  raw engine (node-llama-cpp):      ${rawRate.toFixed(0)} tokens/s (${raw.tokens} tokens in ${raw.seconds.toFixed(2)} s)`);
    console.log(`  ratio server / raw: ${(serverRate / rawRate).toFixed(2)} (target >= 0.9)`);
    if (temperature === 0) console.log(`  same greedy text: ${server.text === raw.text ? "yes" : "no"}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
