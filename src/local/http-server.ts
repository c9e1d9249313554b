/**
 * The local server's HTTP layer: an OpenAI-compatible Chat Completions endpoint over one engine.
 *
 * Routes: `POST /v1/chat/completions` (JSON, or server-sent events with `stream: true`),
 * `GET /v1/models`, `GET /v1/models/:id`, `GET /health` (status, queue depth and limit, completion requests
 * received, pid, memory), `GET /seedlab/config` (the options it was started with, and what they resolved to),
 * `POST /seedlab/configurations` (body `{ "attention": "float16", "batchSize": 1 }`: serves the same loaded model
 * with other context settings, another fingerprint, under the returned `path`, e.g. `/configurations/float16-512/v1`;
 * made once per settings, kept until the server stops). Every completion response carries the seed
 * it used in the `x-seedlab-seed` header. Generations run through a queue, at most one per engine
 * worker at once (each worker has its own context), so concurrent requests get exactly the output they
 * get alone; a full queue answers 429 with Retry-After.
 */
import { randomBytes, randomInt } from "crypto";
import * as http from "http";
import type { Engine, GeneratedChoice, TokenLogprobEntry } from "./engine";
import { SEED_HEADER } from "../core/constants";
import { createWorkQueue, QueueFullError } from "./queue";
import { ApiError, ChatCompletionRequest, validateChatRequest } from "./request";
import type { LocalServerConfig } from "./shared";
import type { Attention } from "./start";
import { expected } from "../core/errors";

/** Options of the HTTP layer. */
export interface HttpServerOptions {
  /** Requests allowed to wait for a free engine worker before 429. Default 64. */
  maxQueue?: number;
  /** Largest accepted request body in bytes. Default 1 MiB (413 beyond). */
  maxBodyBytes?: number;
  /** The options the server was started with, reported at `GET /seedlab/config` (see shared.ts). Default: none. */
  config?: LocalServerConfig;
}

/**
 * Creates (does not start) the HTTP server.
 * @param engine - the loaded engine.
 * @param options - queue and body limits.
 * @returns a Node HTTP server; call `listen` on it.
 */
