/**
 * Checks on everything a user can pass in, run BEFORE any request is sent. Every message names the
 * parameter in backticks, shows the value it got, the allowed range and what to do instead, e.g.
 * ``Expected `temperature` to be a number from 0 to 2, got 3. Use 0 for the most repeatable output.``
 */
import type { ChatMessage, ChatParameters } from "./types";
import { invalidParameter } from "./errors";

export { InvalidParameterError, formatValue } from "./errors";

/** The backends seedlab can talk to. */
export const BACKEND_KINDS = ["openai", "compatible", "local"] as const;
/** `openai`: api.openai.com; `compatible`: any OpenAI-compatible base URL; `local`: the embedded model. */
export type BackendKind = (typeof BACKEND_KINDS)[number];

const MESSAGE_ROLES: ReadonlyArray<ChatMessage["role"]> = ["system", "developer", "user", "assistant"];

function fail(parameter: string, expectation: string, value: unknown, fix: string): never {
  throw invalidParameter(parameter, expectation, value, fix);
}

/**
 * Checks a `seed`: a safe integer (from -9007199254740991 to 9007199254740991).
 * @param seed The value to check.
 * @param parameter The name to show in the message.
 * @throws {InvalidParameterError} When it is not a safe integer.
 */
export function validateSeed(seed: unknown, parameter = "seed"): asserts seed is number {
  if (typeof seed !== "number" || !Number.isSafeInteger(seed)) {
    fail(
      parameter,
      `an integer from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`,
      seed,
      "Use a whole number such as 123, and the same one for every run you want to reproduce.",
    );
  }
}

/**
 * Checks a `temperature`: a number from 0 to 2.
 * @param temperature The value to check.
 * @throws {InvalidParameterError} When it is out of range or not a number.
 */
export function validateTemperature(temperature: unknown): asserts temperature is number {
  if (typeof temperature !== "number" || !Number.isFinite(temperature) || temperature < 0 || temperature > 2) {
    fail("temperature", "a number from 0 to 2", temperature, "Use 0 for the most repeatable output.");
  }
}

/**
 * Checks a whole-number count that must be at least `minimum` (`runs`, `concurrency`, `n`, `max_tokens`...).
 * @param value The value to check.
 * @param options `parameter`: the name to show; `minimum` (default 1); `fix`: what to do instead.
 * @throws {InvalidParameterError} When it is not an integer >= minimum.
 */
export function validateCount(
  value: unknown,
  { parameter, minimum = 1, fix }: { parameter: string; minimum?: number; fix: string },
): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < minimum) {
    fail(parameter, `an integer from ${minimum} and up`, value, fix);
  }
}

/**
 * Checks a chat `messages` array: non-empty, each with a known role and string content.
 * @param messages The value to check.
 * @throws {InvalidParameterError} Naming the first bad message as `messages[i]`.
 */
export function validateMessages(messages: unknown): asserts messages is ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) {
    fail(
      "messages",
      "a non-empty array of { role, content }",
      messages,
      'Pass at least one message, e.g. [{ role: "user", content: "Hello" }].',
    );
  }
  messages.forEach((message: unknown, index) => {
    const parameter = `messages[${index}]`;
    if (typeof message !== "object" || message === null) {
      fail(
        parameter,
        "an object { role, content }",
        message,
        'Write each message as { role: "user", content: "..." }.',
      );
    }
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (typeof role !== "string" || !(MESSAGE_ROLES as readonly string[]).includes(role)) {
      fail(
        `${parameter}.role`,
        `one of ${MESSAGE_ROLES.map((known) => `"${known}"`).join(", ")}`,
        role,
        'Use "system" for instructions and "user" for the prompt.',
      );
    }
    if (typeof content !== "string") {
      fail(`${parameter}.content`, "a string", content, "Pass the message text as a plain string.");
    }
  });
}

/**
 * Checks the parameters of one Chat Completions request: `model`, `messages`, and the ranges of
 * `seed`, `temperature`, `top_p`, `n`, `max_tokens`, `max_completion_tokens`, `top_logprobs` when present.
 * @param parameters The request body to check.
 * @throws {InvalidParameterError} For the first bad parameter.
 */
