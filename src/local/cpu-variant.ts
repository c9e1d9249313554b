/**
 * Which ggml CPU backend variant the local engine runs, and a way to force one.
 *
 * node-llama-cpp's prebuilt binary package (e.g. `@node-llama-cpp/linux-x64`) holds one
 * `libggml-cpu-<variant>` library per instruction set (x64, sse42, ..., haswell, skylakex, ..., zen4).
 * At start its addon asks llama.cpp's `ggml_backend_load_all_from_path(<the addon's folder>)`, which
 * loads every `[lib]ggml-cpu-*.{so,dll}` of that folder, asks each for its score
 * (`ggml_backend_score`: 0 when the CPU lacks a feature it was compiled for) and keeps the best. There
 * is no option or environment variable to choose one (`GGML_BACKEND_PATH` only adds a backend).
 *
 * Different variants sum floats in a different order, so one seed can give a different text on an
 * AVX2 laptop and on an AVX-512 one. To force a variant without touching `node_modules`, this module
 * copies the binary package into a cache folder outside the project, with only the chosen
 * `ggml-cpu-<variant>` library next to the addon, and registers a Node module resolve hook
 * (`module.register`, Node >= 20.6) that points node-llama-cpp's `import("@node-llama-cpp/<platform>")`
 * at the copy. The addon then loads from the copy, and llama.cpp finds one CPU variant only.
 * The copy works the same on Linux, macOS and Windows (the addon finds its libraries next to itself:
 * `$ORIGIN` / `@loader_path` / the DLL's folder).
 *
 * Variants per prebuilt package of node-llama-cpp 3.21.1 (from the npm package file lists):
 * linux-x64, mac-x64 and win-x64: the 14 x86 variants below; linux-arm64: armv8.0_1 ... armv9.2_2;
 * mac-arm64-metal: apple_m1, apple_m2_m3, apple_m4; win-arm64: one `ggml-cpu.dll`, no variants.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";

/** The setting: `portable`, `auto`, or a variant's name (e.g. `haswell`). */
export type CpuVariantSetting = string;

/** The settings that are not variant names. */
export const CPU_VARIANT_MODES = ["portable", "auto"] as const;

/**
 * The features each variant was compiled for, as llama.cpp's CMake lists them
 * (ggml/src/CMakeLists.txt, GGML_CPU_ALL_VARIANTS), and the score bit each adds in its
 * `ggml_backend_score` (ggml-cpu/arch/x86/cpu-feats.cpp, arch/arm/cpu-feats.cpp). `avx512` stands for
 * AVX512F + CD + VL + DQ + BW, as ggml checks them together.
 */
const VARIANT_FEATURES: Record<string, readonly string[]> = {
  x64: [],
  sse42: ["sse42"],
  sandybridge: ["sse42", "avx"],
  ivybridge: ["sse42", "avx", "f16c"],
  piledriver: ["sse42", "avx", "f16c", "fma"],
  haswell: ["sse42", "avx", "f16c", "fma", "avx2", "bmi2"],
  alderlake: ["sse42", "avx", "f16c", "fma", "avx2", "bmi2", "avx_vnni"],
  skylakex: ["sse42", "avx", "f16c", "fma", "avx2", "bmi2", "avx512"],
  cannonlake: ["sse42", "avx", "f16c", "fma", "avx2", "bmi2", "avx512", "avx512_vbmi"],
  cascadelake: ["sse42", "avx", "f16c", "fma", "avx2", "bmi2", "avx512", "avx512_vnni"],
  icelake: ["sse42", "avx", "f16c", "fma", "avx2", "bmi2", "avx512", "avx512_vbmi", "avx512_vnni"],
  cooperlake: ["sse42", "avx", "f16c", "fma", "avx2", "bmi2", "avx512", "avx512_vnni", "avx512_bf16"],
  zen4: ["sse42", "avx", "f16c", "fma", "avx2", "bmi2", "avx512", "avx512_vbmi", "avx512_vnni", "avx512_bf16"],
  sapphirerapids: [
    "sse42",
    "avx",
    "f16c",
    "fma",
    "avx2",
    "bmi2",
    "avx512",
    "avx512_vbmi",
    "avx512_vnni",
    "avx512_bf16",
    "amx_int8",
  ],
  "armv8.0_1": [],
  "armv8.2_1": ["dotprod"],
  "armv8.2_2": ["dotprod", "fp16"],
  "armv8.2_3": ["dotprod", "fp16", "sve"],
  "armv8.6_1": ["dotprod", "fp16", "sve", "i8mm"],
  "armv8.6_2": ["dotprod", "fp16", "sve", "i8mm", "sve2"],
  "armv9.2_1": ["dotprod", "fp16", "sve", "i8mm", "sme"],
  "armv9.2_2": ["dotprod", "fp16", "sve", "i8mm", "sve2", "sme"],
  apple_m1: ["dotprod"],
  apple_m2_m3: ["dotprod", "i8mm"],
  apple_m4: ["dotprod", "i8mm", "sme"],
};

