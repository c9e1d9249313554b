/**
 * The same requests on two backend configurations: the open local backend, and a second configuration that differs
 * in one setting (e.g. its batch size): served by the same server process when it is a setting of the contexts
 * (attention, batch size), else by a second local server (e.g. another CPU variant). Returns plain records: one
 * batch per configuration, and per request one batch holding its runs on both, ready for
 * `renderFingerprintChangeHtml`, `findBatchDivergences` and `buildReport`.
 */
import type { Backend } from "../backend";
import { createClient } from "../client";
import { runRequests } from "../core/batch";
import type { ChatRequest } from "../core/chat";
import { SeedlabError, invalidParameter } from "../core/errors";
import { isSucceeded } from "../core/runs";
import type { Batch, BatchProgress, ChatRun } from "../core/types";
import { validateCount } from "../core/validate";
import { addServerConfiguration, isInServerSetting, startLocalServer, type LocalServerOptions } from "../local/start";
import type { Settings } from "../settings";
import { showProgress, type LiveDisplay } from "../progress";

/** Options of {@link runOnTwoConfigurations}. */
export interface TwoConfigurationsOptions {
  /** The open backend: the first configuration. Must be `local`. */
  backend: Backend;
  /** The settings it was opened with: a second server uses the same model file, timeouts and retries. */
  settings: Settings;
  /**
   * How the second configuration differs, e.g. `{ batchSize: 1 }`. `attention` and `batchSize` alone: the running
   * server adds it beside its own (same process, same loaded model); anything else (e.g. `cpuVariant`): a second
   * local server is started.
   */
  second: LocalServerOptions;
  /** The requests, each sent `runs` times to each configuration. */
  requests: ChatRequest[];
  /** Names of the two configurations, e.g. `["batch size 512", "batch size 1"]`. */
  labels: [string, string];
  /** Times each request is sent to each configuration. Default 1. */
  runs?: number;
  /**
   * Where it is: step 0 sends the requests to the first configuration, step 1 waits for the second
   * (asked for at the beginning, so usually ready), step 2 sends the requests to it; with each
   * finished request's batch progress. `showProgress(display, [three labels]).onStep` fits.
   */
  onProgress?: (step: number, progress?: BatchProgress) => void;
  /** Shows those three steps live here (e.g. `tslab.newDisplay()`): what runs, n of N, each step's time. */
  display?: LiveDisplay;
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
 * Gets the second configuration (from the running server, or a second local server started while the first
 * configuration answers), sends the same requests to both configurations, and closes a server it started.
 * @param options `backend` (local), `settings`, `second`, `requests`, `labels`, `runs` (default 1), `onProgress`.
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
  onProgress: reportProgress = () => {},
  display,
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
  const settingNames: Record<string, string> = { cpuVariant: "CPU variant", batchSize: "batch size" };
  const secondSettings = Object.entries(second)
    .map(([name, value]) =>
      name === "attention" ? `${String(value)} attention` : `${settingNames[name] ?? name} ${String(value)}`,
    )
    .join(", ");
  // Attention and batch size are settings of the contexts: the running server adds them beside its own, on the
  // model it has loaded. Another CPU variant (another llama.cpp binary) or model needs a server of its own.
  const inServer = isInServerSetting(second);
  const steps = [
    `${repeated.length} requests on ${labels[0]}`,
    inServer
      ? `Second configuration (${secondSettings || "same settings"}) added to the same server`
      : `Second local server (${secondSettings || "same settings"}), started while step 1 ran`,
    `${repeated.length} requests on ${labels[1]}`,
  ];
  const shown = display === undefined ? null : showProgress(display, steps);
  const onProgress = (step: number, progress?: BatchProgress): void => {
    shown?.onStep(step, progress);
    reportProgress(step, progress);
  };
  const concurrency = settings.concurrency;
  // A second server starts while the first configuration answers: its start-up overlaps the requests.
  const startServer = () =>
    startLocalServer({ modelPath: settings.modelPath ?? undefined, cpuVariant: settings.cpuVariant, ...second });
  const starting: Promise<{ url: string; close(): Promise<void> }> = inServer
    ? addServerConfiguration(backend.baseURL, second).then(
        ({ url }) => ({ url, close: async () => {} }),
        () => startServer(), // a server without configurations (another seedlab version): one of its own
      )
    : startServer();
  starting.catch(() => {}); // awaited below; until then a failed start must not count as unhandled
  let first: Batch;
  try {
    onProgress(0);
    first = await runRequests({
      client: backend.client,
      requests: repeated,
      concurrency,
      label: labels[0],
      onProgress: (progress) => onProgress(0, progress),
    });
    onProgress(1);
  } catch (error) {
    await starting.then(
      (server) => server.close(),
      () => {},
    );
    throw error;
  }
  const server = await starting;
  let secondBatch: Batch;
  try {
    const client = createClient({ ...settings, baseURL: server.url });
    onProgress(2);
    secondBatch = await runRequests({
      client,
      requests: repeated,
      concurrency,
      label: labels[1],
      onProgress: (progress) => onProgress(2, progress),
    });
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

/** A second configuration of the local model, for {@link runOnTwoConfigurations}: see {@link float16Attention}. */
export interface OtherConfiguration {
  /** How the second configuration differs, for {@link runOnTwoConfigurations}. */
  second: LocalServerOptions;
  /** Names of the two configurations, e.g. `["float32 attention", "float16 attention"]`. */
  labels: [string, string];
}

/**
 * A second configuration of the local model that changes its fingerprint and some seeded texts: keys and values
 * cached in float16 (llama.cpp's default cache type) instead of seedlab's float32, as a server with other engine
 * settings would run it. Measured on an AVX2 CPU: 12 of 20 texts of 200 tokens (temperature 0.7, seeds 100-119)
 * changed, 5 of 20 of 60 tokens.
 * @returns The second configuration's settings and the two labels.
 */
export function float16Attention(): OtherConfiguration {
  return { second: { attention: "float16" }, labels: ["float32 attention", "float16 attention"] };
}
