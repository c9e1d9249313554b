/**
 * One Chat Completions request turned into a `ChatRun` record: the guide's `get_chat_response`,
 * plus what it leaves out (the seed the backend used, HTTP attempts, the exact parameters and their
 * hash, failures as data).
 */
import { createHash } from "node:crypto";
import OpenAI from "openai";
import { DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE, SEED_HEADER } from "./constants";
import type { ChatMessage, ChatParameters, ChatRun, RunError, TokenLogprob } from "./types";
import { NO_API_KEY } from "../client";
import { explainUnsupportedParameter, validateChatParameters } from "./validate";
import { EXIT_CODES, SeedlabError, ShownAs, formatValue, invalidParameter } from "./errors";
import { assertClientOpen } from "./backend-session";

/**
 * One request as a caller writes it: `system` + `user`, or a `messages` array; any further Chat
 * Completions parameter is sent as given.
 */
export interface ChatRequest {
  model: string;
  /** System prompt (optional), sent as the first message. */
  system?: string;
  /** The user's prompt. Required unless `messages` is given. */
  user?: string;
  /** The whole conversation, instead of `system`/`user`. */
  messages?: ChatMessage[];
  /** Omitted from the request when undefined. */
  seed?: number;
  /** Default 0.7; null leaves it out of the request (for models that reject it). */
  temperature?: number | null;
  /** Default 200 unless `max_completion_tokens` is given; null leaves it out. */
  max_tokens?: number | null;
  [parameter: string]: unknown;
}

/** Per-call options of {@link getChatResponse} and {@link tryChatResponse}. */
export interface ChatOptions {
  /** Position recorded on the run (`run.index`). Default 0. */
  index?: number;
  /** Aborts the request. */
  signal?: AbortSignal;
  /** Per-attempt timeout in milliseconds for this call (default: the client's). */
  timeoutMs?: number;
  /** Retries for this call (default: the client's). */
  maxRetries?: number;
}

/** Thrown by {@link getChatResponse} when a request fails; `cause` is the SDK error, `run` the failed record. */
export class ChatRequestError extends SeedlabError {
  override readonly name = "ChatRequestError";
  /** The failed run, with `error` set. */
  readonly run: ChatRun;

  /**
   * @param run The failed run (its `error` must be set).
   * @param cause The SDK error.
   */
  constructor(run: ChatRun, cause: unknown) {
    const error = run.error as RunError;
    super(`${error.type}${error.status === null ? "" : ` (HTTP ${error.status})`}: ${error.message}`, {
      exitCode: EXIT_CODES.failed,
      cause,
    });
    this.run = run;
  }
}

/**
 * Builds and validates the exact request body: `model`, `messages`, then `seed` when given,
 * `temperature` (default 0.7), `max_tokens` (default 200), then every other parameter as given.
 * @param request The request as written by the caller.
 * @returns The Chat Completions parameters that will be sent.
 * @throws {InvalidParameterError} For a bad parameter, before anything is sent.
 */
export function buildChatParameters(request: ChatRequest): ChatParameters {
  if (typeof request !== "object" || request === null) {
    throw invalidParameter("request", "an object", request, "Pass { model, system, user }.");
  }
  const { model, system, user, messages, seed, temperature = DEFAULT_TEMPERATURE, max_tokens, ...rest } = request;
  if (messages !== undefined && (system !== undefined || user !== undefined)) {
    const fix = "Put the system prompt and the user prompt into `messages`, or drop `messages`.";
    throw invalidParameter("messages", "given without `system`/`user`", new ShownAs("both"), fix);
  }
  if (messages === undefined && typeof user !== "string") {
    throw invalidParameter("user", "the prompt text", user, 'Pass user: "..." or a messages array.');
  }
  if (system !== undefined && typeof system !== "string") {
    throw invalidParameter("system", "a string", system, "Pass the instructions as text, or leave it out.");
  }
  if ("stream" in rest && rest.stream) {
    throw invalidParameter(
      "stream",
      "false or absent",
      rest.stream,
      "seedlab records whole responses: leave `stream` out.",
    );
  }
  delete rest.stream;
  const maxTokens =
    max_tokens === undefined ? (rest.max_completion_tokens === undefined ? DEFAULT_MAX_TOKENS : null) : max_tokens;
  const parameters: ChatParameters = {
    model,
    messages: messages ?? [
      ...(system === undefined ? [] : [{ role: "system" as const, content: system }]),
      { role: "user" as const, content: user as string },
    ],
  };
  if (seed !== undefined) parameters.seed = seed;
  if (temperature !== null) parameters.temperature = temperature;
  if (maxTokens !== null) parameters.max_tokens = maxTokens;
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) parameters[key] = value;
  }
  validateChatParameters(parameters);
  return parameters;
}

/**
 * JSON with object keys sorted at every level (undefined values dropped, as JSON does), so equal
 * parameters give equal text whatever order they were written in.
 * @param value Any JSON-compatible value.
 * @returns The canonical JSON text.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * A stable hash of request parameters: sha256 of {@link canonicalJson}, first 16 hex digits.
 * @param parameters The request parameters.
 * @returns 16 lowercase hex digits; equal hashes mean equal requests.
 */