const FEATURE_SCORE_BITS: Record<string, number> = {
  fma: 1,
  f16c: 2,
  sse42: 4,
  bmi2: 8,
  avx: 16,
  avx2: 32,
  avx_vnni: 64,
  avx512: 128,
  avx512_vbmi: 256,
  avx512_bf16: 512,
  avx512_vnni: 1024,
  amx_int8: 2048,
  dotprod: 2,
  fp16: 4,
  sve: 8,
  i8mm: 16,
  sve2: 32,
  sme: 64,
};

/**
 * The variant every CPU of an architecture runs: it needs no optional instruction set. Chosen by
 * measurement for the workshop default (see the README): on x86-64 `x64` is the only variant that
 * runs everywhere.
 */
const PORTABLE_VARIANT_BY_ARCH: Record<string, readonly string[]> = { x64: ["x64"], arm64: ["armv8.0_1", "apple_m1"] };

/** The name of the library a single-backend package ships (`ggml-cpu.dll` on Windows arm64). */
export const SINGLE_CPU_BACKEND = "cpu";

/** node-llama-cpp's prebuilt binary package for this platform, as installed. */
export interface BinaryPackage {
  /** e.g. `@node-llama-cpp/linux-x64`. */
  name: string;
  version: string;
  /** The package's folder. */
  directory: string;
  /** The folder holding `llama-addon.node` and the backend libraries. */
  binsDirectory: string;
  /** The CPU variants it ships, lowest ggml score first; `["cpu"]` when it ships one CPU backend without variants. */
  variants: string[];
}

/** What is known of this CPU's instruction sets. */
export interface CpuFeatures {
  /** The instruction set names used by `VARIANT_FEATURES` (e.g. `avx2`, `avx512`), or null when they cannot be read here. */
  features: string[] | null;
  /** Where they were read: `/proc/cpuinfo`, `sysctl`, or why not. */
  source: string;
}

/** A resolved setting. */
export interface ResolvedCpuVariant {
  /** The setting as given (`portable`, `auto` or a name). */
  setting: string;
  /** The variant to force, or null for `auto` (llama.cpp picks; the engine records what it loaded). */
  forced: string | null;
  /** The variant `auto` is expected to load (by ggml's scoring on the known features), else null. */
  expected: string | null;
}

/**
 * Finds node-llama-cpp's prebuilt binary package for this platform and lists its CPU variants.
 * @param platform - `process.platform` by default.
 * @param arch - `process.arch` by default.
 * @returns the package, or null when it is not installed.
 */
export function findBinaryPackage(
  platform: string = process.platform,
  arch: string = process.arch,
): BinaryPackage | null {
  const folder = binaryFolderName(platform, arch);
  if (folder === null) return null;
  const name = `@node-llama-cpp/${folder}`;
  // Node's resolution from node-llama-cpp's own folder: its node_modules, then each parent's.
  let from = nodeLlamaCppDirectory();
  for (;;) {
    const candidate = path.join(from, "node_modules", ...name.split("/"));
    if (fs.existsSync(path.join(candidate, "package.json"))) {
      const version = (JSON.parse(fs.readFileSync(path.join(candidate, "package.json"), "utf8")) as { version: string })
        .version;
      const binsDirectory = path.join(candidate, "bins", folder);
      return { name, version, directory: candidate, binsDirectory, variants: listVariantsInFolder(binsDirectory) };
    }
    const parent = path.dirname(from);
    if (parent === from) return null;
    from = parent;
  }
}

