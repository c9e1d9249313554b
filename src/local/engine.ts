/**
 * The inference engine of the local server: node-llama-cpp on the CPU, one model and `workers`
 * contexts of one sequence each (decoded token by token, see decoder.ts), tokens sampled in JavaScript
 * from the model's probabilities (see sampler.ts). Each context computes alone (its own threads, nothing
 * batched with other requests), so a generation's output does not depend on how many run beside it.
 * Callers run at most `workers` generations at once (the HTTP layer's queue does).
 *
 * node-llama-cpp is an ES module with top-level await: it is loaded with a dynamic `import()`, and
 * this file must never be imported by code that runs in a notebook kernel.
 */
import type { LlamaContext, LlamaModel, Token } from "node-llama-cpp";
import * as os from "os";
import * as path from "path";
import { readFileSync } from "fs";
import { applyCpuVariant, confirmCpuVariant, describeVariantLoadFailure } from "./cpu-variant";
import { SeedlabError, expected } from "../core/errors";
import { createDecoder, type Decoder } from "./decoder";
import { detectEndOfText } from "./end-of-text";
import { computeFingerprint, FingerprintInputs, sha256OfFile } from "./fingerprint";
import { checkEmbeddedModel } from "./model-path";
import { PROMPT_FORMAT_VERSION, renderPlainTextPrompt } from "./prompt";
import { createSeededRandom, LOGPROB_FLOOR, SAMPLER_VERSION, sampleToken } from "./sampler";
import { checkAttention, type Attention } from "./start";

/** How to load the engine. */
export interface EngineOptions {
  /** Absolute path of the GGUF file. */
  modelPath: string;
  /** Tokens evaluated per llama.cpp batch. Default 512. Part of the fingerprint: 1 changes outputs. */
  batchSize?: number;
  /** CPU threads. Default 1 (on 2 cores, 1 thread is many times faster than 2). */
  threads?: number;
  /** Context window in tokens (prompt + completion). Default: the model's training context, at most 2048. */
  contextSize?: number;
  /** `auto` (default), `portable` or a ggml CPU variant's name (see cpu-variant.ts). Only the first engine of a process chooses. */
  cpuVariant?: string;
  /**
   * How attention is computed. `float32` (default): plain attention (not flash attention) over a float32 KV
   * cache. `float16`: the same over a float16 KV cache, llama.cpp's default cache type, which rounds every key
   * and value to float16. CPU variants round differently: measured on one AVX2 CPU over 82 seeded texts (200
   * tokens, temperature 0.7), variants sse42..haswell differed from x64 in 15-17 texts with a float16 cache,
   * 25-34 with llama.cpp's defaults (flash attention too), 0-1 with `float32`, which is also about 20% faster
   * per token here than llama.cpp's defaults. Part of the fingerprint.
   */
  attention?: Attention;
  /**
   * Generations that can run at once, each in its own context with `threads` threads. Default
   * `defaultWorkers()`. Not part of the fingerprint: a text does not depend on it (tested).
   */
  workers?: number;
}

/**
 * Engine workers by default: two per CPU core (each runs one thread), at most 4. A generation alternates between
 * JavaScript (this process's one thread: the sampler, the HTTP layer) and llama.cpp (a thread of its own): with
 * one generation per core, a core waits while its generation is on the other side. Measured on 2 cores: the server
 * used at most 1.46 cores with 2 workers; the walkthrough took 23.7 s with 2, 20.8 s with 4.
 * @returns an integer from 1 to 4.
 */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(4, 2 * os.availableParallelism()));
}

/** A token's log-probability in OpenAI's `logprobs.content` shape. */
export interface TokenLogprobEntry {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: Array<{ token: string; logprob: number; bytes: number[] }>;
}

/** What to generate for one choice. */
export interface GenerationOptions {
  promptTokens: readonly number[];
  seed: number;
  choiceIndex: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  /** Most tokens to generate; the caller ensures the prompt plus this fits the context. */
  maxTokens: number;
  stop: readonly string[];
  /** Whether to record per-token log-probabilities, and how many alternatives for each. */
  logprobs: boolean;
  topLogprobs: number;
  /** Called with each new piece of text as soon as it is final (for streaming). */
  onDelta?: (delta: string, logprobs: TokenLogprobEntry[]) => void;
}