export function validateChatParameters(parameters: ChatParameters): void {
  if (typeof parameters !== "object" || parameters === null) {
    fail(
      "request",
      "an object with `model` and `messages`",
      parameters,
      "Pass { model, system, user } or { model, messages }.",
    );
  }
  if (typeof parameters.model !== "string" || parameters.model.trim() === "") {
    fail(
      "model",
      "a model name",
      parameters.model,
      "Pass the model to use, e.g. gpt-4o-mini (OpenAI) or stories260K (local); see SEEDLAB_MODEL.",
    );
  }
  validateMessages(parameters.messages);
  if (parameters.seed !== undefined) validateSeed(parameters.seed);
  if (parameters.temperature !== undefined) validateTemperature(parameters.temperature);
  const topP = parameters.top_p;
  if (topP !== undefined && (typeof topP !== "number" || !Number.isFinite(topP) || topP <= 0 || topP > 1)) {
    fail("top_p", "a number above 0 and at most 1", topP, "Leave it out (1) and set `temperature` instead.");
  }
  if (parameters.n !== undefined) {
    validateCount(parameters.n, { parameter: "n", fix: "Use 1 and run the request several times to compare outputs." });
    // A run records one choice (its content, tokens and fingerprint); more would be dropped silently.
    if (parameters.n !== 1) {
      fail(
        "n",
        "1 (one choice per run)",
        parameters.n,
        "Leave `n` out and send the request several times instead (`runs` in runBatch, `-n` on the command line): every run is then recorded and compared.",
      );
    }
  }
  if (parameters.max_tokens !== undefined) {
    validateCount(parameters.max_tokens, { parameter: "max_tokens", fix: "Use e.g. 200." });
  }
  if (parameters.max_completion_tokens !== undefined) {
    validateCount(parameters.max_completion_tokens, { parameter: "max_completion_tokens", fix: "Use e.g. 200." });
  }
  if (parameters.top_logprobs !== undefined) {
    const topLogprobs = parameters.top_logprobs;
    if (typeof topLogprobs !== "number" || !Number.isSafeInteger(topLogprobs) || topLogprobs < 0 || topLogprobs > 20) {
      fail("top_logprobs", "an integer from 0 to 20", topLogprobs, "Use e.g. 5, together with `logprobs: true`.");
    }
  }
}

/**
 * Checks the size and parallelism of a batch.
 * @param options `runs` and `concurrency`, each an integer >= 1.
 * @throws {InvalidParameterError} For the first bad one.
 */
export function validateBatchOptions({ runs, concurrency }: { runs: unknown; concurrency: unknown }): void {
  validateCount(runs, { parameter: "runs", fix: "Use e.g. 5 runs to compare outputs." });
  validateCount(concurrency, { parameter: "concurrency", fix: "Use 1 to send requests one after another, or e.g. 5." });
}

/**
 * Checks a backend name.
 * @param backend The value to check.
 * @param parameter The name to show (default `SEEDLAB_BACKEND`).
 * @throws {InvalidParameterError} When it is not `openai`, `compatible` or `local`.
 */
export function validateBackendKind(backend: unknown, parameter = "SEEDLAB_BACKEND"): asserts backend is BackendKind {
  if (typeof backend !== "string" || !(BACKEND_KINDS as readonly string[]).includes(backend)) {
    fail(
      parameter,
      `one of ${BACKEND_KINDS.map((kind) => `"${kind}"`).join(", ")}`,
      backend,
      'Use "local" for the embedded model, "openai" for the OpenAI API, "compatible" with OPENAI_BASE_URL for Ollama, vLLM, llama.cpp or Azure.',
    );
  }
}

/**
 * Checks a base URL: an absolute http(s) URL.
 * @param baseURL The value to check.
 * @param parameter The name to show (default `OPENAI_BASE_URL`).
 * @throws {InvalidParameterError} When it does not parse as an http or https URL.
 */
export function validateBaseURL(baseURL: unknown, parameter = "OPENAI_BASE_URL"): asserts baseURL is string {
  let valid = false;
  if (typeof baseURL === "string") {
    try {
      const protocol = new URL(baseURL).protocol;
      valid = protocol === "http:" || protocol === "https:";
    } catch {
      valid = false;
    }
  }
  if (!valid) {
    fail(
      parameter,
      "an http(s) URL",
      baseURL,
      "Use the server's OpenAI-compatible base URL, e.g. http://localhost:11434/v1 for Ollama.",
    );
  }
}

const UNSUPPORTED_PARAMETER =
  /unsupported (value|parameter)[^]*?'(temperature|seed|top_p|max_tokens)'|'(temperature|seed|top_p|max_tokens)'[^]*?(not supported|does not support)/i;

/**
 * Adds what to change to an API error message that says the model rejects `temperature`, `seed`,
 * `top_p` or `max_tokens` (reasoning models: "Unsupported value: 'temperature' does not support 0
 * with this model"). Other messages come back unchanged.
 * @param message The error message from the API.
 * @returns The message, with a hint appended when it applies.
 */
export function explainUnsupportedParameter(message: string): string {
  const match = UNSUPPORTED_PARAMETER.exec(message);
  if (!match) return message;
  const parameter = match[2] ?? match[3] ?? "temperature";
  const change =
    parameter === "max_tokens"
      ? "send `max_completion_tokens` instead of `max_tokens`, or use a model that accepts `temperature` and `seed`, e.g. gpt-4o-mini (SEEDLAB_MODEL=gpt-4o-mini)."
      : "use a model that accepts `temperature` and `seed`, e.g. gpt-4o-mini (SEEDLAB_MODEL=gpt-4o-mini); reasoning models ignore or reject them.";
  return `${message} This model does not accept \`${parameter}\` as sent: ${change}`;
}
