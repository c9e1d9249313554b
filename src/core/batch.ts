/**
 * N requests sent with a bounded number in flight, kept in request order, every failure recorded
 * on its run: a batch never throws for a failed request and never drops one.
 */
import type OpenAI from "openai";
import { DEFAULT_CONCURRENCY, DEFAULT_RUNS } from "./constants";
import type { Batch, BatchProgress, ChatParameters, ChatRun } from "./types";
import { isSucceeded } from "./runs";
import { assertClientOpen } from "./backend-session";
import { buildChatParameters, failedRun, hashParameters, sendChat, type ChatRequest } from "./chat";
import { validateBatchOptions } from "./validate";
import { invalidParameter } from "./errors";

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
 * @param options `client`, `request`, `runs` (default 5), `concurrency` (default 5), `onProgress`, `label`, `signal`;
 *   `indexes`: send only these run indexes (each from 0 to `runs` - 1, no repeats), e.g. to resume a saved batch.
 * @returns The batch; `runs[i].index === i` (with `indexes`: only those runs, in the order given); failed runs carry `error`.
 * @throws {InvalidParameterError} For bad input (request, `runs`, `concurrency`, `indexes`), before any request is sent.
 * @throws {BackendClosedError} When the client's backend was closed ("Run the Set-up cell again"), before any request is sent.
 */
export async function runBatch({
  request,
  runs = DEFAULT_RUNS,
  concurrency = DEFAULT_CONCURRENCY,
  indexes,
  ...options
}: BatchOptions & { request: ChatRequest; runs?: number; indexes?: readonly number[] }): Promise<Batch> {
  validateBatchOptions({ runs, concurrency });
  if (indexes !== undefined) validateIndexes(indexes, runs);
  const parameters = buildChatParameters(request);
  const sent = indexes ?? Array.from({ length: runs }, (_, index) => index);
  return runPool(
    sent.map(() => parameters),
    { concurrency, ...options, label: options.label ?? describeParameters(parameters), indexes: sent },
  );
}

function validateIndexes(indexes: unknown, runs: number): void {
  const fix = `Pass distinct run indexes from 0 to ${runs - 1}, or leave \`indexes\` out to send all ${runs} runs.`;
  if (!Array.isArray(indexes)) {
    throw invalidParameter("indexes", "an array of run indexes", indexes, fix);
  }
  const seen = new Set<number>();
  indexes.forEach((index: unknown, position) => {
    if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0 || index >= runs || seen.has(index)) {
      throw invalidParameter(`indexes[${position}]`, `a run index from 0 to ${runs - 1} not listed before`, index, fix);
    }
    seen.add(index);
  });
}

/**
 * Sends a list of different requests (a sweep over seeds or temperatures), up to `concurrency` at once.
 * @param options `client`, `requests` (at least one), `concurrency` (default 5), `onProgress`, `label`, `signal`.
 * @returns The batch, runs in the order of `requests`.
 * @throws {InvalidParameterError} For any bad request or option, before any request is sent.
 */
export async function runRequests({
  requests,
  concurrency = DEFAULT_CONCURRENCY,
  ...options
}: BatchOptions & { requests: ChatRequest[] }): Promise<Batch> {
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
  {
    client,
    concurrency,
    onProgress,
    label,
    signal,
    timeoutMs,
    maxRetries,
    indexes,
  }: Omit<BatchOptions, "concurrency"> & { concurrency: number; indexes?: readonly number[] },
): Promise<Batch> {
  assertClientOpen(client);
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const total = parametersList.length;
  const runs: ChatRun[] = new Array(total);
  let next = 0;
  let finished = 0;
  let failed = 0;
  let progressError: { error: unknown } | null = null;

  // `runs[position]` holds the run sent as `indexes[position]` (position = index without `indexes`).
  const record = (run: ChatRun, position: number): void => {
    runs[position] = run;
    finished += 1;
    if (!isSucceeded(run)) failed += 1;
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
      const position = next;
      next += 1;
      const index = indexes?.[position] ?? position;
      const parameters = parametersList[position] as ChatParameters;
      if (signal?.aborted) {
        const base = {
          index,
          parameters,
          parametersHash: hashParameters(parameters),
          startedAt: new Date().toISOString(),
        };
        record(
          failedRun(base, {
            latencyMs: 0,
            attempts: 0,
            error: { type: "AbortError", status: null, message: "The batch was aborted before this run was sent." },
          }),
          position,
        );
        continue;
      }
      const options: { index: number; signal?: AbortSignal; timeoutMs?: number; maxRetries?: number } = { index };
      if (signal !== undefined) options.signal = signal;
      if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
      if (maxRetries !== undefined) options.maxRetries = maxRetries;
      record((await sendChat(client, parameters, options)).run, position);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, () => worker()));

  if (progressError !== null) throw (progressError as { error: unknown }).error;
  const first = parametersList[0];
  return {
    label:
      label ??
      (first !== undefined && parametersList.every((parameters) => parameters === first)
        ? describeParameters(first)
        : `${total} requests`),
    runs,
    concurrency,
    startedAt,
    durationMs: performance.now() - started,
  };
}
