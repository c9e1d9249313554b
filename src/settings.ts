/**
 * Settings from the environment and a `.env` file (read with dotenv; real environment variables
 * win). Every setting is validated when loaded: a bad one throws an error naming it, showing its
 * value (never the API key's) and saying how to fix it.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "dotenv";
import { DEFAULT_CONCURRENCY, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS } from "./core/constants";
import { BACKEND_KINDS, validateBackendKind, validateBaseURL, type BackendKind } from "./core/validate";
import { InvalidParameterError, ShownAs, formatValue, invalidParameter } from "./core/errors";
import { DEFAULT_CPU_VARIANT, detectCpuFeatures, findBinaryPackage, resolveCpuVariant } from "./local/cpu-variant";

/** The default OpenAI model: a current one that accepts `seed` and `temperature`. */
export const DEFAULT_OPENAI_MODEL = "gpt-4o-mini";
/** The id the embedded local server serves by default (the GGUF file name without `.gguf`). */
export const DEFAULT_LOCAL_MODEL = "stories260K";
/** The OpenAI API base URL used for the `openai` backend. */
export const OPENAI_API_BASE_URL = "https://api.openai.com/v1";

/** The environment variables seedlab reads. */
export const SETTING_NAMES = [
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "SEEDLAB_BACKEND",
  "SEEDLAB_MODEL",
  "SEEDLAB_MODEL_PATH",
  "SEEDLAB_CPU_VARIANT",
  "SEEDLAB_TIMEOUT_MS",
  "SEEDLAB_MAX_RETRIES",
  "SEEDLAB_CONCURRENCY",
] as const;
/** One of {@link SETTING_NAMES}. */
export type SettingName = (typeof SETTING_NAMES)[number];
/** Where a setting's value came from. */
export type SettingSource = "environment" | ".env" | "default";

/** Validated settings. Holds the API key: show it only through {@link describeSettings}. */
export interface Settings {
  /** `SEEDLAB_BACKEND`; default `compatible` when `OPENAI_BASE_URL` is set, else `openai` when `OPENAI_API_KEY` is set, else `local`. */
  backend: BackendKind;
  /** `OPENAI_API_KEY`; null when not set. */
  apiKey: string | null;
  /** `OPENAI_BASE_URL`; for `openai` the OpenAI API URL; null for `local` (the server picks a port). */
  baseURL: string | null;
  /**
   * `SEEDLAB_MODEL`; default `gpt-4o-mini` (openai) or `stories260K` (local). Null for `compatible` when
   * not set: `openBackend` then asks the server's `GET /v1/models` and uses the one model it serves.
   */
  model: string | null;
  /** `SEEDLAB_MODEL_PATH`: the GGUF file for `local`; null = the default search (see src/local/model-path.ts). */
  modelPath: string | null;
  /** `SEEDLAB_CPU_VARIANT`: the local model's ggml CPU variant, `auto` (default), `portable` or a name such as `haswell`. */
  cpuVariant: string;
  /** `SEEDLAB_TIMEOUT_MS`: per-attempt timeout in milliseconds (default 60000). */
  timeoutMs: number;
  /** `SEEDLAB_MAX_RETRIES`: retries after a failed attempt (default 2; 0 = no retry). */
  maxRetries: number;
  /** `SEEDLAB_CONCURRENCY`: requests in flight at once in a batch (default 5). */
  concurrency: number;
  /** Where each setting came from. */
  sources: Record<SettingName, SettingSource>;
}

/**
 * Reads and validates the settings: real environment variables first, then the `.env` file
 * (dotenv syntax; never overrides a variable already set), then defaults. Empty values count as
 * not set. `process.env` is not modified.
 * @param options `env`: the environment (default `process.env`); `envFile`: the dotenv file (default
 *   `.env` in the working directory; a missing file is fine).
 * @returns The validated settings.
 * @throws {InvalidParameterError} Naming the first invalid setting, its value (never the key's) and the fix.
 */
