/**
 * Strict validation of a Chat Completions request body for the local server. Every request shape the
 * API defines for text-only chat is accepted: each parameter is honoured exactly, or ignored only where
 * it cannot change the output (null fields, fields the SDKs echo back empty, neutral values). Anything
 * that would change the output and is not supported (tools, images, audio, a non-empty `logit_bias`,
 * JSON output) is rejected with OpenAI's error shape naming the parameter, never silently ignored.
 */
import { randomInt } from "crypto";
import { SeedlabError } from "../core/errors";

/** An error the server returns as `{ error: { message, type, param, code } }`. */
export class ApiError extends SeedlabError {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = status === 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error",
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The response body in OpenAI's error format. */
  toBody(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A validated request with every default filled in. */
export interface ChatCompletionRequest {
  model: string;
  messages: Array<{ role: string; content: string }>;
  seed: number;
  /** Whether the seed was drawn by the server (the request had none). */
  seedDrawn: boolean;
  temperature: number;
  topP: number;
  n: number;
  /** Null = until the model stops or the context is full. */
  maxTokens: number | null;
  stop: string[];
  logprobs: boolean;
  topLogprobs: number;
  stream: boolean;
  includeUsage: boolean;
  /** `stream_options.include_obfuscation`: pad each stream chunk with an `obfuscation` field (default false). */
  includeObfuscation: boolean;
}

/** What the prompt format can show of a message, beyond its role and text. */
export interface ValidationOptions {
  /**
   * Whether `name` on a message is accepted. True for the plain-text format, which shows neither roles
   * nor names (so a name cannot change the output); false for a chat template, which would get the
   * role but not the name (node-llama-cpp's chat history has no names). Default true.
   */
  acceptNames?: boolean;
}

/** Largest `n` the server accepts (each choice is generated in turn). */
export const MAX_CHOICES = 16;
/** Largest `top_logprobs`, as in OpenAI's API. */
export const MAX_TOP_LOGPROBS = 20;
const MAX_STOP_SEQUENCES = 4;
const ROLES = ["system", "developer", "user", "assistant"];
const isEmptyObject = (value: unknown) =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
const isEmptyArray = (value: unknown) => Array.isArray(value) && value.length === 0;
/**
 * Accepted but output-neutral parameters, and the only values that keep them neutral. Tools are never
 * accepted (a non-empty `tools` is a 400), so a tool choice that cannot call a tool, or any
 * `parallel_tool_calls`, changes nothing.
 */
const NEUTRAL_PARAMETERS: Record<string, (value: unknown) => boolean> = {
  user: (value) => typeof value === "string",
  safety_identifier: (value) => typeof value === "string",
  prompt_cache_key: (value) => typeof value === "string",
  metadata: (value) => typeof value === "object",
  store: (value) => value === false,
  frequency_penalty: (value) => value === 0,
  presence_penalty: (value) => value === 0,
  logit_bias: isEmptyObject,
  response_format: (value) =>
    typeof value === "object" && value !== null && (value as { type?: unknown }).type === "text",
  service_tier: (value) => value === "auto" || value === "default",
  modalities: (value) => Array.isArray(value) && value.every((modality) => modality === "text"),
  tools: isEmptyArray,
  tool_choice: (value) => value === "none" || value === "auto",
  parallel_tool_calls: (value) => typeof value === "boolean",
  functions: isEmptyArray,
  function_call: (value) => value === "none" || value === "auto",
};
/**
 * Fields the SDKs put on an assistant message they return, so that appending it to the history sends
 * them back: accepted when null or empty (what the local server returns), a 400 otherwise.
 */
const ECHOED_MESSAGE_FIELDS = ["refusal", "tool_calls", "function_call", "audio", "annotations"];
const HANDLED = [
  "model",
  "messages",
  "seed",
  "temperature",
  "top_p",
  "n",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "logprobs",
  "top_logprobs",
  "stream",
  "stream_options",
];

/**
 * Validates a parsed request body.
 * @param body - the parsed JSON.
 * @param servedModel - the one model id the server serves.
 * @param options - what the prompt format can show (see `ValidationOptions`).
 * @returns the normalised request; a random seed in [0, 2^31) is drawn when none was given.
 * @throws ApiError 400 naming the offending parameter, 404 `model_not_found` for another model.
 */
export function validateChatRequest(
  body: unknown,
  servedModel: string,
  { acceptNames = true }: ValidationOptions = {},
): ChatCompletionRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(400, "The request body must be a JSON object.");
  }
  const fields = body as Record<string, unknown>;
  for (const [name, value] of Object.entries(fields)) {
    if (HANDLED.includes(name) || value === null || value === undefined) continue;
    // Own keys only: a field named like an Object method ("toString") is not a neutral parameter.
    const neutral = Object.prototype.hasOwnProperty.call(NEUTRAL_PARAMETERS, name)
      ? NEUTRAL_PARAMETERS[name]
      : undefined;
    if (neutral === undefined) {
      throw new ApiError(
        400,
        `The local server does not support the parameter \`${name}\`. Remove it from the request.`,
        name,
        "unsupported_parameter",
      );
    }
    if (!neutral(value)) {
      throw new ApiError(
        400,
        `The local server does not support \`${name}\` = ${JSON.stringify(value)}. Remove it or use its default.`,
        name,
        "unsupported_value",
      );
    }
  }

