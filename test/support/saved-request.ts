import type { ChatRequest } from "../../src/core/chat";

/** The request test/saved-runs.test.ts and its child process both run (so their hashes match). */
export const SAVED_REQUEST: ChatRequest = {
  model: "m",
  user: "tell a story",
  seed: 123,
  temperature: 0,
  max_tokens: 20,
};
