/**
 * One prompt sent with every combination of a few seeds and a few temperatures: where the outputs
 * collapse to one text whatever the seed (temperature 0: always the most likely token), and where
 * they fan out into one text per seed. `runSweep` sends the requests; `summarizeSweep` is pure.
 */
import type OpenAI from "openai";
import { DEFAULT_CONCURRENCY } from "../core/constants";
import type { Batch, BatchProgress, ChatRun } from "../core/types";
import { runRequests } from "../core/batch";
import type { ChatRequest } from "../core/chat";
import { isSucceeded, runsOf } from "../core/runs";
import { compareRuns } from "./compare-runs";
import { InvalidParameterError, ShownAs, invalidParameter } from "../core/errors";

/** Options of {@link runSweep}. */
export interface SweepOptions {
  /** An `openai` SDK client. */
  client: OpenAI;
  /** The request; its `seed` and `temperature` are replaced by each combination. */
  request: ChatRequest;
  /** Seeds to try: distinct integers, at least one. */
  seeds: number[];
  /** Temperatures to try: distinct numbers from 0 to 2, at least one. */
  temperatures: number[];
  /** Requests in flight at once. Default 5. */
  concurrency?: number;
  /** Called after every finished run. */
  onProgress?: (progress: BatchProgress) => void;
  /** Aborts the sweep. */
  signal?: AbortSignal;
}

/** One cell of the sweep: one seed at one temperature. */
export interface SweepCell {
  temperature: number;
  seed: number;
  /** `run.index` of the run. */
  runIndex: number;
  /** Position of its text in `Sweep.outputs` (equal numbers = equal texts); null when the run failed. */
  outputNumber: number | null;
}

/** All seeds at one temperature. */
export interface SweepRow {
  temperature: number;
  /** Cells in the order of `Sweep.seeds`. */
  cells: SweepCell[];
  failed: number;
  /** Distinct texts across the seeds at this temperature. */
  distinctOutputs: number;
  /** Share of successful runs with the most common text, in [0, 1]. */
  mostCommonShare: number;
  /** Mean pairwise word similarity, in [0, 1] (1 = identical); null with fewer than 2 successful runs. */
  meanSimilarity: number | null;
  /** True when every seed succeeded and gave the same text: the seed does not matter here. */
  collapsed: boolean;
}

/** The result of {@link summarizeSweep}. */
export interface Sweep {
  /** Seeds, ascending. */
  seeds: number[];
  /** Temperatures, ascending. */
  temperatures: number[];
  /** Every distinct text of the sweep, in order of first appearance (lowest temperature, lowest seed first). */
  outputs: string[];
  /** One row per temperature, ascending. */
  rows: SweepRow[];
}

/**
 * Sends the request once for every seed at every temperature (temperature-major order).
 * @param options `client`, `request`, `seeds`, `temperatures`, `concurrency` (default 5), `onProgress`, `signal`.
 * @returns The batch of `seeds.length × temperatures.length` runs; pass it to {@link summarizeSweep}.
 * @throws {InvalidParameterError} For empty, repeated or invalid seeds or temperatures, or a bad request, before any request.
 */
export async function runSweep({
  client,
  request,
  seeds,
  temperatures,
  concurrency = DEFAULT_CONCURRENCY,
  onProgress,
  signal,
}: SweepOptions): Promise<Batch> {
  validateList(
    seeds,
    "seeds",
    (value) => typeof value === "number" && Number.isSafeInteger(value),
    "whole numbers",
    "Use e.g. [1, 2, 3, 4].",
  );
  validateList(
    temperatures,
    "temperatures",
    (value) => typeof value === "number" && value >= 0 && value <= 2,
    "numbers from 0 to 2",
    "Use e.g. [0, 0.7, 1.2].",
  );
  const requests: ChatRequest[] = [];
  for (const temperature of temperatures) for (const seed of seeds) requests.push({ ...request, seed, temperature });
  const options: Parameters<typeof runRequests>[0] = {
    client,
    requests,
    concurrency,
    label: `${seeds.length} seeds × ${temperatures.length} temperatures`,
  };
  if (onProgress !== undefined) options.onProgress = onProgress;
  if (signal !== undefined) options.signal = signal;
  return runRequests(options);
}

