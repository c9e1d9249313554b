/**
 * Runs the same seeded requests on each ggml CPU variant this machine can run, each variant in its
 * own process, and compares the texts and the speed.
 *
 *   npx tsx bench/cpu-variants.ts                      # every runnable variant, plus auto
 *   npx tsx bench/cpu-variants.ts x64 haswell auto     # only these
 *   npx tsx bench/cpu-variants.ts --repeat 2           # each variant twice (separate processes, rounds interleaved)
 *   npx tsx bench/cpu-variants.ts --batch-sizes 512    # only batch size 512 (41 requests)
 *
 * Speed is reported twice: tokens per wall-clock second, and tokens per CPU second of the generating
 * process (less sensitive to other processes on a shared machine; the engine runs one thread).
 *
 * Requests: the guide's prompt (notebook 01), 200 tokens, seeds 100-139 at temperature 0.7 plus one
 * greedy request, at batch sizes 512 and 1 (82 requests). Results land in out/cpu-variants/.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { loadEngine } from "../src/local/engine";
import { findModelPath } from "../src/local/model-path";
import { detectCpuFeatures, findBinaryPackage, loadedCpuVariant, runnableVariants } from "../src/local/cpu-variant";

const MESSAGES = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "Generate a short excerpt of news about a journey to Mars." },
];
const SEEDS = Array.from({ length: 40 }, (_, index) => 100 + index);
const DEFAULT_BATCH_SIZES = [512, 1];
const MAX_TOKENS = 200;
const OUT = path.resolve(__dirname, "..", "out", "cpu-variants");

interface ChildResult {
  variant: string;
  loaded: string | null;
  fingerprint: string;
  texts: Record<string, string>;
  completionTokens: number;
  generationMs: number;
  generationCpuMs: number;
}

async function child(variant: string, batchSizes: number[]): Promise<void> {
  const texts: Record<string, string> = {};
  let completionTokens = 0;
  let generationMs = 0;
  let generationCpuMs = 0;
  let fingerprint = "";
  for (const batchSize of batchSizes) {
    const engine = await loadEngine({ modelPath: findModelPath({}), batchSize, cpuVariant: variant });
    fingerprint = engine.fingerprint;
    const promptTokens = engine.tokenizeMessages(MESSAGES);
    const requests: Array<{ key: string; seed: number; temperature: number }> = [
      ...SEEDS.map((seed) => ({ key: `b${batchSize}/t0.7/s${seed}`, seed, temperature: 0.7 })),
      { key: `b${batchSize}/greedy`, seed: 123, temperature: 0 },
    ];
    for (const request of requests) {
      const started = process.hrtime.bigint();
      const cpuStarted = process.cpuUsage();
      const choice = await engine.generate({
        promptTokens,
        seed: request.seed,
        choiceIndex: 0,
        temperature: request.temperature,
        topP: 1,
        maxTokens: MAX_TOKENS,
        stop: [],
        logprobs: false,
        topLogprobs: 0,
      });
      generationMs += Number(process.hrtime.bigint() - started) / 1e6;
      const cpu = process.cpuUsage(cpuStarted);
      generationCpuMs += (cpu.user + cpu.system) / 1000;
      completionTokens += choice.completionTokens;
      texts[request.key] = choice.text;
    }
    await engine.close();
  }
  const result: ChildResult = {
    variant,
    loaded: loadedCpuVariant(),
    fingerprint,
    texts,
    completionTokens,
    generationMs,
    generationCpuMs,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

function parent(args: string[]): void {
  let repeat = 1;
  let batchSizes = DEFAULT_BATCH_SIZES.join(",");
  const names: string[] = [];
  for (let index = 0; index < args.length; index++) {
    if (args[index] === "--repeat") repeat = Number(args[++index]);
    else if (args[index] === "--batch-sizes") batchSizes = String(args[++index]);
    else names.push(args[index] as string);
  }
  const binaryPackage = findBinaryPackage();
  if (binaryPackage === null) throw new Error("node-llama-cpp's binary package is not installed.");
  const cpu = detectCpuFeatures();
  const runnable = runnableVariants(binaryPackage.variants, cpu);
  const variants = names.length > 0 ? names : [...runnable.variants, "auto"];
  console.log(
    `${binaryPackage.name}@${binaryPackage.version} · CPU features (${cpu.source}): ${cpu.features?.join(" ") ?? "unknown"}`,
  );
  console.log(`installed: ${binaryPackage.variants.join(", ")}\nrunnable: ${runnable.variants.join(", ")}\n`);
  fs.mkdirSync(OUT, { recursive: true });
  const results: ChildResult[] = [];
  for (let round = 1; round <= repeat; round++) {
    for (const variant of variants) {
      const run = spawnSync(process.execPath, ["--import", "tsx", __filename, "--child", variant, batchSizes], {
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      });
      if (run.status !== 0) {
        console.log(`${variant}: failed (${run.status}) ${run.stderr.trim().split("\n").slice(-3).join(" ")}`);
        continue;
      }
      const result = JSON.parse(run.stdout.trim().split("\n").pop() as string) as ChildResult;
      fs.writeFileSync(path.join(OUT, `${variant}-${round}.json`), JSON.stringify(result, null, 2) + "\n");
      results.push(result);
    }
  }
  const reference = results.find((result) => result.variant === "x64") ?? results[0];
  if (reference === undefined) return;
  const keys = Object.keys(reference.texts);
  console.log(
    `variant         loaded          fingerprint       tokens/s  tokens/CPU-s   texts differing from ${reference.variant} (of ${keys.length}; greedy)`,
  );
  for (const result of results) {
    const differing = keys.filter((key) => result.texts[key] !== reference.texts[key]);
    const greedy = differing.filter((key) => key.endsWith("greedy")).length;
    const speed = (result.completionTokens / result.generationMs) * 1000;
    const cpuSpeed = (result.completionTokens / result.generationCpuMs) * 1000;
    console.log(
      `${result.variant.padEnd(15)} ${String(result.loaded).padEnd(15)} ${result.fingerprint.padEnd(17)} ${speed.toFixed(0).padStart(8)}  ${cpuSpeed.toFixed(0).padStart(12)}   ${differing.length} (greedy ${greedy})`,
    );
  }
  // Which variants give identical texts: groups.
  const groups = new Map<string, string[]>();
  for (const result of results) {
    const key = JSON.stringify(keys.map((name) => result.texts[name]));
    groups.set(key, [...(groups.get(key) ?? []), result.variant]);
  }
  console.log(`\ngroups of identical texts: ${[...groups.values()].map((group) => `[${group.join(", ")}]`).join(" ")}`);
}

if (process.argv[2] === "--child") {
  child(
    process.argv[3] as string,
    String(process.argv[4] ?? DEFAULT_BATCH_SIZES.join(","))
      .split(",")
      .map(Number),
  ).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  parent(process.argv.slice(2));
}
