// ggml CPU variants: forcing one through a copy of the binary package (never touching node_modules),
// the same texts in two server processes per variant, a fingerprint that does not depend on the
// machine's CPU in portable mode, and refusals that list what this CPU can run.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { openBackend } from "../src/backend";
import { runOnTwoConfigurations } from "../src/analysis/configurations";
import { describeSettings, loadSettings } from "../src/settings";
import {
  detectCpuFeatures,
  findBinaryPackage,
  listVariantsInFolder,
  prepareVariantPackage,
  resolveCpuVariant,
  runnableVariants,
  variantScore,
  type CpuFeatures,
} from "../src/local/cpu-variant";
import { computeFingerprint, type FingerprintInputs } from "../src/local/fingerprint";
import { startLocalServer, type LocalServer } from "../src/local/start";

const installedPackage = findBinaryPackage();
const thisCpu = detectCpuFeatures();
const cacheDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "seedlab-variants-"));
const savedCacheSetting = process.env.SEEDLAB_CACHE_DIR;

before(() => {
  // The server processes inherit this: their copies land in a temporary folder.
  process.env.SEEDLAB_CACHE_DIR = cacheDirectory;
});
after(() => {
  if (savedCacheSetting === undefined) delete process.env.SEEDLAB_CACHE_DIR;
  else process.env.SEEDLAB_CACHE_DIR = savedCacheSetting;
  fs.rmSync(cacheDirectory, { recursive: true, force: true });
});

/** /proc/cpuinfo as four kinds of x86-64 machines report it (only the flags line matters). */
const BASE_FLAGS =
  "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm";
const SIMULATED_CPUS: Record<string, string> = {
  "old x86-64 (SSE2 only)": `processor\t: 0\nflags\t\t: ${BASE_FLAGS}\n`,
  "AVX2 laptop (Haswell and later)": `processor\t: 0\nflags\t\t: ${BASE_FLAGS} ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2\n`,
  "AMD Zen 4 (AVX-512)": `processor\t: 0\nflags\t\t: ${BASE_FLAGS} ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 avx512f avx512dq avx512cd avx512bw avx512vl avx512vbmi avx512_vnni avx512_bf16\n`,
  "Intel Sapphire Rapids (AVX-512, AMX)": `processor\t: 0\nflags\t\t: ${BASE_FLAGS} ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 avx512f avx512dq avx512cd avx512bw avx512vl avx512vbmi avx512_vnni avx512_bf16 amx_tile amx_int8\n`,
};
const X86_VARIANTS = [
  "x64",
  "sse42",
  "sandybridge",
  "ivybridge",
  "piledriver",
  "haswell",
  "alderlake",
  "skylakex",
  "cannonlake",
  "cascadelake",
  "icelake",
  "cooperlake",
  "zen4",
  "sapphirerapids",
];

const MESSAGES = [
  { role: "system" as const, content: "You are a helpful assistant." },
  { role: "user" as const, content: "Generate a short excerpt of news about a journey to Mars." },
];
const SEEDS = [100, 101, 102, 103, 104, 105];

async function health(server: LocalServer): Promise<{
  cpu_variant: string;
  cpu_variant_setting: string;
  system_fingerprint: string;
  fingerprint_inputs: FingerprintInputs;
}> {
  const response = await fetch(server.url.replace(/\/v1$/, "/health"));
  return (await response.json()) as {
    cpu_variant: string;
    cpu_variant_setting: string;
    system_fingerprint: string;
    fingerprint_inputs: FingerprintInputs;
  };
}

/** Seeds 100-105 at temperature 0.7 plus one greedy request, 200 tokens each. */
async function seededTexts(server: LocalServer): Promise<string[]> {
  const client = new OpenAI({ apiKey: "local", baseURL: server.url, maxRetries: 0 });
  const texts: string[] = [];
  for (const request of [...SEEDS.map((seed) => ({ seed, temperature: 0.7 })), { seed: 1, temperature: 0 }]) {
    const response = await client.chat.completions.create({
      model: server.model,
      messages: MESSAGES,
      max_tokens: 200,
      ...request,
    });
    assert.equal(response.system_fingerprint, server.fingerprint);
    texts.push(response.choices[0]?.message.content ?? "");
  }
  return texts;
}