/**
 * The CPU variants in a binary folder, lowest ggml score first (unknown names last, by name).
 * @param binsDirectory - a folder holding `[lib]ggml-cpu-<variant>.{so,dll}` files.
 * @returns their names; `["cpu"]` when the folder has one `[lib]ggml-cpu.{so,dll}` only; `[]` when none.
 */
export function listVariantsInFolder(binsDirectory: string): string[] {
  const files = fs.existsSync(binsDirectory) ? fs.readdirSync(binsDirectory) : [];
  const variants = files
    .map((file) => /^(?:lib)?ggml-cpu-(.+)\.(?:so|dll)$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined);
  if (variants.length === 0)
    return files.some((file) => /^(?:lib)?ggml-cpu\.(?:so|dll)$/.test(file)) ? [SINGLE_CPU_BACKEND] : [];
  return variants.sort(
    (left, right) => (variantScore(left) ?? Infinity) - (variantScore(right) ?? Infinity) || (left < right ? -1 : 1),
  );
}

/**
 * The score llama.cpp's `ggml_backend_score` gives a variant on a CPU with every feature it needs.
 * @param variant - a variant name.
 * @returns the score, or null for a name this module does not know.
 */
export function variantScore(variant: string): number | null {
  const features = VARIANT_FEATURES[variant];
  if (features === undefined) return null;
  return features.reduce((score, feature) => score + (FEATURE_SCORE_BITS[feature] ?? 0), 1);
}

/**
 * The instruction sets a variant needs.
 * @param variant - a variant name.
 * @returns its features, or null for a name this module does not know.
 */
export function variantFeatures(variant: string): readonly string[] | null {
  return VARIANT_FEATURES[variant] ?? null;
}

/**
 * Reads this CPU's instruction sets: `/proc/cpuinfo` on Linux, `sysctl` on macOS. Windows offers no
 * way from Node: there the features are unknown (null) and llama.cpp's own check decides.
 * @param cpuinfo - the text of `/proc/cpuinfo` (for tests); read from the system when omitted.
 * @returns the features in `VARIANT_FEATURES`' names and where they came from.
 */
export function detectCpuFeatures(cpuinfo?: string): CpuFeatures {
  if (cpuinfo !== undefined || process.platform === "linux") {
    let text = cpuinfo;
    try {
      text ??= fs.readFileSync("/proc/cpuinfo", "utf8");
    } catch (error) {
      return { features: null, source: `/proc/cpuinfo unreadable (${(error as Error).message})` };
    }
    const flagsLine = /^(?:flags|Features)\s*:(.*)$/m.exec(text)?.[1];
    if (flagsLine === undefined) return { features: null, source: "/proc/cpuinfo has no flags line" };
    return { features: featuresFromFlags(flagsLine.trim().split(/\s+/)), source: "/proc/cpuinfo" };
  }
  if (process.platform === "darwin") {
    try {
      if (process.arch === "arm64") {
        const read = (key: string) => execFileSync("sysctl", ["-n", key], { encoding: "utf8" }).trim() === "1";
        const flags = [
          ["hw.optional.arm.FEAT_DotProd", "asimddp"],
          ["hw.optional.arm.FEAT_I8MM", "i8mm"],
          ["hw.optional.arm.FEAT_SME", "sme"],
          ["hw.optional.arm.FEAT_FP16", "asimdhp"],
        ]
          .filter(([key]) => {
            try {
              return read(key as string);
            } catch {
              return false;
            }
          })
          .map(([, flag]) => flag as string);
        return { features: featuresFromFlags(flags), source: "sysctl hw.optional.arm" };
      }
      const text = execFileSync("sysctl", ["-n", "machdep.cpu.features", "machdep.cpu.leaf7_features"], {
        encoding: "utf8",
      });
      const macNames: Record<string, string> = {
        "SSE4.2": "sse4_2",
        "AVX1.0": "avx",
        F16C: "f16c",
        FMA: "fma",
        AVX2: "avx2",
        BMI2: "bmi2",
        AVX512F: "avx512f",
        AVX512CD: "avx512cd",
        AVX512VL: "avx512vl",
        AVX512DQ: "avx512dq",
        AVX512BW: "avx512bw",
        AVX512VBMI: "avx512vbmi",
        AVX512VNNI: "avx512_vnni",
      };
      return {
        features: featuresFromFlags(text.split(/\s+/).map((flag) => macNames[flag] ?? flag.toLowerCase())),
        source: "sysctl machdep.cpu",
      };
    } catch (error) {
      return { features: null, source: `sysctl failed (${(error as Error).message})` };
    }
  }
  return { features: null, source: `not readable from Node on ${process.platform}` };
}