/** One generated choice. */
export interface GeneratedChoice {
  text: string;
  finishReason: "stop" | "length";
  completionTokens: number;
  logprobs: TokenLogprobEntry[];
}

/** A loaded model, ready to generate. */
export interface Engine {
  /** The served model id: the GGUF file name without `.gguf`. */
  modelId: string;
  modelPath: string;
  fingerprint: string;
  fingerprintInputs: FingerprintInputs;
  contextSize: number;
  batchSize: number;
  threads: number;
  /** The ggml CPU variant running (what `auto` resolved to), and the setting that chose it. */
  cpuVariant: string;
  cpuVariantSetting: string;
  /** Generations that can run at once (see `EngineOptions.workers`). */
  workers: number;
  /** Renders and tokenizes messages (the model's chat template, else plain text; see prompt.ts). */
  tokenizeMessages(messages: ReadonlyArray<{ role: string; content: string }>): number[];
  generate(options: GenerationOptions): Promise<GeneratedChoice>;
  /**
   * The same loaded model with other context settings: another configuration (its own contexts, its own
   * fingerprint) in this process, without loading anything again. Closed with this engine.
   * @throws {SeedlabError} for a bad setting.
   */
  withSettings(settings: ConfigurationSettings): Promise<Engine>;
  close(): Promise<void>;
}

/** What {@link Engine.withSettings} can change: the settings of the contexts, not the model or the CPU variant. */
export interface ConfigurationSettings {
  batchSize?: number;
  attention?: Attention;
}