/**
 * Groups a sweep's runs by temperature and seed (read from each run's parameters) and says, per
 * temperature, how many distinct texts the seeds gave. Pure: no requests.
 * @param options.batch The batch from {@link runSweep}, or any runs that each sent a `seed` and a `temperature`.
 * @returns Seeds, temperatures, the distinct texts, and one row per temperature.
 * @throws {InvalidParameterError} When there are no runs, a run sent no seed or no temperature, or two runs share a seed and temperature.
 */
export function summarizeSweep({ batch }: { batch: Batch | readonly ChatRun[] }): Sweep {
  const runs = runsOf(batch);
  if (runs.length === 0) {
    throw invalidParameter(
      "batch",
      "a batch of at least one run",
      new ShownAs("none"),
      "Pass the result of runSweep(...).",
    );
  }
  const cellsByKey = new Map<string, ChatRun>();
  for (const run of runs) {
    const { seed, temperature } = run.parameters;
    if (typeof seed !== "number" || typeof temperature !== "number") {
      const missing = typeof seed !== "number" ? "seed" : "temperature";
      const parameter = `run ${run.index}.parameters.${missing}`;
      const expectation = "set (every run of a sweep sends a `seed` and a `temperature`)";
      throw invalidParameter(parameter, expectation, run.parameters[missing], "Use runSweep(...), which sets both.");
    }
    const key = `${temperature}|${seed}`;
    if (cellsByKey.has(key)) {
      throw new InvalidParameterError(
        "batch",
        `Expected one run per seed and temperature, but seed ${seed} at temperature ${temperature} appears twice (runs ${cellsByKey.get(key)?.index} and ${run.index}). Summarise repeated runs with buildReport instead.`,
      );
    }
    cellsByKey.set(key, run);
  }
  const seeds = [...new Set(runs.map((run) => run.parameters.seed as number))].sort((a, b) => a - b);
  const temperatures = [...new Set(runs.map((run) => run.parameters.temperature as number))].sort((a, b) => a - b);
  const outputs: string[] = [];
  const rows = temperatures.map((temperature): SweepRow => {
    const rowRuns: ChatRun[] = [];
    const cells: SweepCell[] = [];
    for (const seed of seeds) {
      const run = cellsByKey.get(`${temperature}|${seed}`);
      if (run === undefined) continue;
      rowRuns.push(run);
      let outputNumber: number | null = null;
      if (isSucceeded(run)) {
        outputNumber = outputs.indexOf(run.content);
        if (outputNumber === -1) outputNumber = outputs.push(run.content) - 1;
      }
      cells.push({ temperature, seed, runIndex: run.index, outputNumber });
    }
    const comparison = compareRuns(rowRuns);
    return {
      temperature,
      cells,
      failed: comparison.failed,
      distinctOutputs: comparison.distinctOutputs.length,
      mostCommonShare: comparison.mostCommonShare,
      meanSimilarity: comparison.similarity.mean,
      collapsed: comparison.failed === 0 && comparison.distinctOutputs.length === 1,
    };
  });
  return { seeds, temperatures, outputs, rows };
}

function validateList(
  values: unknown,
  parameter: string,
  valid: (value: unknown) => boolean,
  kind: string,
  fix: string,
): void {
  if (!Array.isArray(values) || values.length === 0) {
    throw invalidParameter(parameter, `a non-empty array of ${kind}`, values, fix);
  }
  values.forEach((value: unknown, position) => {
    if (!valid(value)) {
      throw invalidParameter(`${parameter}[${position}]`, `one of ${kind}`, value, fix);
    }
  });
  if (new Set(values).size !== values.length) {
    throw invalidParameter(parameter, "a list of distinct values", values, "Remove the repeated ones.");
  }
}
