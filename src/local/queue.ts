/**
 * The local server's request queue: at most `workers` tasks run at once (one per engine worker), the
 * rest wait in arrival order. Each engine worker has its own llama.cpp context, so a request's output
 * does not depend on what runs beside it: concurrent requests give exactly the outputs they give alone.
 */
import { SeedlabError, expected } from "../core/errors";

/** Thrown by `run` when `maxQueue` tasks are already waiting. */
export class QueueFullError extends SeedlabError {
  constructor(readonly maxQueue: number) {
    super(
      `The local server's queue is full (${maxQueue} requests waiting). Retry shortly, or send fewer requests at once.`,
    );
    this.name = "QueueFullError";
  }
}

/** A queue that runs up to `workers` tasks at a time, starting them in arrival order. */
export interface WorkQueue {
  /**
   * Runs a task once a worker is free and every task queued before it has started.
   * @throws QueueFullError (synchronously) when `maxQueue` tasks are already waiting.
   */
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Tasks waiting to start (running ones not counted). */
  readonly waiting: number;
  /** Tasks running now. */
  readonly running: number;
}

/** The former name of `WorkQueue` (one worker). */
export type SerialQueue = WorkQueue;

/**
 * Creates a queue.
 * @param options.maxQueue - how many tasks may wait for a worker; 0 = none.
 * @param options.workers - how many tasks run at once (an integer >= 1). Default 1.
 * @returns the queue.
 */
export function createWorkQueue({ maxQueue, workers = 1 }: { maxQueue: number; workers?: number }): WorkQueue {
  if (!Number.isInteger(workers) || workers < 1)
    throw new SeedlabError(
      expected("workers", "a whole number from 1 up", workers, "Use 1 for one request at a time."),
    );
  const waiting: Array<() => void> = [];
  let running = 0;
  const startNext = (): void => {
    while (running < workers && waiting.length > 0) {
      running++;
      (waiting.shift() as () => void)();
    }
  };
  return {
    get waiting() {
      return waiting.length;
    },
    get running() {
      return running;
    },
    run<T>(task: () => Promise<T>): Promise<T> {
      if (running >= workers && waiting.length >= maxQueue) throw new QueueFullError(maxQueue);
      return new Promise<T>((resolve, reject) => {
        waiting.push(() => {
          let result: Promise<T>;
          try {
            result = task();
          } catch (error) {
            result = Promise.reject(error);
          }
          result.then(resolve, reject).finally(() => {
            running--;
            startNext();
          });
        });
        startNext();
      });
    },
  };
}

/**
 * Creates a queue that runs one task at a time.
 * @param options.maxQueue - how many tasks may wait behind the running one; 0 = none.
 * @returns the queue.
 */
export function createSerialQueue({ maxQueue }: { maxQueue: number }): WorkQueue {
  return createWorkQueue({ maxQueue, workers: 1 });
}