/** node-llama-cpp's context options for each `Attention`. */
const ATTENTION_SETTINGS = {
  float32: { flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" },
  float16: { flashAttention: false, experimentalKvCacheKeyType: "F16", experimentalKvCacheValueType: "F16" },
} as const;

/**
 * The options each engine worker's context is created with (one sequence, the attention's cache type, no
 * flash attention). Exported so the benchmark's raw engine and the tests create the same contexts.
 */
export function workerContextOptions({
  contextSize,
  batchSize,
  threads,
  attention,
}: {
  contextSize: number;
  batchSize: number;
  threads: number;
  attention: Attention;
}) {
  return { contextSize, batchSize, threads, sequences: 1, ...ATTENTION_SETTINGS[attention] };
}

/** Tokens of context given to the detokenizer so a token's leading space renders as it does in the text. */
const DETOKENIZE_CONTEXT_TOKENS = 8;

/**
 * Loads the model and creates the engine's single context.
 * @param options - model path and context settings.
 * @returns the engine.
 * @throws Error when the model cannot be loaded.
 */
export async function loadEngine({
  modelPath,
  batchSize = 512,
  threads = 1,
  contextSize,
  cpuVariant,
  workers = defaultWorkers(),
  attention = "float32",
}: EngineOptions): Promise<Engine> {
  checkAttention(attention);
  if (!Number.isInteger(workers) || workers < 1) {
    throw new SeedlabError(
      expected("workers", "a whole number from 1 up", workers, "Use 1 for one generation at a time."),
    );
  }
  const variantChoice = applyCpuVariant(cpuVariant);
  const nodeLlamaCpp = await import("node-llama-cpp");
  // Apple Silicon has only node-llama-cpp's Metal build; its layers stay on the CPU (gpuLayers: 0) so
  // outputs are computed as on every other laptop. Everywhere else: the CPU build.
  const gpu = process.platform === "darwin" && process.arch === "arm64" ? "metal" : false;
  const llama = await nodeLlamaCpp
    .getLlama({ gpu, build: "never", logLevel: nodeLlamaCpp.LlamaLogLevel.error })
    .catch((error: unknown) => {
      throw new Error(
        `No prebuilt llama.cpp binary for this machine (${process.platform}-${process.arch}, gpu: ${gpu || "none"}) was found ` +
          `in node-llama-cpp's packages (${error instanceof Error ? error.message : String(error)}). ` +
          "Run `npm ci` again from the project root so npm installs this platform's @node-llama-cpp package; " +
          "prebuilt binaries exist for macOS (arm64, x64), Windows (x64, arm64) and Linux (x64, arm64)." +
          describeVariantLoadFailure(variantChoice),
        { cause: error },
      );
    });
  const modelSha256 = await sha256OfFile(modelPath);
  checkEmbeddedModel(modelPath, modelSha256);
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  const resolvedContextSize = contextSize ?? Math.min(model.trainContextSize, 2048);
  const chatTemplate = readChatTemplate(model);
  // llama2.c models end a story with BOS (see end-of-text.ts).
  const endOfText = detectEndOfText(model.fileInfo.metadata);
  const bosEndsText = endOfText === "eog+bos" && model.tokens.bos !== null;
  const endsText = (token: Token) => model.isEogToken(token) || (bosEndsText && token === model.tokens.bos);
  const chatWrapper =
    chatTemplate === undefined ? undefined : new nodeLlamaCpp.JinjaTemplateChatWrapper({ template: chatTemplate });
  const modelInputs = {
    modelSha256,
    engineVersion: `node-llama-cpp@${readEngineVersion()}`,
    llamaCppRelease: `${llama.llamaCppRelease.repo}@${llama.llamaCppRelease.release}`,
    gpu: llama.gpu === false ? "none" : llama.gpu,
    binaries: variantChoice.binaries,
    cpuVariant: confirmCpuVariant(variantChoice),
    samplerVersion: SAMPLER_VERSION,
    promptFormat: chatTemplate === undefined ? PROMPT_FORMAT_VERSION : `chat-template:${chatTemplate}`,
    endOfText,
  };

  const tokenizeMessages = (messages: ReadonlyArray<{ role: string; content: string }>): Token[] => {
    if (chatWrapper !== undefined) {
      const chatHistory = messages.map((message) =>
        message.role === "assistant"
          ? { type: "model" as const, response: [message.content] }
          : message.role === "user"
            ? { type: "user" as const, text: message.content }
            : { type: "system" as const, text: message.content },
      );
      const { contextText } = chatWrapper.generateContextState({
        chatHistory: [...chatHistory, { type: "model", response: [] }],
      });
      return contextText.tokenize(model.tokenizer);
    }
    const bos = model.tokens.bos;
    const textTokens = model.tokenize(renderPlainTextPrompt(messages), false);
    return bos === null ? textTokens : [bos, ...textTokens];
  };

  // Every configuration of this model (the first, and those made by withSettings), closed with the first.
  const configurations: Array<{ decoders: Decoder[]; contexts: LlamaContext[] }> = [];
  const createConfiguration = async (
    settings: { batchSize: number; attention: Attention },
    owner: boolean,
  ): Promise<Engine> => {
    checkAttention(settings.attention);
    if (!Number.isInteger(settings.batchSize) || settings.batchSize < 1) {
      throw new SeedlabError(
        expected("batchSize", "a whole number from 1 up", settings.batchSize, "Leave it unset for 512."),
      );
    }
    const contexts: LlamaContext[] = [];
    const decoders: Decoder[] = [];
    const own = { contexts, decoders };
    configurations.push(own);
    for (let index = 0; index < workers; index++) {
      const created = await model.createContext(
        workerContextOptions({ contextSize: resolvedContextSize, ...settings, threads }),
      );
      contexts.push(created);
      decoders.push(createDecoder(model, created, created.getSequence()));
    }
    const context = contexts[0] as LlamaContext;
    const idleDecoders = [...decoders];
    const fingerprintInputs: FingerprintInputs = {
      ...modelInputs,
      batchSize: context.batchSize,
      attention:
        settings.attention === "float32" ? "no-flash-attention,kv-cache-f32" : "no-flash-attention,kv-cache-f16",
    };
    return {
      modelId: path.basename(modelPath).replace(/\.gguf$/i, ""),
      modelPath,
      fingerprint: computeFingerprint(fingerprintInputs),
      fingerprintInputs,
      contextSize: context.contextSize,
      batchSize: context.batchSize,
      threads,
      cpuVariant: fingerprintInputs.cpuVariant,
      cpuVariantSetting: variantChoice.setting,
      workers,
      tokenizeMessages,
      generate: async (options) => {
        const decoder = idleDecoders.pop();
        if (decoder === undefined)
          throw new Error(`All ${workers} engine workers are busy: run at most ${workers} generations at once.`);
        try {
          return await generateChoice(model, decoder, options, endsText);
        } finally {
          idleDecoders.push(decoder);
        }
      },
      withSettings: (other) => createConfiguration({ batchSize, attention, ...other }, false),
      // The first configuration's close() ends them all and the model; another's, only its own contexts.
      close: async () => {
        const index = configurations.indexOf(own);
        const closing = owner ? configurations.splice(0) : index === -1 ? [] : configurations.splice(index, 1);
        for (const configuration of closing) {
          for (const each of configuration.decoders) each.dispose();
          for (const each of configuration.contexts) await each.dispose();
        }
        if (owner) {
          await model.dispose();
          await llama.dispose();
        }
      },
    };
  };
  return createConfiguration({ batchSize, attention }, true);
}

async function generateChoice(
  model: LlamaModel,
  decoder: Decoder,
  options: GenerationOptions,
  endsText: (token: Token) => boolean,
): Promise<GeneratedChoice> {
  const { temperature, topP, maxTokens, stop, onDelta } = options;
  const promptTokens = options.promptTokens as readonly Token[];
  const random = createSeededRandom(options.seed, options.choiceIndex);
  // A fresh sequence for every choice: the prompt is always evaluated the same way (no cache reuse).
  decoder.reset();
  const promptTail = promptTokens.slice(-DETOKENIZE_CONTEXT_TOKENS);
  const generatedTokens: Token[] = [];
  const logprobs: TokenLogprobEntry[] = [];
  // Where each logprob entry's token ends in the text (tracked whenever the text is built per token), and
  // how many entries were streamed: an entry is streamed with the delta that completes its text.
  const logprobEnds: number[] = [];
  let emittedLogprobs = 0;
  let emittedText = "";
  let text = "";
  let finishReason: "stop" | "length" = "length";
  // Sampling needs the probability of every token of the vocabulary. Greedy decoding takes llama.cpp's
  // own argmax (the same token: ties go to the lower id in both) and, for log-probabilities, just the
  // chosen token's probability: copying the whole vocabulary out of llama.cpp per token costs far more.
  const greedy = temperature === 0;
  const want = {
    probabilities: !greedy || (options.logprobs && options.topLogprobs > 0),
    confidence: greedy && options.logprobs && options.topLogprobs === 0,
  };
  let input: readonly Token[] = promptTokens;

  let completionTokens = 0;
  while (completionTokens < maxTokens) {
    let token: Token;
    let logprob = 0;
    let alternatives: Array<{ token: number; logprob: number }> = [];
    const next = await decoder.evaluate(input, want);
    if (want.probabilities) {
      if (next.probabilities === undefined) throw new Error("The engine returned no probabilities for the last token.");
      const sampled = sampleToken(next.probabilities, { temperature, topP, random });
      token = (greedy ? next.token : sampled.token) as Token;
      if (options.logprobs) {
        logprob = greedy ? sampled.logprobOf(token) : sampled.logprob;
        alternatives = sampled.top(options.topLogprobs);
      }
    } else {
      token = next.token;
      if (options.logprobs) {
        if (next.confidence === undefined) throw new Error("The engine returned no probability for the chosen token.");
        logprob = clampLogprob(Math.log(next.confidence));
      }
    }
    completionTokens++;
    if (endsText(token)) {
      finishReason = "stop";
      break;
    }
    if (options.logprobs) {
      const context = [...promptTail, ...generatedTokens].slice(-DETOKENIZE_CONTEXT_TOKENS);
      const describe = (candidate: number, logprob: number) => {
        const tokenText = model.detokenize([candidate as Token], false, context);
        return { token: tokenText, logprob, bytes: [...Buffer.from(tokenText, "utf8")] };
      };
      const entry = {
        ...describe(token, logprob),
        top_logprobs: alternatives.map((candidate) => describe(candidate.token, candidate.logprob)),
      };
      logprobs.push(entry);
    }
    generatedTokens.push(token);
    input = [token];
    // The whole text is only needed per token to find stop sequences and stream; else once at the end.
    if (stop.length === 0 && onDelta === undefined) continue;
    text = model.detokenize(generatedTokens, false, promptTail);
    if (options.logprobs) logprobEnds.push(text.length);

    const stopAt = earliestStop(text, stop);
    if (stopAt !== -1) {
      text = text.slice(0, stopAt);
      cutLogprobs(logprobs, logprobEnds, stopAt);
      finishReason = "stop";
      break;
    }
    if (onDelta !== undefined) {
      const finalText = text.slice(0, text.length - heldBackLength(text, stop));
      if (finalText.length > emittedText.length && finalText.startsWith(emittedText)) {
        let ready = emittedLogprobs;
        while (ready < logprobs.length && (logprobEnds[ready] ?? Infinity) <= finalText.length) ready++;
        onDelta(finalText.slice(emittedText.length), logprobs.slice(emittedLogprobs, ready));
        emittedText = finalText;
        emittedLogprobs = ready;
      }
    }
  }
  if (stop.length === 0 && onDelta === undefined) text = model.detokenize(generatedTokens, false, promptTail);
  if (onDelta !== undefined && (text.length > emittedText.length || logprobs.length > emittedLogprobs)) {
    onDelta(text.slice(emittedText.length), logprobs.slice(emittedLogprobs));
  }
  return { text, finishReason, completionTokens, logprobs };
}

/** OpenAI's floor for log-probabilities of tokens that are practically impossible. */
function clampLogprob(logprob: number): number {
  return Number.isFinite(logprob) ? logprob : LOGPROB_FLOOR;
}

/**
 * Makes the logprob entries cover exactly the text cut at `cutAt`: entries of tokens after the cut
 * (the stop sequence's) are dropped; a token the cut splits keeps its log-probability with the part
 * of its text before the cut.
 */
function cutLogprobs(logprobs: TokenLogprobEntry[], ends: readonly number[], cutAt: number): void {
  let kept = 0;
  let start = 0;
  while (kept < logprobs.length && (ends[kept] ?? Infinity) <= cutAt) start = ends[kept++] ?? start;
  const split = logprobs[kept];
  if (split !== undefined && start < cutAt) {
    const token = split.token.slice(0, cutAt - start);
    logprobs[kept++] = { ...split, token, bytes: [...Buffer.from(token, "utf8")] };
  }
  logprobs.length = kept;
}

function earliestStop(text: string, stop: readonly string[]): number {
  let earliest = -1;
  for (const sequence of stop) {
    const index = text.indexOf(sequence);
    if (index !== -1 && (earliest === -1 || index < earliest)) earliest = index;
  }
  return earliest;
}

/**
 * How many characters at the end of the text cannot be streamed yet: an incomplete UTF-8 character
 * (rendered as U+FFFD until its last byte arrives) or the start of a stop sequence.
 */
function heldBackLength(text: string, stop: readonly string[]): number {
  let held = 0;
  for (const sequence of stop) {
    for (let length = Math.min(sequence.length - 1, text.length); length > held; length--) {
      if (text.endsWith(sequence.slice(0, length))) {
        held = length;
        break;
      }
    }
  }
  return text.endsWith("\uFFFD") ? Math.max(held, 1) : held;
}

function readChatTemplate(model: LlamaModel): string | undefined {
  const template: unknown = (model.fileInfo.metadata as { tokenizer?: { chat_template?: unknown } }).tokenizer
    ?.chat_template;
  return typeof template === "string" && template.trim() !== "" ? template : undefined;
}

function readEngineVersion(): string {
  const packageFile = path.join(path.dirname(require.resolve("node-llama-cpp")), "..", "package.json");
  return (JSON.parse(readFileSync(packageFile, "utf8")) as { version: string }).version;
}
