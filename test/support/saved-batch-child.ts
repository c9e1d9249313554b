// A child process for test/saved-runs.test.ts: runs a saved batch against SEEDLAB_TEST_URL into
// SEEDLAB_TEST_PATH, so the test can kill it mid-batch (SIGKILL) and resume in its own process.
import { createClient } from "../../src/client";
import { runSavedBatch } from "../../src/core/saved-runs";
import { SAVED_REQUEST } from "./saved-request";

const url = process.env.SEEDLAB_TEST_URL;
const file = process.env.SEEDLAB_TEST_PATH;
if (!url || !file) throw new Error("Set SEEDLAB_TEST_URL and SEEDLAB_TEST_PATH.");
void runSavedBatch({
  client: createClient({ baseURL: url, maxRetries: 0 }),
  request: SAVED_REQUEST,
  runs: 8,
  concurrency: 1,
  path: file,
});
