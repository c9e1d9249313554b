// Where the local model comes from: explicit setting, shared copy, project folder, else a clear error.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findModelPath } from "../src/local/model-path";

test("an explicit path wins, and a missing one is an error naming it", () => {
  const root = mkdtempSync(join(tmpdir(), "seedlab-"));
  const model = join(root, "mine.gguf");
  writeFileSync(model, "");
  assert.equal(findModelPath({ explicitPath: model, projectRoot: root }), model);
  assert.throws(() => findModelPath({ explicitPath: join(root, "absent.gguf"), projectRoot: root }), /`.*absent\.gguf` .*does not exist/);
});

test("the shared copy beside the project comes before the project's models folder", () => {
  const parent = mkdtempSync(join(tmpdir(), "seedlab-"));
  const root = join(parent, "main");
  mkdirSync(join(root, "models"), { recursive: true });
  writeFileSync(join(root, "models", "stories260K.gguf"), "");
  assert.equal(findModelPath({ explicitPath: "", projectRoot: root }), join(root, "models", "stories260K.gguf"));
  mkdirSync(join(parent, "shared", "models"), { recursive: true });
  writeFileSync(join(parent, "shared", "models", "stories260K.gguf"), "");
  assert.equal(findModelPath({ explicitPath: "", projectRoot: root }), join(parent, "shared", "models", "stories260K.gguf"));
});

test("no model anywhere: the error says how to get one", () => {
  const root = join(mkdtempSync(join(tmpdir(), "seedlab-")), "main");
  assert.throws(() => findModelPath({ explicitPath: "", projectRoot: root }), /npm run download-model/);
});
