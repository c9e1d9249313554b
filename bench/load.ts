/**
 * `npm run bench:load`: load on the local server over loopback, with targets. Two phases:
 *   1. steady: `--requests` requests kept `--concurrency` in flight (at most the queue's capacity):
 *      requests/s, completion tokens/s, latency p50/p95/max; every one must be answered;
 *   2. burst: `--burst` requests at once against `--max-queue`: answered vs refused (429 + Retry-After).
 * Both check that seeded outputs equal the ones each request gives alone, and report the server's
 * memory (rss before, after, peak from /health). Prints a table of targets, exits 1 when one is missed.
 * Flags (all optional): --requests 400 --concurrency 16 --burst 500 --max-queue 64 --max-tokens 16
 */
import { startLocalServer, type LocalServer } from "../src/local/start";

const FLAGS = { requests: 400, concurrency: 16, burst: 500, "max-queue": 64, "max-tokens": 16 };
/** Targets on these machines (2 shared cores); speed depends on the machine, memory and correctness should not. */
const TARGETS = { minRequestsPerSecond: 20, maxRssGrowthMiB: 64 };
const SEEDS = 20;

interface Health {
  queued: number;
  rss_bytes: number;
  max_rss_bytes: number;
}

interface Outcome {
  seed: number;
  status: number;
  retryAfter: string | null;
  content: string | null;
  completionTokens: number;
  latencyMs: number;
}

function parseFlags(args: readonly string[]): typeof FLAGS {
  const flags = { ...FLAGS };
  for (let index = 0; index < args.length; index += 2) {
    const name = (args[index] ?? "").replace(/^--/, "");
    const value = Number(args[index + 1]);
    if (!(name in flags) || !Number.isSafeInteger(value) || value < (name === "max-queue" ? 0 : 1)) {
      throw new Error(
        `Unknown flag or bad value: \`${args[index] ?? ""} ${args[index + 1] ?? ""}\`. Flags: ${Object.keys(FLAGS)
          .map((flag) => `--${flag} N`)
          .join(", ")}.`,
      );
    }
    flags[name as keyof typeof FLAGS] = value;
  }
  if (flags.concurrency > flags["max-queue"] + 1) {
    throw new Error(
      `\`--concurrency\` ${flags.concurrency} is more than the queue takes (--max-queue ${flags["max-queue"]} + 1 running): the steady phase would get 429s. Lower it or raise --max-queue.`,
    );
  }
  return flags;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const server = await startLocalServer({ maxQueue: flags["max-queue"], threads: 1 });
  try {
    const send = (seed: number) => request(server, seed, flags["max-tokens"]);
    const health = async (): Promise<Health> =>
      (await (await fetch(server.url.replace(/\/v1$/, "/health"))).json()) as Health;

    const alone: string[] = [];
    for (let seed = 0; seed < SEEDS; seed++) alone.push((await send(seed)).content ?? "");
    const rest = await health();

    // Steady: `concurrency` workers, each sending the next request as soon as its last one is answered.
    const steady: Outcome[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: flags.concurrency }, async () => {
        while (next < flags.requests) {
          const seed = next++ % SEEDS;
          steady.push(await send(seed));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const afterSteady = await health();

    const burst = await Promise.all(Array.from({ length: flags.burst }, (_, index) => send(index % SEEDS)));
    const afterBurst = await health();

    const latencies = steady.map((outcome) => outcome.latencyMs).sort((a, b) => a - b);
    const tokens = steady.reduce((sum, outcome) => sum + outcome.completionTokens, 0);
    const answered = burst.filter((outcome) => outcome.status === 200);
    const refused = burst.filter((outcome) => outcome.status === 429);
    const mismatched = [...steady, ...answered].filter(
      (outcome) => outcome.status === 200 && outcome.content !== alone[outcome.seed],
    ).length;
    const rssGrowthMiB = (afterBurst.max_rss_bytes - rest.rss_bytes) / 2 ** 20;

    console.log(
      `seedlab local server under load (${server.model}, max_tokens ${flags["max-tokens"]}, queue ${flags["max-queue"]})`,
    );
    console.log(
      `steady: ${flags.requests} requests, ${flags.concurrency} in flight: ${(flags.requests / seconds).toFixed(1)} requests/s, ${(tokens / seconds).toFixed(0)} completion tokens/s`,
    );
    console.log(
      `        latency p50 ${percentile(latencies, 0.5)} ms, p95 ${percentile(latencies, 0.95)} ms, max ${percentile(latencies, 1)} ms`,
    );
    console.log(
      `burst:  ${flags.burst} at once: ${answered.length} answered, ${refused.length} refused with 429 (Retry-After ${refused[0]?.retryAfter ?? "-"}), ${flags.burst - answered.length - refused.length} other`,
    );
    console.log(
      `memory: server rss ${mib(rest.rss_bytes)} at rest, ${mib(afterSteady.rss_bytes)} after steady, ${mib(afterBurst.rss_bytes)} after burst, peak ${mib(afterBurst.max_rss_bytes)}`,
    );

    const checks: Array<[string, boolean, string]> = [
      [
        "steady: every request answered",
        steady.every((outcome) => outcome.status === 200),
        `${steady.filter((outcome) => outcome.status === 200).length}/${flags.requests}`,
      ],
      [
        "burst: answered or 429 + Retry-After",
        answered.length + refused.length === flags.burst && refused.every((outcome) => outcome.retryAfter !== null),
        `${answered.length} + ${refused.length}`,
      ],
      ["seeded outputs equal those without load", mismatched === 0, `${mismatched} differ`],
      [
        `requests/s >= ${TARGETS.minRequestsPerSecond}`,
        flags.requests / seconds >= TARGETS.minRequestsPerSecond,
        (flags.requests / seconds).toFixed(1),
      ],
      [
        `peak rss growth < ${TARGETS.maxRssGrowthMiB} MiB`,
        rssGrowthMiB < TARGETS.maxRssGrowthMiB,
        `${rssGrowthMiB.toFixed(1)} MiB`,
      ],
    ];
    console.log("");
    for (const [name, met, value] of checks) console.log(`${met ? "met   " : "MISSED"}  ${name.padEnd(42)} ${value}`);
    if (checks.some(([, met]) => !met)) process.exitCode = 1;
  } finally {
    await server.close();
  }
}

async function request(server: LocalServer, seed: number, maxTokens: number): Promise<Outcome> {
  const started = performance.now();
  const response = await fetch(`${server.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: server.model,
      messages: [{ role: "user", content: "Once upon a time" }],
      seed,
      temperature: 1,
      max_tokens: maxTokens,
    }),
  });
  const json = (await response.json()) as {
    choices?: Array<{ message: { content: string } }>;
    usage?: { completion_tokens: number };
  };
  return {
    seed,
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    content: json.choices?.[0]?.message.content ?? null,
    completionTokens: json.usage?.completion_tokens ?? 0,
    latencyMs: performance.now() - started,
  };
}

function percentile(sorted: readonly number[], share: number): string {
  const value = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))] ?? 0;
  return value.toFixed(0);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

main().catch((error: unknown) => {
  console.error(`bench:load: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
