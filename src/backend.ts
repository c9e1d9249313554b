/**
 * Opens the backend the settings name: the OpenAI API, an OpenAI-compatible URL, or the embedded
 * local model (started here in its own process, closed by `close()`). A process holds one backend
 * at a time: opening another closes the previous one (see backend-session.ts).
 */
import type OpenAI from "openai";
import { closeCurrentBackend, markClientClosed, setCurrentBackend } from "./backend-session";
import { createClient } from "./client";
import type { Settings } from "./config";
import { startLocalServer } from "./local/start";
import type { BackendKind } from "./validate";

/** An open backend: a client ready to use and the model to ask for. */
export interface Backend {
  kind: BackendKind;
  /** The model id to send: the setting, or for `local` without SEEDLAB_MODEL the id the server serves. */
  model: string;
  /** The base URL the client talks to (for `local`: http://127.0.0.1:PORT/v1). */
  baseURL: string;
  client: OpenAI;
  /**
   * Stops the local server; afterwards the client refuses requests at once (`BackendClosedError`,
   * "Run the Set-up cell again"). Safe to call twice.
   */
  close(): Promise<void>;
}

/**
 * Opens a backend. For `local` this starts the model server on a free port of 127.0.0.1
 * (about half a second); close it with `backend.close()` when done. The backend a previous call
 * opened is closed first (a re-run Set-up cell replaces its backend; its client then refuses
 * requests, saying so): to hold several servers at once, use `startLocalServer`.
 * @param settings Settings from `loadSettings()`.
 * @returns The open backend.
 * @throws When the local model file cannot be found or the server cannot start (the message says how to fix it).
 */
export async function openBackend(settings: Settings): Promise<Backend> {
  await closeCurrentBackend();
  if (settings.backend !== "local") {
    const baseURL = settings.baseURL as string;
    const client = createClient({ ...settings, baseURL });
    const forget = setCurrentBackend({ replace: async () => markClientClosed(client, "replaced") });
    return {
      kind: settings.backend,
      model: settings.model,
      baseURL,
      client,
      close: async () => {
        markClientClosed(client, "closed");
        forget();
      },
    };
  }
  const server = await startLocalServer(settings.modelPath === null ? {} : { modelPath: settings.modelPath });
  const client = createClient({ ...settings, baseURL: server.url });
  let closed: Promise<void> | null = null;
  const shutDown = (reason: "closed" | "replaced"): Promise<void> => {
    markClientClosed(client, reason);
    forget();
    return (closed ??= server.close());
  };
  const forget = setCurrentBackend({ replace: () => shutDown("replaced") });
  return {
    kind: "local",
    // A GGUF file other than the default is served under its own name: ask for that unless a model was set.
    model: settings.sources.SEEDLAB_MODEL === "default" ? server.model : settings.model,
    baseURL: server.url,
    client,
    close: () => shutDown("closed"),
  };
}