/** Maps Linux `/proc/cpuinfo` flags (x86 `flags`, arm64 `Features`) to `VARIANT_FEATURES`' names. */
function featuresFromFlags(flags: readonly string[]): string[] {
  const has = new Set(flags);
  const features: string[] = [];
  const direct: Array<[string, string]> = [
    ["sse4_2", "sse42"],
    ["avx", "avx"],
    ["f16c", "f16c"],
    ["fma", "fma"],
    ["avx2", "avx2"],
    ["bmi2", "bmi2"],
    ["avx_vnni", "avx_vnni"],
    ["avx512vbmi", "avx512_vbmi"],
    ["avx512_vnni", "avx512_vnni"],
    ["avx512_bf16", "avx512_bf16"],
    ["amx_int8", "amx_int8"],
    ["asimddp", "dotprod"],
    ["asimdhp", "fp16"],
    ["sve", "sve"],
    ["i8mm", "i8mm"],
    ["sve2", "sve2"],
    ["sme", "sme"],
  ];
  for (const [flag, feature] of direct) if (has.has(flag)) features.push(feature);
  if (["avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"].every((flag) => has.has(flag)))
    features.push("avx512");
  return features;
}

/**
 * The installed variants this CPU can run, by ggml's own rule (every feature the variant was compiled for).
 * @param installed - the package's variants (`BinaryPackage.variants`).
 * @param cpu - this CPU's features (`detectCpuFeatures()`).
 * @returns the runnable variants (lowest score first) and whether that is known; when the features are
 * unknown, only the variants that need no optional feature are listed as surely runnable.
 */
export function runnableVariants(
  installed: readonly string[],
  cpu: CpuFeatures,
): { variants: string[]; known: boolean } {
  if (cpu.features === null)
    return {
      variants: installed.filter((variant) => variant === SINGLE_CPU_BACKEND || variantFeatures(variant)?.length === 0),
      known: false,
    };
  const has = new Set(cpu.features);
  return {
    variants: installed.filter((variant) => {
      if (variant === SINGLE_CPU_BACKEND) return true;
      const needs = variantFeatures(variant);
      return needs !== null && needs.every((feature) => has.has(feature));
    }),
    known: true,
  };
}

/**
 * The variant every CPU of this architecture runs, among the installed ones.
 * @param installed - the package's variants.
 * @param arch - `process.arch` by default.
 * @returns its name, or null when the package has none of them.
 */
export function portableVariant(installed: readonly string[], arch: string = process.arch): string | null {
  if (installed.length === 1 && installed[0] === SINGLE_CPU_BACKEND) return SINGLE_CPU_BACKEND;
  return (PORTABLE_VARIANT_BY_ARCH[arch] ?? []).find((variant) => installed.includes(variant)) ?? null;
}

/**
 * Resolves a `SEEDLAB_CPU_VARIANT` / `--cpu-variant` setting against the installed variants and this CPU.
 * @param setting - `portable`, `auto` or a variant name.
 * @param installed - the package's variants (`findBinaryPackage()?.variants`).
 * @param cpu - this CPU's features (`detectCpuFeatures()`).
 * @param arch - `process.arch` by default.
 * @returns the variant to force (null for `auto`) and, for `auto`, the one llama.cpp should pick.
 * @throws Error naming the setting and the variants this CPU can run, when the name is unknown, not
 * installed or needs an instruction set this CPU lacks.
 */