test(
  "the installed binary package lists its CPU variants, lowest ggml score first",
  { skip: installedPackage === null || process.arch !== "x64" },
  () => {
    const variants = installedPackage?.variants ?? [];
    assert.ok(variants.includes("x64") && variants.includes("haswell"), `variants: ${variants.join(", ")}`);
    for (const variant of variants) assert.ok(X86_VARIANTS.includes(variant), `${variant} is a known x86 variant`);
    const scores = variants.map((variant) => variantScore(variant) ?? Infinity);
    assert.deepEqual(
      scores,
      [...scores].sort((left, right) => left - right),
    );
  },
);

test("a build with one CPU backend (Windows arm64's ggml-cpu.dll) lists it as the only variant", () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "seedlab-single-"));
  try {
    for (const file of ["ggml-base.dll", "ggml-cpu.dll", "llama-addon.node"])
      fs.writeFileSync(path.join(folder, file), "");
    assert.deepEqual(listVariantsInFolder(folder), ["cpu"]);
    assert.deepEqual(resolveCpuVariant("portable", ["cpu"], { features: null, source: "test" }, "arm64").forced, "cpu");
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});

test("what each kind of CPU can run, and what auto and portable resolve to", () => {
  const outcomes = Object.entries(SIMULATED_CPUS).map(([name, cpuinfo]) => {
    const cpu = detectCpuFeatures(cpuinfo);
    return {
      name,
      runnable: runnableVariants(X86_VARIANTS, cpu).variants,
      auto: resolveCpuVariant("auto", X86_VARIANTS, cpu, "x64").expected,
      portable: resolveCpuVariant("portable", X86_VARIANTS, cpu, "x64").forced,
    };
  });
  assert.deepEqual(
    outcomes.map((outcome) => outcome.auto),
    ["x64", "haswell", "zen4", "sapphirerapids"],
  );
  assert.deepEqual(outcomes[1]?.runnable, ["x64", "sse42", "sandybridge", "ivybridge", "piledriver", "haswell"]);
  for (const outcome of outcomes) {
    assert.equal(outcome.portable, "x64", outcome.name);
    assert.ok(outcome.runnable.includes("x64"), outcome.name);
  }
});

test("a variant the CPU cannot run, or an unknown name, is refused with the variants it can run", () => {
  const laptop = detectCpuFeatures(SIMULATED_CPUS["AVX2 laptop (Haswell and later)"]);
  assert.throws(
    () => resolveCpuVariant("skylakex", X86_VARIANTS, laptop, "x64"),
    (error: Error) => {
      assert.match(error.message, /"skylakex" needs avx512/);
      assert.match(error.message, /x64, sse42, sandybridge, ivybridge, piledriver, haswell\./);
      return true;
    },
  );
  assert.throws(
    () => resolveCpuVariant("avx9000", X86_VARIANTS, laptop, "x64"),
    /got "avx9000"\. Use `portable`, `auto` or one of the variants this CPU can run: x64, sse42/,
  );
  // Unknown features (Windows): only what needs nothing is listed as sure, and a name is not refused up front.
  const unknown: CpuFeatures = { features: null, source: "not readable from Node on win32" };
  assert.deepEqual(runnableVariants(X86_VARIANTS, unknown), { variants: ["x64"], known: false });
  assert.equal(resolveCpuVariant("haswell", X86_VARIANTS, unknown, "x64").forced, "haswell");
});

