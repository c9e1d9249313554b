/**
 * Suite files for `seedlab check`: JSON naming prompts, how often to run each, and the
 * reproducibility expected of them. Read and validated in full before any request is sent; a typo
 * in a key is an error (an ignored `minIdenticalshare` would silently pass a check).
 *
 * ```json
 * {
 *   "name": "Seeded stories stay identical",
 *   "runs": 5,
 *   "minIdenticalShare": 1,
 *   "allowedFingerprints": ["fp_..."],
 *   "parameters": { "seed": 123, "temperature": 0, "max_tokens": 40 },
 *   "prompts": [
 *     { "name": "once upon a time", "system": "You are a storyteller.", "user": "Once upon a time" },
 *     { "name": "hot", "user": "The cat", "parameters": { "temperature": 1 }, "minIdenticalShare": 0.6 }
 *   ]
 * }
 * ```
 * Top-level `runs`, `minIdenticalShare`, `allowedFingerprints` and `parameters` are defaults for
 * every prompt; a prompt's own values win (its `parameters` are merged over the suite's).
 */
import * as fs from "node:fs";
import { DEFAULT_RUNS } from "../core/constants";
import { buildChatParameters, type ChatRequest } from "../core/chat";
import { EXIT_CODES, InvalidParameterError, SeedlabError, expected } from "../core/errors";

/** Default runs per prompt. */
export const DEFAULT_SUITE_RUNS = DEFAULT_RUNS;
/** Default minimum identical share: every run identical. */
export const DEFAULT_MIN_IDENTICAL_SHARE = 1;

/** Thrown for a suite file that cannot be used: the message names the file, the key and the fix. Exit code 2. */
export class SuiteError extends SeedlabError {
  override readonly name = "SuiteError";

  /** @param message What is wrong in the file, and the fix. */
  constructor(message: string) {
    super(message, { exitCode: EXIT_CODES.usage });
  }
}

/** One prompt of a suite, with the suite's defaults applied. */
export interface SuitePrompt {
  /** Unique within the suite; default `prompt N` (1-based). */
  name: string;
  /** The request without `model` (the backend's model is used unless `parameters.model` is set). */
  request: Omit<ChatRequest, "model"> & { model?: string };
  /** Times to send it, >= 1. */
  runs: number;
  /** Share of successful runs that must equal the most common output, in [0, 1]. */
  minIdenticalShare: number;
  /** Fingerprints allowed (`"none"` for a response without one); null = any. */
  allowedFingerprints: string[] | null;
}

/** A validated suite. */
export interface Suite {
  name: string;
  description: string | null;
  prompts: SuitePrompt[];
}

const SUITE_KEYS = [
  "$schema",
  "name",
  "description",
  "runs",
  "minIdenticalShare",
  "allowedFingerprints",
  "parameters",
  "prompts",
];
const PROMPT_KEYS = [
  "name",
  "system",
  "user",
  "messages",
  "parameters",
  "runs",
  "minIdenticalShare",
  "allowedFingerprints",
];

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Reads and validates a suite file.
 * @param file The path (as given, shown in messages).
 * @param resolvedFile The path to read.
 * @returns The suite, defaults applied.
 * @throws {SuiteError} When the file is missing, not JSON, or any key has a bad value.
 */
