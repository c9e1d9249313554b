/**
 * How a model marks the end of a text, read from its GGUF metadata.
 *
 * Most models end a text with an end-of-generation token (EOS, `<|eot_id|>`...), which llama.cpp
 * knows. Models trained with llama2.c (Karpathy's tinyllamas, such as stories260K) never saw EOS:
 * llama2.c's training data puts BOS before every story and nothing after it, so the model ends a
 * story by emitting BOS and then starts a new one. Those models reach GGUF only through llama.cpp's
 * `convert-llama2c-to-ggml`, which writes a fixed, recognisable set of metadata: `general.name`
 * "llama", a "llama" (SentencePiece) tokenizer, and the separator and padding token ids both set to
 * -1 (stored as 0xFFFFFFFF), which no other converter writes. `llama-quantize` keeps all of it.
 *
 * Part of the system fingerprint: stopping at BOS changes what a request returns.
 */

/** `eog`: stop at llama.cpp's end-of-generation tokens; `eog+bos`: also at BOS (llama2.c models). */
export type EndOfTextConvention = "eog" | "eog+bos";

/** The converter's "no token" id: -1 written as an unsigned 32-bit integer. */
const NO_TOKEN = 0xffffffff;

/**
 * Reads the end-of-text convention from a GGUF file's metadata.
 * @param metadata - the parsed GGUF metadata (node-llama-cpp's `model.fileInfo.metadata`).
 * @returns `eog+bos` for a model converted from llama2.c, else `eog`.
 */
export function detectEndOfText(metadata: unknown): EndOfTextConvention {
  const fields = metadata as {
    general?: { name?: unknown };
    tokenizer?: {
      chat_template?: unknown;
      ggml?: { model?: unknown; bos_token_id?: unknown; seperator_token_id?: unknown; padding_token_id?: unknown };
    };
  };
  const tokenizer = fields.tokenizer?.ggml;
  const fromLlama2c =
    fields.general?.name === "llama" &&
    tokenizer?.model === "llama" &&
    typeof tokenizer.bos_token_id === "number" &&
    // The key is spelled "seperator" in GGUF.
    tokenizer.seperator_token_id === NO_TOKEN &&
    tokenizer.padding_token_id === NO_TOKEN &&
    fields.tokenizer?.chat_template === undefined;
  return fromLlama2c ? "eog+bos" : "eog";
}