  if (typeof fields.model !== "string" || fields.model === "") {
    throw new ApiError(400, "`model` must be a non-empty string: the served model is `" + servedModel + "`.", "model");
  }
  if (fields.model !== servedModel) {
    throw new ApiError(
      404,
      `The model \`${fields.model}\` does not exist on this server. Use \`${servedModel}\`.`,
      "model",
      "model_not_found",
    );
  }

  const messages = validateMessages(fields.messages, acceptNames);
  const seed = optional(
    fields.seed,
    "seed",
    (value) => Number.isSafeInteger(value),
    "an integer from -9007199254740991 to 9007199254740991",
  );
  const temperature = optional(
    fields.temperature,
    "temperature",
    (value) => typeof value === "number" && value >= 0 && value <= 2,
    "a number from 0 to 2",
  );
  const topP = optional(
    fields.top_p,
    "top_p",
    (value) => typeof value === "number" && value > 0 && value <= 1,
    "a number greater than 0 and at most 1",
  );
  const n = optional(
    fields.n,
    "n",
    (value) => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_CHOICES,
    `an integer from 1 to ${MAX_CHOICES}`,
  );
  const isTokenCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 1;
  const maxTokens = optional(fields.max_tokens, "max_tokens", isTokenCount, "an integer of at least 1");
  const maxCompletionTokens = optional(
    fields.max_completion_tokens,
    "max_completion_tokens",
    isTokenCount,
    "an integer of at least 1",
  );
  if (maxTokens !== undefined && maxCompletionTokens !== undefined && maxTokens !== maxCompletionTokens) {
    throw new ApiError(400, "`max_tokens` and `max_completion_tokens` disagree: send only one of them.", "max_tokens");
  }
  const logprobs = optional(fields.logprobs, "logprobs", (value) => typeof value === "boolean", "a boolean");
  const topLogprobs = optional(
    fields.top_logprobs,
    "top_logprobs",
    (value) => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_TOP_LOGPROBS,
    `an integer from 0 to ${MAX_TOP_LOGPROBS}`,
  );
  if (topLogprobs !== undefined && logprobs !== true) {
    throw new ApiError(400, "`top_logprobs` needs `logprobs: true`.", "top_logprobs");
  }
  const stream = optional(fields.stream, "stream", (value) => typeof value === "boolean", "a boolean");
  const streamOptions = optional(
    fields.stream_options,
    "stream_options",
    (value) => isStreamOptions(value),
    "an object like { include_usage: true, include_obfuscation: false }",
  );
  if (streamOptions !== undefined && stream !== true) {
    throw new ApiError(400, "`stream_options` is only allowed with `stream: true`.", "stream_options");
  }

  return {
    model: fields.model,
    messages,
    seed: (seed as number | undefined) ?? randomInt(0, 2 ** 31),
    seedDrawn: seed === undefined,
    temperature: (temperature as number | undefined) ?? 1,
    topP: (topP as number | undefined) ?? 1,
    n: (n as number | undefined) ?? 1,
    maxTokens: ((maxCompletionTokens ?? maxTokens) as number | undefined) ?? null,
    stop: validateStop(fields.stop),
    logprobs: logprobs === true,
    topLogprobs: (topLogprobs as number | undefined) ?? 0,
    stream: stream === true,
    includeUsage: (streamOptions as { include_usage?: boolean } | undefined)?.include_usage === true,
    includeObfuscation: (streamOptions as { include_obfuscation?: boolean } | undefined)?.include_obfuscation === true,
  };
}

function optional(value: unknown, name: string, isValid: (value: unknown) => boolean, allowed: string): unknown {
  if (value === undefined || value === null) return undefined;
  if (!isValid(value)) {
    throw new ApiError(400, `\`${name}\` must be ${allowed}; got ${JSON.stringify(value)}.`, name, "invalid_value");
  }
  return value;
}