export function createLocalHttpServer(
  engine: Engine,
  { maxQueue = 64, maxBodyBytes = 1024 * 1024, config }: HttpServerOptions = {},
): http.Server {
  const created = Math.floor(Date.now() / 1000);
  const serving = (each: Engine): Served => ({
    engine: each,
    queue: createWorkQueue({ maxQueue, workers: each.workers }),
    modelRecord: { id: each.modelId, object: "model", created, owned_by: "seedlab-local" },
    completionRequests: 0,
  });
  const first = serving(engine);
  // Other configurations of the model (POST /seedlab/configurations), by their path segment.
  const others = new Map<string, Promise<Served>>();

  return http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError(500, `Internal error: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) sendJson(response, apiError.status, apiError.toBody());
      else response.end();
    });
  });

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    let route = url.pathname.replace(/\/+$/, "");
    let served = first;
    const underConfiguration = /^\/configurations\/([^/]+)(\/.*)?$/.exec(route);
    if (underConfiguration !== null) {
      const found = others.get(underConfiguration[1] ?? "");
      if (found === undefined) {
        throw new ApiError(
          404,
          `No configuration \`${underConfiguration[1] ?? ""}\` on this server. Create it with POST /seedlab/configurations.`,
          null,
          "not_found",
        );
      }
      served = await found;
      route = underConfiguration[2] ?? "";
    } else if (route === "/seedlab/configurations") {
      if (request.method !== "POST")
        throw new ApiError(405, "Use POST for /seedlab/configurations.", null, "method_not_allowed");
      const settings = readConfigurationSettings(parseJson(await readBody(request, maxBodyBytes)), first.engine);
      const name = `${settings.attention}-${settings.batchSize}`;
      let made = others.get(name);
      if (made === undefined) {
        made = first.engine.withSettings(settings).then(serving);
        others.set(name, made);
        made.catch(() => others.delete(name));
      }
      const other = (await made).engine;
      return sendJson(response, 200, {
        path: `/configurations/${name}/v1`,
        system_fingerprint: other.fingerprint,
        attention: settings.attention,
        batch_size: other.batchSize,
      });
    }
    const { engine, queue, modelRecord } = served;
    if (route === "/health") {
      // pid and memory let a load test (or an operator) watch the server process: rss now, peak since start.
      return requireMethod(request, "GET", () =>
        sendJson(response, 200, {
          status: "ok",
          model: engine.modelId,
          system_fingerprint: engine.fingerprint,
          cpu_variant: engine.cpuVariant,
          cpu_variant_setting: engine.cpuVariantSetting,
          // What the fingerprint hashes, so two fingerprints can be told apart by what differs.
          fingerprint_inputs: engine.fingerprintInputs,
          queued: queue.waiting,
          max_queue: maxQueue,
          running: queue.running,
          workers: engine.workers,
          completion_requests: served.completionRequests,
          pid: process.pid,
          rss_bytes: process.memoryUsage.rss(),
          max_rss_bytes: process.resourceUsage().maxRSS * 1024,
        }),
      );
    }
    if (route === "/seedlab/config") {
      // What this server serves, for a kernel deciding whether to borrow it (see shared.ts).
      return requireMethod(request, "GET", () =>
        sendJson(response, 200, {
          options: config ?? null,
          model: engine.modelId,
          model_path: engine.modelPath,
          system_fingerprint: engine.fingerprint,
          cpu_variant: engine.cpuVariant,
          cpu_variant_setting: engine.cpuVariantSetting,
          batch_size: engine.batchSize,
          threads: engine.threads,
          context_size: engine.contextSize,
          workers: engine.workers,
          pid: process.pid,
        }),
      );
    }
    if (route === "/v1/models")
      return requireMethod(request, "GET", () => sendJson(response, 200, { object: "list", data: [modelRecord] }));
    if (route.startsWith("/v1/models/")) {
      return requireMethod(request, "GET", () => {
        const id = decodeURIComponent(route.slice("/v1/models/".length));
        if (id !== engine.modelId)
          throw new ApiError(
            404,
            `The model \`${id}\` does not exist on this server. Use \`${engine.modelId}\`.`,
            "model",
            "model_not_found",
          );
        sendJson(response, 200, modelRecord);
      });
    }
    if (route === "/v1/chat/completions") {
      if (request.method !== "POST")
        throw new ApiError(405, "Use POST for /v1/chat/completions.", null, "method_not_allowed");
      served.completionRequests++;
      const body = parseJson(await readBody(request, maxBodyBytes));
      // The plain-text prompt shows neither roles nor names; a chat template gets roles only.
      const acceptNames = !engine.fingerprintInputs.promptFormat.startsWith("chat-template:");
      const chatRequest = validateChatRequest(body, engine.modelId, { acceptNames });
      const promptTokens = engine.tokenizeMessages(chatRequest.messages);
      const maxTokens = fitToContext(chatRequest, promptTokens.length, engine.contextSize);
      try {
        await queue.run(() => complete(engine, response, chatRequest, promptTokens, maxTokens));
      } catch (error) {
        if (!(error instanceof QueueFullError)) throw error;
        response.setHeader("retry-after", "1");
        throw new ApiError(429, error.message, null, "rate_limit_exceeded");
      }
      return;
    }
    throw new ApiError(
      404,
      `Unknown route ${request.method ?? ""} ${url.pathname}. Routes: POST /v1/chat/completions, GET /v1/models, GET /health, GET /seedlab/config, POST /seedlab/configurations.`,
      null,
      "not_found",
    );
  }

  async function complete(
    engine: Engine,
    response: http.ServerResponse,
    chatRequest: ChatCompletionRequest,
    promptTokens: number[],
    maxTokens: number,
  ): Promise<void> {
    const base = {
      id: `chatcmpl-${randomBytes(12).toString("hex")}`,
      created: Math.floor(Date.now() / 1000),
      model: engine.modelId,
      system_fingerprint: engine.fingerprint,
    };
    const generationOptions = (choiceIndex: number) => ({
      promptTokens,
      seed: chatRequest.seed,
      choiceIndex,
      temperature: chatRequest.temperature,
      topP: chatRequest.topP,
      maxTokens,
      stop: chatRequest.stop,
      logprobs: chatRequest.logprobs,
      topLogprobs: chatRequest.topLogprobs,
    });
    const usageOf = (choices: GeneratedChoice[]) => {
      const completionTokens = choices.reduce((sum, choice) => sum + choice.completionTokens, 0);
      return {
        prompt_tokens: promptTokens.length,
        completion_tokens: completionTokens,
        total_tokens: promptTokens.length + completionTokens,
      };
    };

    if (!chatRequest.stream) {
      const choices: GeneratedChoice[] = [];
      for (let index = 0; index < chatRequest.n; index++) choices.push(await engine.generate(generationOptions(index)));
      response.setHeader(SEED_HEADER, String(chatRequest.seed));
      sendJson(response, 200, {
        ...base,
        object: "chat.completion",
        choices: choices.map((choice, index) => ({
          index,
          message: { role: "assistant", content: choice.text, refusal: null, annotations: [] },
          logprobs: chatRequest.logprobs ? { content: choice.logprobs, refusal: null } : null,
          finish_reason: choice.finishReason,
        })),
        usage: usageOf(choices),
      });
      return;
    }

    response.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      [SEED_HEADER]: String(chatRequest.seed),
    });
    const send = (choices: unknown[], extra: Record<string, unknown> = {}) => {
      if (response.destroyed) throw new Error("The client closed the stream.");
      // Obfuscation (asked for with stream_options.include_obfuscation) is random padding of random length,
      // as OpenAI sends to hide payload sizes; it never touches the text.
      const padding = chatRequest.includeObfuscation
        ? { obfuscation: randomBytes(12).toString("base64url").slice(0, randomInt(1, 17)) }
        : {};
      response.write(
        `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices, ...extra, ...padding })}\n\n`,
      );
    };
    const logprobsOf = (entries: TokenLogprobEntry[]) =>
      chatRequest.logprobs ? { content: entries, refusal: null } : null;
    const choices: GeneratedChoice[] = [];
    for (let index = 0; index < chatRequest.n; index++) {
      send([{ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]);
      const choice = await engine.generate({
        ...generationOptions(index),
        onDelta: (content, entries) =>
          send([{ index, delta: { content }, logprobs: logprobsOf(entries), finish_reason: null }]),
      });
      choices.push(choice);
      send([{ index, delta: {}, logprobs: null, finish_reason: choice.finishReason }]);
    }
    if (chatRequest.includeUsage) send([], { usage: usageOf(choices) });
    response.end("data: [DONE]\n\n");
  }
}

