// The end-of-text convention read from the GGUF itself: the real stories260K file is recognised as a
// llama2.c model (BOS ends a story); the same metadata with any one of the converter's marks changed
// is not. The convention enters the fingerprint.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { detectEndOfText } from "../src/local/end-of-text";
import { computeFingerprint, type FingerprintInputs } from "../src/local/fingerprint";
import { findModelPath } from "../src/local/model-path";

let metadata: Record<string, any>;

before(async () => {
  // node-llama-cpp is ESM with top-level await: load it with import(), as the engine does.
  const { readGgufFileInfo } = await import("node-llama-cpp");
  metadata = (await readGgufFileInfo(findModelPath({}), { readTensorInfo: false })).metadata as Record<string, any>;
});

/** The real metadata with one change, made on a deep copy. */
function changed(change: (copy: Record<string, any>) => void): Record<string, any> {
  const copy = structuredClone(metadata);
  change(copy);
  return copy;
}

test("stories260K.gguf, converted from llama2.c, ends a text with BOS", () => {
  assert.equal(detectEndOfText(metadata), "eog+bos");
});

test("metadata another converter writes is not taken for llama2.c", () => {
  assert.equal(detectEndOfText(changed((copy) => (copy.tokenizer.ggml.seperator_token_id = 3))), "eog");
  assert.equal(detectEndOfText(changed((copy) => delete copy.tokenizer.ggml.padding_token_id)), "eog");
  assert.equal(detectEndOfText(changed((copy) => (copy.general.name = "TinyLlama 1.1B Chat"))), "eog");
  assert.equal(detectEndOfText(changed((copy) => (copy.tokenizer.ggml.model = "gpt2"))), "eog");
  assert.equal(detectEndOfText(changed((copy) => (copy.tokenizer.chat_template = "{{ messages }}"))), "eog");
  assert.equal(detectEndOfText({}), "eog");
});

test("the convention is part of the fingerprint", () => {
  const inputs: FingerprintInputs = {
    modelSha256: "0".repeat(64),
    engineVersion: "node-llama-cpp@x",
    llamaCppRelease: "r",
    gpu: "none",
    cpuVariant: "v",
    binaries: "@node-llama-cpp/linux-x64@x",
    batchSize: 512,
    attention: "a",
    samplerVersion: "s",
    promptFormat: "p",
    endOfText: "eog+bos",
  };
  assert.notEqual(computeFingerprint({ ...inputs, endOfText: "eog" }), computeFingerprint(inputs));
  assert.notEqual(computeFingerprint({ ...inputs, attention: "b" }), computeFingerprint(inputs), "so is attention");
});
