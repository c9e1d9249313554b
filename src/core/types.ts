/**
 * The plain records every part of seedlab passes around: a request's parameters, one run's result,
 * a batch of runs. No classes, no behaviour: they serialise to JSON as they are (saved runs are
 * JSON Lines of `ChatRun`).
 */

/** A chat message as the Chat Completions API takes it (text content only). */
export interface ChatMessage {
  role: "system" | "developer" | "user" | "assistant";
  content: string;
}

/**
 * The exact body of one Chat Completions request (without `stream`).
 * Known fields are typed; any further Chat Completions parameter is sent as given.
 */
export interface ChatParameters {
  model: string;
  messages: ChatMessage[];
  seed?: number;
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  n?: number;
  stop?: string | string[];
  logprobs?: boolean;
  top_logprobs?: number;
  [parameter: string]: unknown;
}

/** One token of a completion with its log-probability and the most likely alternatives. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  topLogprobs: Array<{ token: string; logprob: number }>;
}

/** Why a run failed: the error's class name, its HTTP status when there was one, its message. */
export interface RunError {
  /** The error class, e.g. `RateLimitError`, `APIConnectionTimeoutError`, `BadRequestError`. */
  type: string;
  /** HTTP status, or null when no response arrived (connection error, timeout). */
  status: number | null;
  message: string;
}

/** The result of one request: what came back, or why nothing did. */
export interface ChatRun {
  /** Position of this run in its batch (0 for a single request). */
  index: number;
  /** The first choice's message content; null when the run failed. */
  content: string | null;
  /** The backend's `system_fingerprint`; null when it sent none (or the run failed). */
  systemFingerprint: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  /** `stop`, `length`, ... ; null when the run failed. */
  finishReason: string | null;
  /** The seed the backend reports it used (the local server always does), else the requested seed, else null. */
  seedUsed: number | null;
  /** Model name the response reported, null when the run failed. */
  responseModel: string | null;
  /** Per-token log-probabilities, when requested with `logprobs: true`. */
  logprobs: TokenLogprob[] | null;
  /** Wall-clock time from sending to the full response, in milliseconds. */
  latencyMs: number;
  /** How many HTTP attempts the request took (1 = no retry). */
  attempts: number;
  /** The exact request parameters. Never holds an API key. */
  parameters: ChatParameters;
  /** A stable hash of `parameters` (sha256 of canonical JSON, 16 hex digits): equal hashes, equal requests. */
  parametersHash: string;
  /** ISO time the request was sent. */
  startedAt: string;
  /** Null on success; the recorded failure otherwise. */
  error: RunError | null;
}

/** Progress of a batch, reported after every finished run. */
export interface BatchProgress {
  finished: number;
  failed: number;
  total: number;
  /** The run that just finished. */
  run: ChatRun;
}

/** N runs of one parameter set. */
export interface Batch {
  /** A short human name, e.g. "seed 123, temperature 0". */
  label: string;
  /** Runs in request order (index 0 first), whatever order they finished in. */
  runs: ChatRun[];
  /** How many requests were allowed in flight at once. */
  concurrency: number;
  startedAt: string;
  durationMs: number;
}
