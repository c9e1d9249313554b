/**
 * Live progress for notebook cells that take more than a moment: a display updated in place that
 * says what is running, n of N, and how long each step took. Kernel-independent: it takes any object
 * with an `html(string)` method (`tslab.newDisplay()` returns one) and never imports tslab.
 *
 * ```ts
 * const progress = showProgress(tslab.newDisplay(), "5 requests without a seed");
 * const batch = await runBatch({ ..., onProgress: progress.onBatch });   // "■■□□□ 2/5 finished"
 *
 * const steps = showProgress(tslab.newDisplay(), ["Start a server with batch size 1", "20 seeds on it"]);
 * const other = await steps.run(0, startLocalServer({ batchSize: 1 }));  // step 1 of 2, then its time
 * steps.step(1);
 * await runRequests({ ..., onProgress: steps.onBatch });                 // step 2 of 2 · 7/20 finished
 *
 * await runOnTwoConfigurations({ ..., onProgress: showProgress(display, [3 labels]).onStep });
 * ```
 */
import type { Backend } from "./backend";
import { openBackend } from "./backend";
import type { Settings } from "./settings";
import { SHARED_SERVER_VARIABLE } from "./local/shared";
import { escapeHtml } from "./render/html";
import type { BatchProgress } from "./core/types";

/** Anything that shows HTML and replaces it on the next call: `tslab.newDisplay()` returns one. */
export interface LiveDisplay {
  html(html: string): void;
}

/** A live progress display over one or more named steps. */
export interface Progress {
  /**
   * Starts step `index` (0-based); the step before it is marked done with its time. Shown at once.
   * @throws Error when `index` is not one of the steps.
   */
  step(index: number): void;
  /**
   * Starts step `index`, waits for `work`, marks the step done (or failed) and returns its result.
   * @throws whatever `work` rejects with, after showing the step as failed.
   */
  run<T>(index: number, work: Promise<T>): Promise<T>;
  /**
   * A batch's `onProgress`: shows "n/N finished" in the current step; when the last step's batch
   * has finished every run, the whole display is marked done.
   */
  onBatch: (progress: BatchProgress) => void;
  /**
   * A multi-step task's `onProgress` (e.g. `runOnTwoConfigurations`'s): moves to `step` when it is
   * not the running one, then shows `progress` like `onBatch`.
   */
  onStep: (step: number, progress?: BatchProgress) => void;
  /** Marks the current step and the display done (shows each step's time). Safe to call twice. */
  done(): void;
  /** Marks the current step failed with `message` (shown escaped). */
  fail(message: string): void;
}

interface StepState {
  label: string;
  state: "waiting" | "running" | "done" | "failed";
  startedAt: number | null;
  seconds: number | null;
  batch: { finished: number; failed: number; total: number } | null;
  message: string | null;
}

/**
 * Shows a live progress display at once and returns its controls.
 * @param display Where to show it: `tslab.newDisplay()`, or any `{ html(text) }`.
 * @param steps One label, or the labels of the steps in order (at least one).
 * @param options `now`: the clock in milliseconds (default `performance.now`), for tests.
 * @returns The controls; the first step is already running.
 * @throws Error when `display` has no `html` method or `steps` is empty.
 */
export function showProgress(
  display: LiveDisplay,
  steps: string | readonly string[],
  options: { now?: () => number } = {},
): Progress {
  if (display === null || typeof display !== "object" || typeof (display as { html?: unknown }).html !== "function") {
    throw new Error(
      `Expected \`display\` to have an html(text) method, got ${display === null ? "null" : typeof display}. Pass tslab.newDisplay().`,
    );
  }
  const labels = typeof steps === "string" ? [steps] : [...steps];
  if (labels.length === 0 || labels.some((label) => typeof label !== "string" || label.trim() === "")) {
    throw new Error(
      `Expected \`steps\` to be a label or a non-empty list of labels, got ${JSON.stringify(steps)}. Name what the cell is doing.`,
    );
  }
  const now = options.now ?? (() => performance.now());
  const started = now();
  const states: StepState[] = labels.map((label) => ({
    label,
    state: "waiting",
    startedAt: null,
    seconds: null,
    batch: null,
    message: null,
  }));
  let current = -1;
  let finished = false;

  const show = (): void => display.html(renderStepsHtml(states, finished ? (now() - started) / 1000 : null));
  const finishCurrent = (state: "done" | "failed", message: string | null = null): void => {
    const step = states[current];
    if (step === undefined || step.state !== "running") return;
    step.state = state;
    step.seconds = (now() - (step.startedAt ?? started)) / 1000;
    step.message = message;
  };
  const step = (index: number): void => {
    if (!Number.isInteger(index) || index < 0 || index >= states.length) {
      throw new Error(
        `Expected a step index from 0 to ${states.length - 1}, got ${index}. The steps are: ${labels.join("; ")}.`,
      );
    }
    finishCurrent("done");
    current = index;
    const next = states[index] as StepState;
    next.state = "running";
    next.startedAt = now();
    show();
  };
  const done = (): void => {
    if (finished) return;
    finishCurrent("done");
    finished = true;
    show();
  };

  const onBatch = (progress: BatchProgress): void => {
    const running = states[current];
    if (running === undefined || finished) return;
    running.batch = { finished: progress.finished, failed: progress.failed, total: progress.total };
    if (progress.finished >= progress.total && current === states.length - 1) done();
    else show();
  };

  step(0);
  return {
    step,
    run: async <T>(index: number, work: Promise<T>): Promise<T> => {
      step(index);
      try {
        const result = await work;
        if (index === states.length - 1) done();
        else {
          finishCurrent("done");
          show();
        }
        return result;
      } catch (error) {
        finishCurrent("failed", error instanceof Error ? error.message : String(error));
        show();
        throw error;
      }
    },
    onBatch,
    onStep: (index: number, progress?: BatchProgress): void => {
      if (finished) return;
      if (index !== current) step(index);
      if (progress !== undefined) onBatch(progress);
    },
    done,
    fail: (message: string): void => {
      finishCurrent("failed", message);
      show();
    },
  };
}