export function resolveCpuVariant(
  givenSetting: CpuVariantSetting,
  installed: readonly string[],
  cpu: CpuFeatures,
  arch: string = process.arch,
): ResolvedCpuVariant {
  const setting = typeof givenSetting === "string" ? givenSetting.trim().toLowerCase() : givenSetting;
  const runnable = runnableVariants(installed, cpu);
  const choices = `Use \`portable\`, \`auto\` or one of the variants this CPU can run: ${runnable.variants.join(", ") || "(none found)"}${runnable.known ? "" : ` (this CPU's instruction sets are ${cpu.source}: others may run too)`}.`;
  const best = runnable.known ? (runnable.variants[runnable.variants.length - 1] ?? null) : null;
  if (setting === "auto") return { setting, forced: null, expected: best };
  if (setting === "portable") {
    const portable = portableVariant(installed, arch);
    if (portable === null)
      throw new Error(
        `Expected a CPU variant that every ${arch} CPU runs in the installed engine, found none among ${installed.join(", ") || "(none)"}. Use \`auto\`.`,
      );
    return { setting, forced: portable, expected: portable };
  }
  if (typeof setting !== "string" || !installed.includes(setting)) {
    throw new Error(
      `Expected \`SEEDLAB_CPU_VARIANT\` / \`--cpu-variant\` to be portable, auto or an installed CPU variant, got ${JSON.stringify(setting)}. ${choices}`,
    );
  }
  const needs = variantFeatures(setting) ?? [];
  if (runnable.known && !runnable.variants.includes(setting)) {
    const has = new Set(cpu.features ?? []);
    const missing = needs.filter((feature) => !has.has(feature));
    throw new Error(
      `The CPU variant ${JSON.stringify(setting)} needs ${missing.join(", ")}, which this CPU lacks (read from ${cpu.source}). ${choices}`,
    );
  }
  return { setting, forced: setting, expected: setting };
}

/**
 * Copies the binary package into `cacheDirectory` with only one CPU variant, unless an identical copy
 * is there already. Copies are never changed once made: a new package version or file gets a new folder.
 * @param binaryPackage - the installed package (`findBinaryPackage()`).
 * @param variant - the variant to keep (one of `binaryPackage.variants`).
 * @param cacheDirectory - where copies live (`defaultCacheDirectory()` by default).
 * @returns the copy's package folder (its `dist/index.js` is what node-llama-cpp imports).
 */
export function prepareVariantPackage(
  binaryPackage: BinaryPackage,
  variant: string,
  cacheDirectory: string = defaultCacheDirectory(),
): string {
  if (!binaryPackage.variants.includes(variant)) {
    throw new Error(
      `Expected a CPU variant of ${binaryPackage.name}@${binaryPackage.version}, got ${JSON.stringify(variant)}. It has: ${binaryPackage.variants.join(", ")}.`,
    );
  }
  const folder = path.basename(binaryPackage.binsDirectory);
  const isOtherVariant = (file: string) => {
    const match = /^(?:lib)?ggml-cpu(?:-(.+))?\.(?:so|dll)$/.exec(file);
    return match !== null && (match[1] ?? SINGLE_CPU_BACKEND) !== variant;
  };
  const files: Array<{ from: string; to: string }> = [
    { from: path.join(binaryPackage.directory, "package.json"), to: "package.json" },
    { from: path.join(binaryPackage.directory, "dist", "index.js"), to: path.join("dist", "index.js") },
    ...fs
      .readdirSync(binaryPackage.binsDirectory)
      .filter((file) => !isOtherVariant(file) && fs.statSync(path.join(binaryPackage.binsDirectory, file)).isFile())
      .map((file) => ({ from: path.join(binaryPackage.binsDirectory, file), to: path.join("bins", folder, file) })),
  ];
  const identity = createHash("sha256");
  for (const file of files) {
    const stat = fs.statSync(file.from);
    identity.update(`${file.to}\0${stat.size}\0${stat.mtimeMs}\n`);
  }
  const target = path.join(
    cacheDirectory,
    "cpu-variants",
    `${folder}@${binaryPackage.version}`,
    `${variant}-${identity.digest("hex").slice(0, 10)}`,
  );
  const marker = path.join(target, "seedlab-variant.json");
  if (fs.existsSync(marker)) return target;

  const staging = `${target}.tmp-${process.pid}-${Date.now()}`;
  fs.rmSync(staging, { recursive: true, force: true });
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(staging, file.to)), { recursive: true });
    fs.copyFileSync(file.from, path.join(staging, file.to));
  }
  fs.writeFileSync(
    path.join(staging, "seedlab-variant.json"),
    JSON.stringify(
      { package: binaryPackage.name, version: binaryPackage.version, variant, source: binaryPackage.directory },
      null,
      2,
    ) + "\n",
  );
  try {
    fs.renameSync(staging, target);
  } catch (error) {
    // Another process made the same copy first: use it.
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(marker)) throw error;
  }
  return target;
}