export function hashParameters(parameters: ChatParameters): string {
  return createHash("sha256").update(canonicalJson(parameters)).digest("hex").slice(0, 16);
}

/**
 * Sends one request (the guide's `get_chat_response`) and returns its record.
 * @param client An `openai` SDK client (see `createClient` / `openBackend`).
 * @param request `{ model, system, user, seed?, temperature = 0.7, max_tokens = 200, ...more }` or `{ model, messages, ... }`.
 * @param options `index`, `signal`, per-call `timeoutMs` and `maxRetries`.
 * @returns The run: content, fingerprint, tokens, seed used, latency, attempts, parameters and their hash.
 * @throws {InvalidParameterError} For bad input, before anything is sent.
 * @throws {BackendClosedError} When the client's backend was closed, before anything is sent.
 * @throws {ChatRequestError} When the request fails (after retries); `cause` is the SDK error, `run` the record.
 */
export async function getChatResponse(
  client: OpenAI,
  request: ChatRequest,
  options: ChatOptions = {},
): Promise<ChatRun> {
  assertClientOpen(client);
  const { run, cause } = await sendChat(client, buildChatParameters(request), options);
  if (run.error !== null) throw new ChatRequestError(run, cause);
  return run;
}

/**
 * Like {@link getChatResponse} but a failed request is returned as a run with `error` set
 * (`{ type, status, message }`) instead of thrown.
 * @param client An `openai` SDK client.
 * @param request The request, as for {@link getChatResponse}.
 * @param options `index`, `signal`, per-call `timeoutMs` and `maxRetries`.
 * @returns The run, successful or failed.
 * @throws {InvalidParameterError} Only for bad input, before anything is sent.
 * @throws {BackendClosedError} When the client's backend was closed, before anything is sent.
 */
export async function tryChatResponse(
  client: OpenAI,
  request: ChatRequest,
  options: ChatOptions = {},
): Promise<ChatRun> {
  assertClientOpen(client);
  return (await sendChat(client, buildChatParameters(request), options)).run;
}

/**
 * Sends already built and validated parameters (see {@link buildChatParameters}); never throws.
 * @param client An `openai` SDK client.
 * @param parameters The exact request body.
 * @param options `index`, `signal`, per-call `timeoutMs` and `maxRetries`.
 * @returns The run, and the SDK error as `cause` when it failed.
 */
export async function sendChat(
  client: OpenAI,
  parameters: ChatParameters,
  { index = 0, signal, timeoutMs, maxRetries }: ChatOptions = {},
): Promise<{ run: ChatRun; cause: unknown }> {
  // Count HTTP attempts (retries included) with a fetch wrapper on a per-request copy of the client.
  let attempts = 0;
  const baseFetch: typeof fetch = (client as unknown as { fetch?: typeof fetch }).fetch ?? fetch;
  const countingFetch: typeof fetch = (input, init) => {
    attempts += 1;
    return baseFetch.call(undefined, input, init);
  };
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const base = {
    index,
    parameters,
    parametersHash: hashParameters(parameters),
    startedAt,
  };
  try {
    const requestOptions: { signal?: AbortSignal; timeout?: number; maxRetries?: number } = {};
    if (signal !== undefined) requestOptions.signal = signal;
    if (timeoutMs !== undefined) requestOptions.timeout = timeoutMs;
    if (maxRetries !== undefined) requestOptions.maxRetries = maxRetries;
    const { data, response } = await client
      .withOptions({ fetch: countingFetch })
      .chat.completions.create(
        { ...parameters, stream: false } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
        requestOptions,
      )
      .withResponse();
    const latencyMs = performance.now() - started;
    // A server that is not quite OpenAI-compatible may omit anything: record what is missing, never a bare TypeError.
    const missing = describeMissing(data);
    if (missing !== null) {
      const error: RunError = {
        type: "InvalidResponseError",
        status: response.status,
        message: `The response is not a chat completion: ${missing}. Check that the base URL is the server's OpenAI-compatible /v1 endpoint.`,
      };
      return { run: failedRun(base, { latencyMs, attempts, error }), cause: new Error(error.message) };
    }
    const choice = data.choices[0];
    if (choice === undefined) {
      const error: RunError = {
        type: "EmptyResponseError",
        status: response.status,
        message: "The response had no choices.",
      };
      return { run: failedRun(base, { latencyMs, attempts, error }), cause: new Error(error.message) };
    }
    const headerSeed = Number(response.headers.get(SEED_HEADER) ?? Number.NaN);
    const run: ChatRun = {
      ...base,
      content: choice.message.content ?? "",
      // Typed deprecated by the SDK and sometimes null in real responses: null means "none sent".
      systemFingerprint: (data as { system_fingerprint?: string | null }).system_fingerprint ?? null,
      promptTokens: data.usage?.prompt_tokens ?? null,
      completionTokens: data.usage?.completion_tokens ?? null,
      finishReason: choice.finish_reason ?? null,
      seedUsed: Number.isSafeInteger(headerSeed) ? headerSeed : (parameters.seed ?? null),
      responseModel: data.model ?? null,
      logprobs: readLogprobs(choice.logprobs),
      latencyMs,
      attempts,
      error: null,
    };
    return { run, cause: undefined };
  } catch (cause) {
    const latencyMs = performance.now() - started;
    return { run: failedRun(base, { latencyMs, attempts, error: toRunError(cause, client.apiKey) }), cause };
  }
}

