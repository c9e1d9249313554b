/**
 * Every default and shared name of a request and a batch, defined once: the functions' defaults, the settings'
 * fallbacks and the local server's seed header all read them from here.
 */

/** Default number of runs in a batch (the guide's loops of 5). */
export const DEFAULT_RUNS = 5;
/** Default number of requests in flight at once in a batch (`SEEDLAB_CONCURRENCY`). */
export const DEFAULT_CONCURRENCY = 5;
/** Default per-attempt request timeout, in milliseconds (`SEEDLAB_TIMEOUT_MS`). */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** Default number of retries after a failed attempt, the `openai` SDK's own default (`SEEDLAB_MAX_RETRIES`). */
export const DEFAULT_MAX_RETRIES = 2;
/** Default `temperature` of a request (the guide's). */
export const DEFAULT_TEMPERATURE = 0.7;
/** Default `max_tokens` of a request (the guide's). */
export const DEFAULT_MAX_TOKENS = 200;
/** The response header in which the local server reports the seed it used (seedlab records it as `seedUsed`). */
export const SEED_HEADER = "x-seedlab-seed";