/**
 * Where variant copies are kept: `SEEDLAB_CACHE_DIR` if set, else the user's cache folder
 * (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows) + `/seedlab`.
 * @returns an absolute path.
 */
export function defaultCacheDirectory(): string {
  const explicit = process.env.SEEDLAB_CACHE_DIR;
  if (explicit !== undefined && explicit !== "") return path.resolve(explicit);
  if (process.platform === "win32")
    return path.join(process.env.LOCALAPPDATA ?? path.join(os.homedir(), "AppData", "Local"), "seedlab", "Cache");
  if (process.platform === "darwin") return path.join(os.homedir(), "Library", "Caches", "seedlab");
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "seedlab");
}

let redirectedTo: string | null = null;

/**
 * Makes this process's next `import("@node-llama-cpp/<platform>")` load the given copy instead of the
 * installed package (a Node module resolve hook). Call it before node-llama-cpp loads its binary;
 * one redirect per process.
 * @param packageName - e.g. `@node-llama-cpp/linux-x64`.
 * @param copyDirectory - a folder made by `prepareVariantPackage`.
 * @throws Error when this process already redirected to another copy.
 */
export function redirectBinaryPackage(packageName: string, copyDirectory: string): void {
  if (redirectedTo === copyDirectory) return;
  if (redirectedTo !== null)
    throw new Error(
      `This process already loads node-llama-cpp's binary from ${redirectedTo}; start another process for another CPU variant.`,
    );
  const url = pathToFileURL(path.join(copyDirectory, "dist", "index.js")).href;
  const hooks = `export async function resolve(specifier, context, nextResolve) {
  if (specifier === ${JSON.stringify(packageName)}) return { url: ${JSON.stringify(url)}, shortCircuit: true };
  return nextResolve(specifier, context);
}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeModule = require("module") as typeof import("module");
  nodeModule.register(`data:text/javascript,${encodeURIComponent(hooks)}`);
  redirectedTo = copyDirectory;
}

/**
 * The ggml CPU variant this process has loaded, from Node's diagnostic report of loaded shared
 * libraries (works on Linux, macOS and Windows).
 * @returns the variant's name, `cpu` for a single-backend build, or null when none is loaded.
 */
export function loadedCpuVariant(): string | null {
  const report = process.report?.getReport() as { sharedObjects?: string[] } | undefined;
  for (const file of report?.sharedObjects ?? []) {
    const match = /(?:^|[\\/])(?:lib)?ggml-cpu(?:-([^\\/]+?))?\.(?:so|dll)$/.exec(file);
    if (match !== null) return match[1] ?? SINGLE_CPU_BACKEND;
  }
  return null;
}

/** The CPU variants of this machine's local engine. */
export interface CpuVariantsHere {
  /** What the installed engine ships, lowest score first (`["cpu"]`: one CPU library, nothing to choose). */
  installed: string[];
  /** What this CPU can run (when its instruction sets cannot be read, only what needs none). */
  runnable: string[];
  /** Whether `runnable` is complete (false where Node cannot read the CPU's instruction sets, e.g. Windows). */
  known: boolean;
  /** Where the CPU's instruction sets were read. */
  source: string;
  /** What `portable` and `auto` resolve to here (`auto`: null when it cannot be predicted). */
  portable: string | null;
  auto: string | null;
}

/**
 * Lists the CPU variants of the local engine and what this machine can run (safe in a notebook kernel:
 * node-llama-cpp is not loaded).
 * @returns see `CpuVariantsHere`.
 * @throws Error when node-llama-cpp's binary package for this platform is not installed.
 */
export function cpuVariantsHere(): CpuVariantsHere {
  const binaryPackage = findBinaryPackage();
  if (binaryPackage === null)
    throw new Error(
      `Expected node-llama-cpp's prebuilt binary package for ${process.platform}-${process.arch}, found none. Run \`npm ci\` from the project root.`,
    );
  const cpu = detectCpuFeatures();
  const runnable = runnableVariants(binaryPackage.variants, cpu);
  let portable: string | null;
  try {
    portable = resolveCpuVariant("portable", binaryPackage.variants, cpu).forced;
  } catch {
    portable = null;
  }
  return {
    installed: binaryPackage.variants,
    runnable: runnable.variants,
    known: runnable.known,
    source: cpu.source,
    portable,
    auto: resolveCpuVariant("auto", binaryPackage.variants, cpu).expected,
  };
}

