/**
 * The embedded model's OpenAI-compatible server. From any code or notebook: `startLocalServer` (start.ts), which runs
 * the server in a child process. `serve.ts`, `engine.ts` and `sampler.ts` load node-llama-cpp and are deliberately not
 * re-exported here: a notebook kernel must never load the model itself.
 */
export { startLocalServer, type LocalServer, type LocalServerOptions } from "./start";
export { DEFAULT_MODEL_FILE, findModelPath } from "./model-path";
