/**
 * Opens the backend the settings name: the OpenAI API, an OpenAI-compatible URL, or the embedded
 * local model (started here in its own process, closed by `close()`). A process holds one backend
 * at a time: opening another closes the previous one (see core/backend-session.ts).
 */
import type OpenAI from "openai";
import { closeCurrentBackend, markClientClosed, setCurrentBackend } from "./core/backend-session";
import { createClient } from "./client";
import type { Settings } from "./settings";
import { startLocalServer } from "./local/start";
import { ShownAs, formatValue, invalidParameter } from "./core/errors";
import type { BackendKind } from "./core/validate";

/** An open backend: a client ready to use and the model to ask for. */
export interface Backend {
  kind: BackendKind;
  /** The model id to send: the setting, or for `local` without SEEDLAB_MODEL the id the server serves. */
  model: string;
  /** The base URL the client talks to (for `local`: http://127.0.0.1:PORT/v1). */
  baseURL: string;
  client: OpenAI;
  /** How the model was chosen when no model was set (e.g. the one model a compatible server lists), else null. */
  notice: string | null;
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
    const model = settings.model ?? (await onlyServedModel(client, baseURL));
    const forget = setCurrentBackend({ replace: async () => markClientClosed(client, "replaced") });
    return {
      kind: settings.backend,
      model,
      baseURL,
      client,
      notice:
        settings.model === null
          ? `SEEDLAB_MODEL is not set: using \`${model}\`, the one model ${baseURL} serves.`
          : null,
      close: async () => {
        markClientClosed(client, "closed");
        forget();
      },
    };
  }
  const server = await startLocalServer({
    cpuVariant: settings.cpuVariant,
    ...(settings.modelPath === null ? {} : { modelPath: settings.modelPath }),
  });
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
    model: settings.sources.SEEDLAB_MODEL === "default" || settings.model === null ? server.model : settings.model,
    baseURL: server.url,
    client,
    notice: null,
    close: () => shutDown("closed"),
  };
}

/**
 * The one model a server lists at `GET /v1/models` (llama.cpp's server, LM Studio and `seedlab serve`
 * list exactly one).
 * @throws {InvalidParameterError} For `SEEDLAB_MODEL` when the server lists none or several (naming
 *   them), or when the list cannot be read.
 */
async function onlyServedModel(client: OpenAI, baseURL: string): Promise<string> {
  let ids: string[];
  try {
    ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidParameter(
      "SEEDLAB_MODEL",
      "set",
      new ShownAs("nothing"),
      `The server at ${formatValue(baseURL)} was asked for its models at GET /models: listing them failed (${reason}). ` +
        "Set SEEDLAB_MODEL (`--model` on the command line) to a model that server serves, e.g. SEEDLAB_MODEL=llama3.2 for Ollama.",
    );
  }
  if (ids.length === 1) return ids[0] as string;
  const listed =
    ids.length === 0
      ? "lists no models"
      : `serves ${ids.length} models: ${ids.map((id) => formatValue(id)).join(", ")}`;
  throw invalidParameter(
    "SEEDLAB_MODEL",
    "set",
    new ShownAs("nothing"),
    `The OpenAI-compatible server at ${formatValue(baseURL)} ${listed}. Set SEEDLAB_MODEL (\`--model\` on the command line) to ${ids.length === 0 ? "a model it serves" : "one of them"}.`,
  );
}