test(
  "a variant's copy holds only its own CPU library and leaves node_modules untouched",
  { skip: installedPackage === null },
  () => {
    const binaryPackage = installedPackage!;
    const before = fs
      .readdirSync(binaryPackage.binsDirectory)
      .map((file) => `${file}:${fs.statSync(path.join(binaryPackage.binsDirectory, file)).mtimeMs}`);
    const copy = prepareVariantPackage(binaryPackage, "x64", cacheDirectory);
    assert.ok(!copy.startsWith(path.dirname(binaryPackage.directory)), "the copy lives outside node_modules");
    const copied = fs.readdirSync(path.join(copy, "bins", path.basename(binaryPackage.binsDirectory)));
    assert.deepEqual(
      copied.filter((file) => /ggml-cpu/.test(file)),
      [process.platform === "win32" ? "ggml-cpu-x64.dll" : "libggml-cpu-x64.so"],
    );
    assert.ok(copied.includes("llama-addon.node"));
    assert.equal(prepareVariantPackage(binaryPackage, "x64", cacheDirectory), copy, "an existing copy is reused");
    const after = fs
      .readdirSync(binaryPackage.binsDirectory)
      .map((file) => `${file}:${fs.statSync(path.join(binaryPackage.binsDirectory, file)).mtimeMs}`);
    assert.deepEqual(after, before);
  },
);

test(
  "an unavailable variant is refused before a server process starts, and by the settings",
  { skip: installedPackage === null },
  async () => {
    const runnable = runnableVariants(installedPackage!.variants, thisCpu);
    const listed = new RegExp(`can run: ${runnable.variants.join(", ")}`);
    await assert.rejects(startLocalServer({ cpuVariant: "avx9000" }), listed);
    assert.throws(
      () => loadSettings({ env: { SEEDLAB_CPU_VARIANT: "avx9000" }, envFile: "/nonexistent/.env" }),
      (error: Error & { name?: string }) => {
        assert.match(error.message, /SEEDLAB_CPU_VARIANT/);
        assert.match(error.message, listed);
        return true;
      },
    );
    const tooNew = installedPackage!.variants.find((variant) => !runnable.variants.includes(variant));
    if (tooNew !== undefined && runnable.known)
      await assert.rejects(
        startLocalServer({ cpuVariant: tooNew }),
        new RegExp(`"${tooNew}" needs .*which this CPU lacks.*${listed.source}`),
      );
  },
);

const autoExpected =
  installedPackage === null ? null : resolveCpuVariant("auto", installedPackage.variants, thisCpu).expected;
const FORCED = [
  "x64",
  "haswell",
  ...(autoExpected !== null && autoExpected !== "x64" && autoExpected !== "haswell" ? [autoExpected] : []),
].filter((variant) =>
  installedPackage === null ? false : runnableVariants(installedPackage.variants, thisCpu).variants.includes(variant),
);
const texts = new Map<string, string[]>();
const fingerprints = new Map<string, string>();

for (const variant of FORCED) {
  test(`forced variant ${variant}: the same texts and fingerprint in two separate server processes`, async (context) => {
    const first = await startLocalServer({ cpuVariant: variant });
    let firstTexts: string[];
    try {
      assert.equal(first.cpuVariant, variant);
      assert.equal((await health(first)).cpu_variant, variant, "the loaded library is the forced one");
      firstTexts = await seededTexts(first);
    } finally {
      await first.close();
    }
    const second = await startLocalServer({ cpuVariant: variant });
    try {
      assert.equal(second.fingerprint, first.fingerprint);
      assert.deepEqual(await seededTexts(second), firstTexts);
    } finally {
      await second.close();
    }
    texts.set(variant, firstTexts);
    fingerprints.set(variant, first.fingerprint);
    context.diagnostic(`${variant}: ${first.fingerprint}`);
  });
}

test(
  "auto loads the variant ggml's scoring picks for this CPU's features, recorded as that variant",
  { skip: autoExpected === null },
  async () => {
    const server = await startLocalServer({ cpuVariant: "auto" });
    try {
      const state = await health(server);
      assert.equal(state.cpu_variant, autoExpected);
      assert.equal(state.cpu_variant_setting, "auto");
      assert.equal(state.fingerprint_inputs.cpuVariant, autoExpected);
      // auto is recorded as what it resolved to: the same fingerprint as forcing that variant.
      if (fingerprints.has(autoExpected!)) assert.equal(server.fingerprint, fingerprints.get(autoExpected!));
    } finally {
      await server.close();
    }
  },
);