/** The setting used when none is given: see the README ("Settings") for why. */
export const DEFAULT_CPU_VARIANT = "auto";

/** A setting applied in this process, before node-llama-cpp loads. */
export interface CpuVariantChoice extends ResolvedCpuVariant {
  /** The binary package, as `name@version` (part of the fingerprint: each platform's build is compiled apart). */
  binaries: string;
}

/**
 * Applies a CPU variant setting to this process: resolves it, and for a forced variant prepares the
 * copy of the binary package and redirects node-llama-cpp to it. Call before node-llama-cpp loads.
 * @param setting - `portable`, `auto` or a variant name (default `DEFAULT_CPU_VARIANT`).
 * @param cacheDirectory - where copies live (`defaultCacheDirectory()` by default).
 * @returns the resolved choice; after `getLlama`, pass it to `confirmCpuVariant`.
 * @throws Error naming the setting and the variants this CPU can run (see `resolveCpuVariant`), or
 * when node-llama-cpp's binary package for this platform is not installed.
 */
export function applyCpuVariant(
  setting: CpuVariantSetting = DEFAULT_CPU_VARIANT,
  cacheDirectory?: string,
): CpuVariantChoice {
  const binaryPackage = findBinaryPackage();
  if (binaryPackage === null) {
    throw new Error(
      `Expected node-llama-cpp's prebuilt binary package for ${process.platform}-${process.arch} in node_modules, found none. Run \`npm ci\` again from the project root.`,
    );
  }
  const resolved = resolveCpuVariant(setting, binaryPackage.variants, detectCpuFeatures());
  // One CPU backend only (Windows arm64): nothing to choose, nothing to copy.
  const forced = resolved.forced !== null && binaryPackage.variants.length > 1 ? resolved.forced : null;
  if (forced !== null)
    redirectBinaryPackage(binaryPackage.name, prepareVariantPackage(binaryPackage, forced, cacheDirectory));
  return { ...resolved, forced, binaries: `${binaryPackage.name}@${binaryPackage.version}` };
}

/**
 * Checks, once node-llama-cpp has loaded, that the forced variant is the one running.
 * @param choice - from `applyCpuVariant`.
 * @returns the variant llama.cpp loaded (what `auto` resolved to).
 * @throws Error when a forced variant is not the one loaded, or no CPU backend is loaded.
 */
export function confirmCpuVariant(choice: CpuVariantChoice): string {
  const loaded = loadedCpuVariant();
  if (loaded === null) throw new Error("llama.cpp loaded no ggml CPU backend library.");
  if (choice.forced !== null && loaded !== choice.forced) {
    throw new Error(
      `Expected llama.cpp to load the CPU variant ${JSON.stringify(choice.forced)}, but it loaded ${JSON.stringify(loaded)}. Was node-llama-cpp loaded earlier in this process? Start a new process.`,
    );
  }
  return loaded;
}

/**
 * Explains a failure to load node-llama-cpp's binary with a forced variant (the binary test fails
 * when the CPU lacks an instruction set the variant needs).
 * @param choice - from `applyCpuVariant`.
 * @returns a sentence to add to the error, or "" when no variant was forced.
 */
export function describeVariantLoadFailure(choice: CpuVariantChoice): string {
  if (choice.forced === null) return "";
  const needs = variantFeatures(choice.forced);
  return ` The CPU variant ${JSON.stringify(choice.forced)} (setting ${JSON.stringify(choice.setting)}) was forced${needs !== null && needs.length > 0 ? `; it needs ${needs.join(", ")}` : ""}: try \`--cpu-variant portable\` or \`auto\`.`;
}

function binaryFolderName(platform: string, arch: string): string | null {
  const names: Record<string, string> = {
    "linux-x64": "linux-x64",
    "linux-arm64": "linux-arm64",
    "darwin-x64": "mac-x64",
    "darwin-arm64": "mac-arm64-metal",
    "win32-x64": "win-x64",
    "win32-arm64": "win-arm64",
  };
  return names[`${platform}-${arch}`] ?? null;
}

function nodeLlamaCppDirectory(): string {
  return path.resolve(path.dirname(require.resolve("node-llama-cpp")), "..");
}