/**
 * The record of a run that failed or was never sent.
 * @param base `index`, `parameters`, `parametersHash`, `startedAt`.
 * @param outcome `latencyMs`, `attempts` (0 = never sent), `error`.
 * @returns The run, with every response field null.
 */
export function failedRun(
  base: Pick<ChatRun, "index" | "parameters" | "parametersHash" | "startedAt">,
  { latencyMs, attempts, error }: { latencyMs: number; attempts: number; error: RunError },
): ChatRun {
  return {
    ...base,
    content: null,
    systemFingerprint: null,
    promptTokens: null,
    completionTokens: null,
    finishReason: null,
    seedUsed: base.parameters.seed ?? null,
    responseModel: null,
    logprobs: null,
    latencyMs,
    attempts,
    error,
  };
}

/** The messages of an error's `cause` chain (at most 4, repeats and "fetch failed" left out). */
function causeMessages(cause: unknown): string[] {
  const messages: string[] = [];
  for (let current = cause, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth += 1) {
    const text =
      (current as NodeJS.ErrnoException).code &&
      !current.message.includes(String((current as NodeJS.ErrnoException).code))
        ? `${current.message} ${(current as NodeJS.ErrnoException).code}`
        : current.message;
    if (text !== "fetch failed" && !messages.includes(text)) messages.push(text);
  }
  return messages;
}

/** What a parsed response lacks to be read as a chat completion, or null when nothing is missing. */
function describeMissing(data: unknown): string | null {
  if (typeof data !== "object" || data === null)
    return `the body is ${data === undefined || data === null ? "empty" : formatValue(data)}`;
  const choices = (data as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) return "it has no `choices` array";
  const first: unknown = choices[0];
  if (first === undefined) return null; // an empty list: EmptyResponseError
  const message = (first as { message?: unknown } | null)?.message;
  if (typeof message !== "object" || message === null) return "`choices[0]` has no `message`";
  return null;
}

function readLogprobs(logprobs: OpenAI.Chat.ChatCompletion.Choice["logprobs"] | undefined): TokenLogprob[] | null {
  if (!logprobs?.content) return null;
  return logprobs.content.map((entry) => ({
    token: entry.token,
    logprob: entry.logprob,
    topLogprobs: (entry.top_logprobs ?? []).map((alternative) => ({
      token: alternative.token,
      logprob: alternative.logprob,
    })),
  }));
}

/**
 * Turns any error into a `RunError` record: class name, HTTP status (null without a response) and
 * a message with secrets removed and, for "unsupported temperature/seed" errors, what to change.
 * @param error The thrown value (usually an SDK error).
 * @param apiKey The key to scrub from the message, if any.
 * @returns The record.
 */
export function toRunError(error: unknown, apiKey: string | null = null): RunError {
  const type =
    error instanceof Error
      ? error.constructor?.name && error.constructor.name !== "Error"
        ? error.constructor.name
        : error.name
      : "Error";
  const status = error instanceof OpenAI.APIError && typeof error.status === "number" ? error.status : null;
  let message = error instanceof Error ? error.message : String(error);
  // The SDK lets a JSON parse failure of the response body through as a bare SyntaxError.
  if (error instanceof SyntaxError) message = `The response body was not valid JSON: ${message}`;
  // ... and a body cut off mid-way (the connection closed after the headers) as undici's TypeError "terminated".
  // The SDK's "Connection error." hides why (refused, reset, DNS): add the underlying causes.
  if (error instanceof OpenAI.APIConnectionError && !(error instanceof OpenAI.APIConnectionTimeoutError)) {
    const causes = causeMessages(error.cause);
    if (causes.length > 0) message = `${message.replace(/\.$/, "")} (${causes.join(": ")}).`;
  }
  if (error instanceof TypeError && message === "terminated") {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    message = `The response was cut off: the connection closed before the whole body arrived (terminated${cause}). Run the request again.`;
  }
  return { type, status, message: explainUnsupportedParameter(redactSecrets(message, apiKey)) };
}

/**
 * Removes an API key from a text: the exact key, and anything shaped like an OpenAI key (`sk-...`,
 * including the partly masked form OpenAI puts in 401 messages).
 * @param text The text to clean.
 * @param apiKey The key in use, if any.
 * @returns The text without the key.
 */
export function redactSecrets(text: string, apiKey: string | null = null): string {
  let cleaned = text;
  if (apiKey && apiKey !== NO_API_KEY && apiKey.length >= 4) cleaned = cleaned.split(apiKey).join("[redacted]");
  return cleaned.replace(/\bsk-[A-Za-z0-9_*\-]{3,}/g, "sk-[redacted]");
}