test("different variants have different fingerprints", (context) => {
  if (fingerprints.size < 2) return context.skip("fewer than two variants ran");
  assert.equal(new Set(fingerprints.values()).size, fingerprints.size);
  const x64 = texts.get("x64");
  for (const [variant, variantTexts] of texts) {
    if (variant === "x64" || x64 === undefined) continue;
    context.diagnostic(
      `${variant} vs x64: ${variantTexts.filter((text, index) => text !== x64[index]).length} of ${x64.length} texts differ`,
    );
  }
});

test(
  "portable: the same fingerprint whatever CPU features the machine reports; auto: not",
  { skip: installedPackage === null || process.arch !== "x64" },
  async () => {
    const server = await startLocalServer({ cpuVariant: "portable" });
    let inputs: FingerprintInputs;
    try {
      const state = await health(server);
      inputs = state.fingerprint_inputs;
      assert.equal(computeFingerprint(inputs), server.fingerprint, "/health lists every input of the fingerprint");
    } finally {
      await server.close();
    }
    // The only input that depends on the machine's CPU is the variant, resolved from its features.
    const fingerprintOn = (setting: string, cpuinfo: string) => {
      const resolved = resolveCpuVariant(setting, X86_VARIANTS, detectCpuFeatures(cpuinfo), "x64");
      return computeFingerprint({ ...inputs, cpuVariant: resolved.forced ?? resolved.expected ?? "unknown" });
    };
    const portable = Object.values(SIMULATED_CPUS).map((cpuinfo) => fingerprintOn("portable", cpuinfo));
    assert.deepEqual(new Set(portable), new Set([server.fingerprint]));
    const auto = Object.values(SIMULATED_CPUS).map((cpuinfo) => fingerprintOn("auto", cpuinfo));
    assert.equal(new Set(auto).size, Object.keys(SIMULATED_CPUS).length);
    assert.ok(
      !Object.keys(inputs).some((key) => /feature|systemInfo|flags/i.test(key)),
      `no CPU feature string among ${Object.keys(inputs).join(", ")}`,
    );
  },
);

test(
  "runOnTwoConfigurations: the open backend (auto) and a second server on another CPU variant (portable)",
  { skip: installedPackage === null || process.arch !== "x64" || autoExpected === null },
  async () => {
    const settings = loadSettings({ env: { SEEDLAB_BACKEND: "local" }, envFile: "/nonexistent/.env" });
    const backend = await openBackend(settings);
    try {
      const requests = [100, 101, 102].map((seed) => ({
        model: backend.model,
        messages: MESSAGES,
        seed,
        temperature: 0.7,
        max_tokens: 120,
      }));
      const result = await runOnTwoConfigurations({
        backend,
        settings,
        second: { cpuVariant: "portable" },
        requests,
        labels: [`auto (${autoExpected})`, "portable (x64)"],
      });
      const fingerprintsOf = (runs: Array<{ systemFingerprint?: string | null }>) => [
        ...new Set(runs.map((run) => run.systemFingerprint)),
      ];
      assert.equal(result.first.runs.length, 3);
      if (fingerprints.has(autoExpected!))
        assert.deepEqual(fingerprintsOf(result.first.runs), [fingerprints.get(autoExpected!)]);
      if (fingerprints.has("x64")) assert.deepEqual(fingerprintsOf(result.second.runs), [fingerprints.get("x64")]);
      for (const position of result.changedRequests)
        assert.notEqual(result.first.runs[position]?.content, result.second.runs[position]?.content);
    } finally {
      await backend.close();
    }
  },
);

test(
  "the settings display shows the setting and the variant it resolves to here",
  { skip: installedPackage === null || process.arch !== "x64" },
  () => {
    const shown = (env: Record<string, string>) =>
      describeSettings(loadSettings({ env, envFile: "/nonexistent/.env" })).SEEDLAB_CPU_VARIANT;
    assert.equal(shown({}), autoExpected === null ? "auto (default)" : `auto → ${autoExpected} (default)`);
    assert.equal(
      shown({ SEEDLAB_CPU_VARIANT: "AUTO" }),
      autoExpected === null ? "auto (from environment)" : `auto → ${autoExpected} (from environment)`,
    );
    assert.equal(shown({ SEEDLAB_CPU_VARIANT: "x64" }), "x64 (from environment)");
  },
);
