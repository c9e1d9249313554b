/**
 * Opens the backend the settings name: the OpenAI API, an OpenAI-compatible URL, or the embedded
 * local model (started here in its own process, closed by `close()`).
 */
import type OpenAI from "openai";
import { createClient } from "./client";
import type { Settings } from "./settings";
import { startLocalServer } from "./local/start";
import type { BackendKind } from "./core/validate";

/** An open backend: a client ready to use and the model to ask for. */
export interface Backend {
  kind: BackendKind;
  /** The model id to send: the setting, or for `local` without SEEDLAB_MODEL the id the server serves. */
  model: string;
  /** The base URL the client talks to (for `local`: http://127.0.0.1:PORT/v1). */
  baseURL: string;
  client: OpenAI;
  /** Stops the local server (for other backends it does nothing). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Opens a backend. For `local` this starts the model server on a free port of 127.0.0.1
 * (about half a second); close it with `backend.close()` when done.
 * @param settings Settings from `loadSettings()`.
 * @returns The open backend.
 * @throws When the local model file cannot be found or the server cannot start (the message says how to fix it).
 */
export async function openBackend(settings: Settings): Promise<Backend> {
  if (settings.backend !== "local") {
    const baseURL = settings.baseURL as string;
    return {
      kind: settings.backend,
      model: settings.model,
      baseURL,
      client: createClient({ ...settings, baseURL }),
      close: async () => {},
    };
  }
  const server = await startLocalServer(settings.modelPath === null ? {} : { modelPath: settings.modelPath });
  let closed: Promise<void> | null = null;
  return {
    kind: "local",
    // A GGUF file other than the default is served under its own name: ask for that unless a model was set.
    model: settings.sources.SEEDLAB_MODEL === "default" ? server.model : settings.model,
    baseURL: server.url,
    client: createClient({ ...settings, baseURL: server.url }),
    close: () => (closed ??= server.close()),
  };
}