/** An engine the server answers with: the first one, or another configuration of its model. */
interface Served {
  engine: Engine;
  queue: ReturnType<typeof createWorkQueue>;
  modelRecord: { id: string; object: string; created: number; owned_by: string };
  completionRequests: number;
}

/** The body of POST /seedlab/configurations: `attention` and `batchSize`, each defaulting to the first engine's. */
function readConfigurationSettings(body: unknown, engine: Engine): { attention: Attention; batchSize: number } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'Send a JSON object, e.g. { "attention": "float16" }.', null, "invalid_request_error");
  }
  const { attention, batchSize, ...unknown } = body as Record<string, unknown>;
  const extra = Object.keys(unknown);
  if (extra.length > 0) {
    throw new ApiError(
      400,
      `Unknown setting(s) ${extra.map((name) => `\`${name}\``).join(", ")}: a configuration can set \`attention\` and \`batchSize\` (another CPU variant or model needs another server).`,
      extra[0] ?? null,
      "invalid_request_error",
    );
  }
  const firstAttention: Attention = engine.fingerprintInputs.attention.endsWith("f16") ? "float16" : "float32";
  const chosenAttention = attention ?? firstAttention;
  if (chosenAttention !== "float32" && chosenAttention !== "float16") {
    throw new ApiError(
      400,
      expected("attention", "float32 or float16", attention, "Leave it unset for the server's."),
      "attention",
      "invalid_request_error",
    );
  }
  const chosenBatchSize = batchSize ?? engine.batchSize;
  if (
    typeof chosenBatchSize !== "number" ||
    !Number.isInteger(chosenBatchSize) ||
    chosenBatchSize < 1 ||
    chosenBatchSize > engine.contextSize
  ) {
    throw new ApiError(
      400,
      expected(
        "batchSize",
        `a whole number from 1 to ${engine.contextSize}`,
        batchSize,
        "Leave it unset for the server's.",
      ),
      "batchSize",
      "invalid_request_error",
    );
  }
  return { attention: chosenAttention, batchSize: chosenBatchSize };
}

/** The completion budget: the request's max tokens, else what is left of the context. */
function fitToContext(chatRequest: ChatCompletionRequest, promptTokenCount: number, contextSize: number): number {
  const room = contextSize - promptTokenCount;
  if (room < 1) {
    throw new ApiError(
      400,
      `The prompt is ${promptTokenCount} tokens; the context holds ${contextSize}. Shorten \`messages\` (or start the server with a larger contextSize).`,
      "messages",
      "context_length_exceeded",
    );
  }
  if (chatRequest.maxTokens === null) return room;
  if (chatRequest.maxTokens > room) {
    throw new ApiError(
      400,
      `\`max_tokens\` = ${chatRequest.maxTokens} does not fit: the prompt is ${promptTokenCount} tokens and the context holds ${contextSize}, so at most ${room}.`,
      "max_tokens",
      "context_length_exceeded",
    );
  }
  return chatRequest.maxTokens;
}

function requireMethod(request: http.IncomingMessage, method: string, handler: () => void): void {
  if (request.method !== method)
    throw new ApiError(405, `Use ${method} for ${request.url ?? ""}.`, null, "method_not_allowed");
  handler();
}

function readBody(request: http.IncomingMessage, maxBodyBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    new ApiError(
      413,
      `The request body is larger than ${maxBodyBytes} bytes. Send a smaller request.`,
      null,
      "request_too_large",
    );
  if (Number(request.headers["content-length"] ?? 0) > maxBodyBytes) {
    request.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        chunks.length = 0;
        reject(tooLarge());
      } else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new ApiError(
      400,
      `The request body is not valid JSON (${error instanceof Error ? error.message : String(error)}).`,
      null,
      "invalid_json",
    );
  }
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