function isStreamOptions(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.entries(value).every(
    ([key, option]) =>
      (key === "include_usage" || key === "include_obfuscation") && (typeof option === "boolean" || option === null),
  );
}

function validateMessages(value: unknown, acceptNames: boolean): Array<{ role: string; content: string }> {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ApiError(
      400,
      "`messages` must be a non-empty array of { role, content } objects.",
      "messages",
      "invalid_value",
    );
  }
  return value.map((message: unknown, index) => {
    const where = `messages[${index}]`;
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      throw new ApiError(400, `\`${where}\` must be an object { role, content }.`, where, "invalid_value");
    }
    const { role, content, name, ...rest } = message as Record<string, unknown>;
    if (typeof role !== "string" || !ROLES.includes(role)) {
      throw new ApiError(
        400,
        `\`${where}.role\` must be one of ${ROLES.join(", ")}; got ${JSON.stringify(role)}.`,
        `${where}.role`,
        "invalid_value",
      );
    }
    if (name !== undefined && name !== null) {
      if (typeof name !== "string") {
        throw new ApiError(
          400,
          `\`${where}.name\` must be a string; got ${JSON.stringify(name)}.`,
          `${where}.name`,
          "invalid_value",
        );
      }
      if (!acceptNames) {
        throw new ApiError(
          400,
          `The local server cannot pass \`${where}.name\` to this model's chat template. Remove it.`,
          `${where}.name`,
          "unsupported_parameter",
        );
      }
    }
    for (const [field, fieldValue] of Object.entries(rest)) {
      // Null fields are skipped, as at the top level; what the SDKs echo back from a response may also be empty.
      if (fieldValue === null || fieldValue === undefined) continue;
      if (ECHOED_MESSAGE_FIELDS.includes(field)) {
        if (isEmptyArray(fieldValue)) continue;
        throw new ApiError(
          400,
          `The local server does not support \`${where}.${field}\` = ${JSON.stringify(fieldValue)} (text-only chat). Remove it or send null.`,
          `${where}.${field}`,
          "unsupported_value",
        );
      }
      throw new ApiError(
        400,
        `The local server does not support \`${where}.${field}\`. Remove it.`,
        `${where}.${field}`,
        "unsupported_parameter",
      );
    }
    return { role, content: messageText(content, where) };
  });
}

/**
 * A message's text: the string itself, or its text parts joined with nothing in between (each part's
 * own text, nothing added). Any other part (an image, audio, a file, a refusal) is a 400 naming it.
 */
function messageText(content: unknown, where: string): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content) || content.length === 0) {
    throw new ApiError(
      400,
      `\`${where}.content\` must be a string or a non-empty array of text parts [{ "type": "text", "text": "..." }]; got ${JSON.stringify(content)}.`,
      `${where}.content`,
      "invalid_value",
    );
  }
  return content
    .map((part: unknown, partIndex) => {
      const partWhere = `${where}.content[${partIndex}]`;
      if (typeof part !== "object" || part === null || Array.isArray(part)) {
        throw new ApiError(
          400,
          `\`${partWhere}\` must be a text part { "type": "text", "text": "..." }; got ${JSON.stringify(part)}.`,
          partWhere,
          "invalid_value",
        );
      }
      const { type, text, ...rest } = part as Record<string, unknown>;
      if (type !== "text") {
        throw new ApiError(
          400,
          `The local server serves a text-only model: \`${partWhere}\` has type ${JSON.stringify(type)}. Send only text parts { "type": "text", "text": "..." }.`,
          partWhere,
          "unsupported_value",
        );
      }
      if (typeof text !== "string") {
        throw new ApiError(
          400,
          `\`${partWhere}.text\` must be a string; got ${JSON.stringify(text)}.`,
          `${partWhere}.text`,
          "invalid_value",
        );
      }
      const extra = Object.entries(rest).find(([, fieldValue]) => fieldValue !== null && fieldValue !== undefined)?.[0];
      if (extra !== undefined) {
        throw new ApiError(
          400,
          `The local server does not support \`${partWhere}.${extra}\`. Remove it.`,
          `${partWhere}.${extra}`,
          "unsupported_parameter",
        );
      }
      return text;
    })
    .join("");
}

function validateStop(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === "string" ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length > MAX_STOP_SEQUENCES ||
    !list.every((item) => typeof item === "string" && item !== "")
  ) {
    throw new ApiError(
      400,
      `\`stop\` must be a non-empty string or an array of up to ${MAX_STOP_SEQUENCES} non-empty strings; got ${JSON.stringify(value)}.`,
      "stop",
      "invalid_value",
    );
  }
  return list as string[];
}