export function readSuite(file: string, resolvedFile: string = file): Suite {
  let text: string;
  try {
    text = fs.readFileSync(resolvedFile, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SuiteError(
      `Cannot read the suite file ${file}${code === "ENOENT" ? ": it does not exist" : `: ${(error as Error).message}`}. See examples/suite.json for the format.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SuiteError(
      `The suite file ${file} is not valid JSON: ${(error as Error).message}. Fix it, or start from examples/suite.json.`,
    );
  }
  return parseSuite(json, file);
}

/**
 * Validates a suite's JSON.
 * @param json The parsed JSON.
 * @param file The file name for messages.
 * @returns The suite, defaults applied.
 * @throws {SuiteError} Naming the first bad key (e.g. `prompts[1].minIdenticalShare`), its value and the fix.
 */
export function parseSuite(json: unknown, file = "the suite"): Suite {
  const fail = (key: string, expectation: string, value: unknown, fix: string): never => {
    throw new SuiteError(`In ${file}: ${expected(key, expectation, value, fix)}`);
  };
  if (!isObject(json)) fail("(top level)", "an object with `prompts`", json, "See examples/suite.json for the format.");
  const suite = json as JsonObject;
  checkKeys(suite, SUITE_KEYS, "", file);
  const name = suite.name === undefined ? "seedlab check" : suite.name;
  if (typeof name !== "string" || name.trim() === "")
    fail("name", "a non-empty string", name, "Name the suite, or leave `name` out.");
  const description = suite.description ?? null;
  if (description !== null && typeof description !== "string")
    fail("description", "a string", description, "Describe the suite in words, or leave it out.");

  const defaults = {
    runs: readRuns(suite.runs, "runs", DEFAULT_SUITE_RUNS, fail),
    minIdenticalShare: readShare(suite.minIdenticalShare, "minIdenticalShare", DEFAULT_MIN_IDENTICAL_SHARE, fail),
    allowedFingerprints: readFingerprints(suite.allowedFingerprints, "allowedFingerprints", null, fail),
    parameters: readParameters(suite.parameters, "parameters", fail),
  };

  const promptsValue = suite.prompts;
  if (!Array.isArray(promptsValue) || promptsValue.length === 0) {
    fail(
      "prompts",
      "a non-empty array of prompts",
      promptsValue,
      'Add e.g. "prompts": [{ "user": "Once upon a time" }].',
    );
  }
  const prompts = (promptsValue as unknown[]).map((value, index): SuitePrompt => {
    const at = `prompts[${index}]`;
    if (!isObject(value))
      fail(
        at,
        "an object with `user` (or `messages`)",
        value,
        'Write e.g. { "name": "story", "user": "Once upon a time" }.',
      );
    const prompt = value as JsonObject;
    checkKeys(prompt, PROMPT_KEYS, `${at}.`, file);
    const promptName = prompt.name ?? `prompt ${index + 1}`;
    if (typeof promptName !== "string" || promptName.trim() === "")
      fail(`${at}.name`, "a non-empty string", promptName, "Name the prompt, or leave `name` out.");
    const ownParameters = readParameters(prompt.parameters, `${at}.parameters`, fail);
    const request: JsonObject = { ...defaults.parameters, ...ownParameters };
    for (const key of ["system", "user", "messages"] as const) {
      if (key in request)
        fail(
          `${at}.parameters.${key}`,
          "absent",
          request[key],
          `Write \`${key}\` next to \`parameters\`, not inside it.`,
        );
      if (prompt[key] !== undefined) request[key] = prompt[key];
    }
    if (prompt.user === undefined && prompt.messages === undefined) {
      fail(`${at}.user`, "the prompt text", undefined, 'Add "user": "..." (or a "messages" array).');
    }
    try {
      // Validated with a stand-in model; the backend's model (or `parameters.model`) is used when it runs.
      buildChatParameters({ model: "seedlab-suite-check", ...request } as ChatRequest);
    } catch (error) {
      if (error instanceof InvalidParameterError) {
        const key = ["system", "user", "messages"].some((name) => error.parameter.startsWith(name))
          ? error.parameter
          : `parameters.${error.parameter}`;
        throw new SuiteError(`In ${file}, \`${at}.${key}\`: ${error.message}`);
      }
      throw error;
    }
    return {
      name: promptName as string,
      request: request as SuitePrompt["request"],
      runs: readRuns(prompt.runs, `${at}.runs`, defaults.runs, fail),
      minIdenticalShare: readShare(
        prompt.minIdenticalShare,
        `${at}.minIdenticalShare`,
        defaults.minIdenticalShare,
        fail,
      ),
      allowedFingerprints: readFingerprints(
        prompt.allowedFingerprints,
        `${at}.allowedFingerprints`,
        defaults.allowedFingerprints,
        fail,
      ),
    };
  });
  const seen = new Set<string>();
  prompts.forEach((prompt, index) => {
    if (seen.has(prompt.name))
      fail(
        `prompts[${index}].name`,
        "unique in the suite",
        prompt.name,
        "Give each prompt its own name: reports and JUnit test cases are named after them.",
      );
    seen.add(prompt.name);
  });
  return { name: name as string, description: description as string | null, prompts };
}

type Fail = (key: string, expected: string, value: unknown, fix: string) => never;

function checkKeys(object: JsonObject, known: readonly string[], prefix: string, file: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      throw new SuiteError(
        `In ${file}: unknown key \`${prefix}${key}\`. Known keys here: ${known.join(", ")}. Chat Completions parameters go in \`${prefix}parameters\`.`,
      );
    }
  }
}

function readRuns(value: unknown, key: string, fallback: number, fail: Fail): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1)
    fail(key, "a whole number from 1 and up", value, "Use e.g. 5 runs per prompt.");
  return value as number;
}

function readShare(value: unknown, key: string, fallback: number, fail: Fail): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    fail(key, "a share from 0 to 1", value, 'Use 1 for "every run identical", 0.8 for "4 of 5".');
  }
  return value as number;
}

function readFingerprints(value: unknown, key: string, fallback: string[] | null, fail: Fail): string[] | null {
  if (value === undefined) return fallback;
  if (value === null) return null;
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === "string" && item !== "")) {
    fail(
      key,
      'a non-empty array of fingerprint strings ("none" for responses without one), or null for any',
      value,
      'Write e.g. ["fp_44709d6fcb"].',
    );
  }
  return [...(value as string[])];
}

function readParameters(value: unknown, key: string, fail: Fail): JsonObject {
  if (value === undefined) return {};
  if (!isObject(value))
    fail(key, "an object of Chat Completions parameters", value, 'Write e.g. { "seed": 123, "temperature": 0 }.');
  const parameters = value as JsonObject;
  if ("stream" in parameters && parameters.stream)
    fail(
      `${key}.stream`,
      "absent or false",
      parameters.stream,
      "seedlab compares whole responses: leave `stream` out.",
    );
  return { ...parameters };
}