export function loadSettings({
  env = process.env,
  envFile = resolve(process.cwd(), ".env"),
}: { env?: NodeJS.ProcessEnv; envFile?: string } = {}): Settings {
  const fromFile: Record<string, string> = existsSync(envFile) ? parse(readFileSync(envFile)) : {};
  const values = {} as Record<SettingName, string | undefined>;
  const sources = {} as Record<SettingName, SettingSource>;
  for (const name of SETTING_NAMES) {
    const fromEnvironment = env[name]?.trim();
    const fromDotenv = fromFile[name]?.trim();
    if (fromEnvironment) {
      values[name] = fromEnvironment;
      sources[name] = "environment";
    } else if (fromDotenv) {
      values[name] = fromDotenv;
      sources[name] = ".env";
    } else {
      values[name] = undefined;
      sources[name] = "default";
    }
  }

  const apiKey = values.OPENAI_API_KEY ?? null;
  if (apiKey !== null && /\s/.test(apiKey)) {
    // The key's value is never shown, not even in part.
    throw invalidParameter(
      "OPENAI_API_KEY",
      "a key without spaces or line breaks",
      new ShownAs("a value (hidden) that contains whitespace"),
      "Copy the key again from https://platform.openai.com/api-keys, on one line.",
    );
  }

  const baseURLSetting = values.OPENAI_BASE_URL ?? null;
  if (baseURLSetting !== null) validateBaseURL(baseURLSetting, "OPENAI_BASE_URL");

  // Accept "Local" or "OPENAI"; an unknown name is reported as written.
  const lowerCase = values.SEEDLAB_BACKEND?.toLowerCase();
  const backendSetting =
    lowerCase !== undefined && (BACKEND_KINDS as readonly string[]).includes(lowerCase)
      ? lowerCase
      : values.SEEDLAB_BACKEND;
  const backendName: string =
    backendSetting ?? (baseURLSetting !== null ? "compatible" : apiKey !== null ? "openai" : "local");
  validateBackendKind(backendName, "SEEDLAB_BACKEND");
  const backend: BackendKind = backendName;

  const missing = (name: SettingName, fix: string): InvalidParameterError =>
    invalidParameter(name, `set because \`SEEDLAB_BACKEND\` is "${backend}"`, new ShownAs("nothing"), fix);
  if (backend === "openai" && apiKey === null) {
    throw missing(
      "OPENAI_API_KEY",
      "Put OPENAI_API_KEY=... in .env, or set SEEDLAB_BACKEND=local to use the embedded model.",
    );
  }
  if (backend === "compatible" && baseURLSetting === null) {
    throw missing(
      "OPENAI_BASE_URL",
      "Set it to the server's base URL, e.g. OPENAI_BASE_URL=http://localhost:11434/v1 for Ollama.",
    );
  }

  const model =
    values.SEEDLAB_MODEL ??
    (backend === "compatible" ? null : backend === "openai" ? DEFAULT_OPENAI_MODEL : DEFAULT_LOCAL_MODEL);

  const cpuVariant = (values.SEEDLAB_CPU_VARIANT ?? DEFAULT_CPU_VARIANT).toLowerCase();
  if (backend === "local") {
    // Refused now, with the variants this CPU can run, rather than when the server starts.
    const binaryPackage = findBinaryPackage();
    try {
      if (binaryPackage !== null) resolveCpuVariant(cpuVariant, binaryPackage.variants, detectCpuFeatures());
    } catch (error) {
      throw new InvalidParameterError("SEEDLAB_CPU_VARIANT", (error as Error).message);
    }
  }

  return {
    backend,
    apiKey,
    baseURL:
      backend === "local" ? null : backend === "openai" ? (baseURLSetting ?? OPENAI_API_BASE_URL) : baseURLSetting,
    model,
    modelPath: values.SEEDLAB_MODEL_PATH ?? null,
    cpuVariant,
    timeoutMs: readInteger("SEEDLAB_TIMEOUT_MS", values.SEEDLAB_TIMEOUT_MS, {
      fallback: DEFAULT_TIMEOUT_MS,
      minimum: 1,
      unit: "milliseconds",
      example: "60000",
    }),
    maxRetries: readInteger("SEEDLAB_MAX_RETRIES", values.SEEDLAB_MAX_RETRIES, {
      fallback: DEFAULT_MAX_RETRIES,
      minimum: 0,
      unit: "retries",
      example: "2",
    }),
    concurrency: readInteger("SEEDLAB_CONCURRENCY", values.SEEDLAB_CONCURRENCY, {
      fallback: DEFAULT_CONCURRENCY,
      minimum: 1,
      unit: "requests",
      example: "5",
    }),
    sources,
  };
}

function readInteger(
  name: SettingName,
  text: string | undefined,
  { fallback, minimum, unit, example }: { fallback: number; minimum: number; unit: string; example: string },
): number {
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw invalidParameter(
      name,
      `a whole number of ${unit} from ${minimum} and up`,
      text,
      `Set e.g. ${name}=${example}, or remove it for the default (${fallback}).`,
    );
  }
  return value;
}

/**
 * The settings as a plain record safe to display or log: the API key appears only as "set" or
 * "not set", never any part of it.
 * @param settings Settings from {@link loadSettings}.
 * @returns One display string per setting, keyed by environment variable name.
 */
export function describeSettings(settings: Settings): Record<SettingName, string> {
  const source = (name: SettingName): string =>
    settings.sources[name] === "default" ? " (default)" : ` (from ${settings.sources[name]})`;
  return {
    OPENAI_API_KEY: settings.apiKey === null ? "not set" : "set",
    OPENAI_BASE_URL:
      (settings.baseURL ?? (settings.backend === "local" ? "local server on 127.0.0.1, free port" : "not set")) +
      source("OPENAI_BASE_URL"),
    SEEDLAB_BACKEND: settings.backend + source("SEEDLAB_BACKEND"),
    SEEDLAB_MODEL: (settings.model ?? "the one model the server lists") + source("SEEDLAB_MODEL"),
    SEEDLAB_MODEL_PATH: (settings.modelPath ?? "the embedded models/stories260K.gguf") + source("SEEDLAB_MODEL_PATH"),
    SEEDLAB_CPU_VARIANT: describeCpuVariantSetting(settings.cpuVariant) + source("SEEDLAB_CPU_VARIANT"),
    SEEDLAB_TIMEOUT_MS: String(settings.timeoutMs) + source("SEEDLAB_TIMEOUT_MS"),
    SEEDLAB_MAX_RETRIES: String(settings.maxRetries) + source("SEEDLAB_MAX_RETRIES"),
    SEEDLAB_CONCURRENCY: String(settings.concurrency) + source("SEEDLAB_CONCURRENCY"),
  };
}

/** `portable → x64`: the setting and the variant it resolves to on this machine (`auto` as llama.cpp is expected to pick). */
function describeCpuVariantSetting(setting: string): string {
  try {
    const binaryPackage = findBinaryPackage();
    const resolved =
      binaryPackage === null ? null : resolveCpuVariant(setting, binaryPackage.variants, detectCpuFeatures());
    const variant = resolved?.forced ?? resolved?.expected ?? null;
    return variant === null || variant === setting ? setting : `${setting} → ${variant}`;
  } catch {
    return setting;
  }
}
