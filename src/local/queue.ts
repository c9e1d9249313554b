/**
 * A one-at-a-time task queue. The engine has one context, and running requests strictly one after
 * another is also what makes concurrent requests give exactly the outputs they give alone.
 */
import { SeedlabError } from "../core/errors";

/** Thrown by `run` when `maxQueue` tasks are already waiting. */
export class QueueFullError extends SeedlabError {
  constructor(readonly maxQueue: number) {
    super(`The local server's queue is full (${maxQueue} requests waiting). Retry shortly, or send fewer requests at once.`);
    this.name = "QueueFullError";
  }
}

/** A queue that runs one task at a time, in arrival order. */
export interface SerialQueue {
  /**
   * Runs a task after every task queued before it.
   * @throws QueueFullError (synchronously) when `maxQueue` tasks are already waiting behind the running one.
   */
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Tasks waiting to start (the running one not counted). */
  readonly waiting: number;
}

/**
 * Creates a serial queue.
 * @param options.maxQueue - how many tasks may wait behind the running one; 0 = none.
 * @returns the queue.
 */
export function createSerialQueue({ maxQueue }: { maxQueue: number }): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  let pending = 0; // queued or running
  return {
    get waiting() {
      return Math.max(0, pending - 1);
    },
    run<T>(task: () => Promise<T>): Promise<T> {
      if (pending - 1 >= maxQueue) throw new QueueFullError(maxQueue);
      pending++;
      const result = tail.then(task);
      tail = result.then(
        () => pending--,
        () => pending--,
      );
      return result;
    },
  };
}
