/**
 * The same requests on two backend configurations: the open local backend, and a second local server that differs
 * in one setting (e.g. its batch size). Returns plain records: one batch per configuration, and per request one batch
 * holding its runs on both, ready for `renderFingerprintChangeHtml`, `findBatchDivergences` and `buildReport`.
 */
import type { Backend } from "../backend";
import { createClient } from "../client";
import { runRequests } from "../core/batch";
import type { ChatRequest } from "../core/chat";
import { SeedlabError, invalidParameter } from "../core/errors";
import { isSucceeded } from "../core/runs";
import type { Batch, ChatRun } from "../core/types";
import { validateCount } from "../core/validate";
import { startLocalServer, type LocalServerOptions } from "../local/start";
import type { Settings } from "../settings";

/** Options of {@link runOnTwoConfigurations}. */
export interface TwoConfigurationsOptions {
  /** The open backend: the first configuration. Must be `local`. */
  backend: Backend;
  /** The settings it was opened with: the second server uses the same model file, timeouts and retries. */
  settings: Settings;
  /** How the second local server differs, e.g. `{ batchSize: 1 }`. */
  second: LocalServerOptions;
  /** The requests, each sent `runs` times to each configuration. */
  requests: ChatRequest[];
  /** Names of the two configurations, e.g. `["batch size 512", "batch size 1"]`. */
  labels: [string, string];
  /** Times each request is sent to each configuration. Default 1. */
  runs?: number;
}

/** The result of {@link runOnTwoConfigurations}. */
export interface TwoConfigurations {
  /** Every request on the first configuration, `runs` times each (request 0's runs first), labelled `labels[0]`. */
  first: Batch;
  /** The same on the second configuration, labelled `labels[1]`. */
  second: Batch;
  /**
   * Per request, its runs on both configurations in one batch: the first configuration's runs (indexes 0 to runs - 1),
   * then the second's; labelled e.g. "seed 102, both configurations".
   */
  byRequest: Batch[];
  /** Positions in `requests` whose first runs on the two configurations both succeeded, with different texts. */
  changedRequests: number[];
}

/**
 * Starts a second local server with other settings, sends the same requests to both configurations and closes it.
 * @param options `backend` (local), `settings`, `second`, `requests`, `labels`, `runs` (default 1).
 * @returns Both batches, one batch per request across both configurations, and which requests changed text.
 * @throws {SeedlabError} When the backend is not the local one (there is no second configuration to start).
 * @throws {InvalidParameterError} For a bad request or `runs`, before anything is sent.
 */
export async function runOnTwoConfigurations({
  backend,
  settings,
  second,
  requests,
  labels,
  runs = 1,
}: TwoConfigurationsOptions): Promise<TwoConfigurations> {
  if (backend.kind !== "local") {
    throw new SeedlabError(`A second configuration can only be started for the local backend, not "${backend.kind}".`);
  }
  validateCount(runs, { parameter: "runs", fix: "Use e.g. 2 runs per configuration." });
  if (!Array.isArray(requests) || requests.length === 0) {
    const fix = "Pass e.g. seeds.map((seed) => ({ ...request, seed })).";
    throw invalidParameter("requests", "a non-empty array of requests", requests, fix);
  }
  const repeated = requests.flatMap((request) => Array.from({ length: runs }, () => request));
  const concurrency = settings.concurrency;
  const first = await runRequests({ client: backend.client, requests: repeated, concurrency, label: labels[0] });
  const server = await startLocalServer({ modelPath: settings.modelPath ?? undefined, ...second });
  let secondBatch: Batch;
  try {
    const client = createClient({ ...settings, baseURL: server.url });
    secondBatch = await runRequests({ client, requests: repeated, concurrency, label: labels[1] });
  } finally {
    await server.close();
  }
  const runsOfRequest = (batch: Batch, position: number): ChatRun[] =>
    batch.runs.slice(position * runs, (position + 1) * runs);
  const byRequest = requests.map((request, position): Batch => {
    const both = [...runsOfRequest(first, position), ...runsOfRequest(secondBatch, position)];
    const name = request.seed === undefined ? `request ${position}` : `seed ${request.seed}`;
    return { ...first, label: `${name}, both configurations`, runs: both.map((run, index) => ({ ...run, index })) };
  });
  const changedRequests = requests
    .map((_, position) => position)
    .filter((position) => {
      const [before, after] = [first.runs[position * runs], secondBatch.runs[position * runs]];
      if (before === undefined || after === undefined) return false;
      return isSucceeded(before) && isSucceeded(after) && before.content !== after.content;
    });
  return { first, second: secondBatch, byRequest, changedRequests };
}
