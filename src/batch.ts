/**
 * N requests sent with a bounded number in flight, kept in request order, every failure recorded
 * on its run: a batch never throws for a failed request and never drops one.
 */
import type OpenAI from "openai";
import type { Batch, BatchProgress, ChatParameters, ChatRun } from "./types";
import { buildChatParameters, failedRun, hashParameters, sendChat, type ChatRequest } from "./chat";
import { validateBatchOptions } from "./validate";

/** Options shared by {@link runBatch} and {@link runRequests}. */
export interface BatchOptions {
  /** An `openai` SDK client (see `createClient` / `openBackend`). */
  client: OpenAI;
  /** Requests in flight at once, an integer >= 1. Default 5. */
  concurrency?: number;
  /** Called after each finished run (success or failure), in the order runs finish. */
  onProgress?: (progress: BatchProgress) => void;
  /** A short name for the batch; default describes the parameters, e.g. "seed 123, temperature 0". */
  label?: string;
  /** Aborts the batch: runs in flight fail with `APIUserAbortError`, runs not started are recorded as `AbortError`. */
  signal?: AbortSignal;
  /** Per-attempt timeout in milliseconds for every request (default: the client's). */
  timeoutMs?: number;
  /** Retries for every request (default: the client's). */
  maxRetries?: number;
}

/**
 * Sends one request `runs` times (the guide's loops of 5), up to `concurrency` at once.
 * @param options `client`, `request`, `runs` (default 5), `concurrency` (default 5), `onProgress`, `label`, `signal`.
 * @returns The batch; `runs[i].index === i`; failed runs carry `error`.
 * @throws {InvalidParameterError} For bad input (request, `runs`, `concurrency`), before any request is sent.
 */
export async function runBatch({ request, runs = 5, concurrency = 5, ...options }: BatchOptions & { request: ChatRequest; runs?: number }): Promise<Batch> {
  validateBatchOptions({ runs, concurrency });
  const parameters = buildChatParameters(request);
  return runPool(Array.from({ length: runs }, () => parameters), { concurrency, ...options });
}

/**
 * Sends a list of different requests (a sweep over seeds or temperatures), up to `concurrency` at once.
 * @param options `client`, `requests` (at least one), `concurrency` (default 5), `onProgress`, `label`, `signal`.
 * @returns The batch, runs in the order of `requests`.
 * @throws {InvalidParameterError} For any bad request or option, before any request is sent.
 */
export async function runRequests({ requests, concurrency = 5, ...options }: BatchOptions & { requests: ChatRequest[] }): Promise<Batch> {
  validateBatchOptions({ runs: Array.isArray(requests) ? requests.length : requests, concurrency });
  const parameters = requests.map((request) => buildChatParameters(request));
  return runPool(parameters, { concurrency, ...options });
}

/**
 * A short human label for a parameter set, e.g. "seed 123, temperature 0" or "no seed, temperature 0.7".
 * @param parameters The request parameters.
 * @returns The label.
 */
export function describeParameters(parameters: ChatParameters): string {
  const seed = parameters.seed === undefined ? "no seed" : `seed ${parameters.seed}`;
  return parameters.temperature === undefined ? seed : `${seed}, temperature ${parameters.temperature}`;
}

async function runPool(
  parametersList: ChatParameters[],
  { client, concurrency, onProgress, label, signal, timeoutMs, maxRetries }: Omit<BatchOptions, "concurrency"> & { concurrency: number },
): Promise<Batch> {
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const total = parametersList.length;
  const runs: ChatRun[] = new Array(total);
  let next = 0;
  let finished = 0;
  let failed = 0;
  let progressError: { error: unknown } | null = null;

  const record = (run: ChatRun): void => {
    runs[run.index] = run;
    finished += 1;
    if (run.error !== null) failed += 1;
    if (onProgress === undefined || progressError !== null) return;
    try {
      onProgress({ finished, failed, total, run });
    } catch (error) {
      // A broken progress callback must not lose runs: stop calling it, report it once all runs are in.
      progressError = { error };
    }
  };

  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next;
      next += 1;
      const parameters = parametersList[index] as ChatParameters;
      if (signal?.aborted) {
        const base = { index, parameters, parametersHash: hashParameters(parameters), startedAt: new Date().toISOString() };
        record(failedRun(base, { latencyMs: 0, attempts: 0, error: { type: "AbortError", status: null, message: "The batch was aborted before this run was sent." } }));
        continue;
      }
      const options: { index: number; signal?: AbortSignal; timeoutMs?: number; maxRetries?: number } = { index };
      if (signal !== undefined) options.signal = signal;
      if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
      if (maxRetries !== undefined) options.maxRetries = maxRetries;
      record((await sendChat(client, parameters, options)).run);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, () => worker()));

  if (progressError !== null) throw (progressError as { error: unknown }).error;
  const first = parametersList[0] as ChatParameters;
  return {
    label: label ?? (parametersList.every((parameters) => parameters === first) ? describeParameters(first) : `${total} requests`),
    runs,
    concurrency,
    startedAt,
    durationMs: performance.now() - started,
  };
}
