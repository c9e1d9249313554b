// Where the local model comes from: an explicit setting, else the committed embedded model (sha256 checked).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { sha256OfFile } from "../src/local/fingerprint";
import { checkEmbeddedModel, DEFAULT_MODEL_SHA256, findModelPath } from "../src/local/model-path";

// Every scratch folder of this file, removed when it is done.
const scratch: string[] = [];
const scratchFolder = (): string => {
  const folder = mkdtempSync(join(tmpdir(), "seedlab-model-path-test-"));
  scratch.push(folder);
  return folder;
};
after(() => {
  for (const folder of scratch) rmSync(folder, { recursive: true, force: true });
});

test("an explicit path wins, and a missing one is an error naming it", () => {
  const root = scratchFolder();
  const model = join(root, "mine.gguf");
  writeFileSync(model, "");
  assert.equal(findModelPath({ explicitPath: model, projectRoot: root }), model);
  assert.throws(
    () => findModelPath({ explicitPath: join(root, "absent.gguf"), projectRoot: root }),
    /`.*absent\.gguf` .*does not exist/,
  );
});

test("the embedded model committed in models/ is the default, and nothing else is searched", () => {
  const parent = scratchFolder();
  const root = join(parent, "main");
  mkdirSync(join(parent, "shared", "models"), { recursive: true });
  writeFileSync(join(parent, "shared", "models", "stories260K.gguf"), "");
  assert.throws(
    () => findModelPath({ explicitPath: "", projectRoot: root }),
    /git checkout -- models\/stories260K\.gguf/,
  );
  mkdirSync(join(root, "models"), { recursive: true });
  writeFileSync(join(root, "models", "stories260K.gguf"), "");
  assert.equal(findModelPath({ explicitPath: "", projectRoot: root }), join(root, "models", "stories260K.gguf"));
});

test("the committed model is the real one, and a changed copy of it is refused with the fix", async () => {
  const committed = findModelPath({ explicitPath: "" });
  assert.equal(await sha256OfFile(committed), DEFAULT_MODEL_SHA256);
  assert.doesNotThrow(() => checkEmbeddedModel(committed, DEFAULT_MODEL_SHA256));
  assert.throws(
    () => checkEmbeddedModel(committed, "0".repeat(64)),
    /damaged or changed.*git checkout -- models\/stories260K\.gguf/,
  );
  // Another file may hold anything: only the embedded default is pinned.
  assert.doesNotThrow(() => checkEmbeddedModel(join(tmpdir(), "mine.gguf"), "0".repeat(64)));
});

test("no model: the error says how to get one", () => {
  const root = join(scratchFolder(), "main");
  assert.throws(() => findModelPath({ explicitPath: "", projectRoot: root }), /npm run download-model/);
});
