/**
 * One place that builds the official `openai` SDK client, so timeouts, retries and the key
 * handling are the same everywhere.
 */
import OpenAI from "openai";
import { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS } from "./core/constants";
import { validateBaseURL, validateCount } from "./core/validate";
import { invalidParameter } from "./core/errors";

/**
 * The SDK refuses to start without a key, but local and most OpenAI-compatible servers take none.
 * This placeholder is sent instead; it is not a secret.
 */
export const NO_API_KEY = "seedlab-no-key";

/** What {@link createClient} needs: a subset of `Settings`, so a `Settings` record fits as is. */
export interface ClientSettings {
  /** Base URL ending in `/v1`; required (the SDK would otherwise silently read OPENAI_BASE_URL). */
  baseURL: string | null;
  /** API key, or null for servers that take none. */
  apiKey?: string | null;
  /** Per-attempt timeout in milliseconds. Default 60000. */
  timeoutMs?: number;
  /** Retries after a failed attempt (408, 409, 429, 5xx, connection errors). Default 2, the SDK's. */
  maxRetries?: number;
}

/**
 * Creates an `openai` SDK client.
 * @param settings `baseURL`, `apiKey`, `timeoutMs` (default 60000), `maxRetries` (default 2).
 * @returns The client.
 * @throws {InvalidParameterError} For a missing or malformed `baseURL`, or a bad timeout/retry count.
 */
export function createClient({
  baseURL,
  apiKey = null,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  maxRetries = DEFAULT_MAX_RETRIES,
}: ClientSettings): OpenAI {
  if (baseURL === null || baseURL === undefined) {
    throw invalidParameter(
      "baseURL",
      "an http(s) URL",
      baseURL,
      "Use openBackend(settings) for the local backend, or set OPENAI_BASE_URL.",
    );
  }
  validateBaseURL(baseURL, "baseURL");
  validateCount(timeoutMs, { parameter: "timeoutMs", fix: "Use e.g. 60000 (one minute)." });
  validateCount(maxRetries, { parameter: "maxRetries", minimum: 0, fix: "Use 0 for no retry, or e.g. 2." });
  return new OpenAI({ baseURL, apiKey: apiKey ?? NO_API_KEY, timeout: timeoutMs, maxRetries });
}