const bar = (finished: number, total: number): string => {
  const width = Math.min(Math.max(total, 1), 40);
  const filled = total === 0 ? width : Math.round((finished / total) * width);
  return "■".repeat(filled) + "□".repeat(width - filled);
};

function renderStepsHtml(states: readonly StepState[], totalSeconds: number | null): string {
  const lines = states.map((step, index) => {
    const position = states.length > 1 ? `Step ${index + 1} of ${states.length}: ` : "";
    const mark = step.state === "done" ? "✔" : step.state === "failed" ? "✘" : step.state === "running" ? "▶" : "·";
    const batch =
      step.batch === null
        ? ""
        : ` ${bar(step.batch.finished, step.batch.total)} ${step.batch.finished}/${step.batch.total} finished${step.batch.failed > 0 ? ` · ${step.batch.failed} failed` : ""}`;
    // A step that took no time (a configuration added while an earlier step ran) shows none: "0.0 s" says nothing.
    const time =
      step.seconds === null
        ? step.state === "running"
          ? " …"
          : ""
        : step.seconds < 0.05
          ? ""
          : ` · ${step.seconds.toFixed(1)} s`;
    const message = step.message === null ? "" : ` · ${escapeHtml(step.message)}`;
    const style = step.state === "waiting" ? "opacity:0.6" : "";
    return `<div style="${style}">${mark} ${position}${escapeHtml(step.label)}${batch}${time}${message}</div>`;
  });
  const state = totalSeconds === null ? "running" : "done";
  // One step already shows its time; the total is said for several.
  const footer =
    totalSeconds === null || states.length === 1
      ? ""
      : `<div style="opacity:0.75">Done in ${totalSeconds.toFixed(1)} s.</div>`;
  return `<div class="seedlab-progress" data-state="${state}" style="font-family:monospace;color:inherit">${lines.join("")}${footer}</div>`;
}

/**
 * `openBackend` with a live line: for the local backend, "Starting the local model …" at once (or, under
 * `npm start` and the walkthrough, "Connecting to the shared local model server …", then why not if it is not
 * used), then which server is used, how long opening took and where it listens; for other backends, which one
 * is used.
 * @param settings Settings from `loadSettings()`.
 * @param display Where to show it: `tslab.newDisplay()`, or any `{ html(text) }`.
 * @returns The open backend, and `startSeconds`: how long opening it took.
 * @throws What `openBackend` throws (the display then shows the failure).
 */
export async function openBackendWithProgress(
  settings: Settings,
  display: LiveDisplay,
): Promise<Backend & { startSeconds: number }> {
  const label =
    settings.backend !== "local"
      ? `Opening the ${settings.backend} backend (${settings.model})`
      : process.env[SHARED_SERVER_VARIABLE]
        ? `Connecting to the shared local model server (${settings.model})`
        : `Starting the local model (${settings.model}) in its own process`;
  let progress = showProgress(display, label);
  const started = performance.now();
  let backend: Backend;
  try {
    backend = await openBackend(settings, { onStatus: (status) => (progress = showProgress(display, status)) });
  } catch (error) {
    progress.fail(error instanceof Error ? error.message : String(error));
    throw error;
  }
  const startSeconds = (performance.now() - started) / 1000;
  const what =
    backend.kind !== "local"
      ? `Using ${escapeHtml(backend.kind)} · ${escapeHtml(backend.model)}`
      : `Local model ${escapeHtml(backend.model)} · server: ${escapeHtml(backend.server ?? "")} · ` +
        `${backend.server?.startsWith("shared") ? "opened" : "started"} in ${startSeconds.toFixed(1)} s`;
  display.html(
    `<div class="seedlab-progress" data-state="done" style="font-family:monospace;color:inherit">✔ ${what} · ${escapeHtml(backend.baseURL)}</div>`,
  );
  return Object.assign(backend, { startSeconds });
}
