/**
 * `npm run download-model [-- URL [--sha256 HEX]]`: downloads a GGUF model into the project's
 * git-ignored `models/` folder, on a machine with internet (CI never runs this). Without a URL it
 * fetches stories260K.gguf from the Hugging Face hub (ggml-org/tiny-llamas) and verifies its sha256.
 * With a URL, pass `--sha256` to verify it; otherwise the hash is printed for you to record.
 * The file is written under a temporary name and only renamed into place once verified.
 */
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";

const DEFAULT_URL = "https://huggingface.co/ggml-org/tiny-llamas/resolve/main/stories260K.gguf";
const DEFAULT_SHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const shaIndex = args.indexOf("--sha256");
  const expectedFlag = shaIndex === -1 ? undefined : args[shaIndex + 1];
  if (shaIndex !== -1 && (expectedFlag === undefined || !/^[0-9a-f]{64}$/i.test(expectedFlag))) {
    throw new Error("`--sha256` needs 64 hex digits.");
  }
  const url = args.find((arg, index) => !arg.startsWith("--") && index !== shaIndex + 1) ?? DEFAULT_URL;
  const expected = expectedFlag?.toLowerCase() ?? (url === DEFAULT_URL ? DEFAULT_SHA256 : undefined);
  const fileName = path.basename(new URL(url).pathname);
  if (!fileName.endsWith(".gguf")) throw new Error(`The URL \`${url}\` does not name a .gguf file.`);

  const modelsDir = path.resolve(__dirname, "..", "models");
  const target = path.join(modelsDir, fileName);
  const partial = `${target}.part`;
  console.log(`Downloading ${url} ...`);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Download failed: HTTP ${response.status} ${response.statusText} for ${url}.`);
  const bytes = Buffer.from(await response.arrayBuffer());
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (expected !== undefined && actual !== expected) {
    throw new Error(`sha256 mismatch for ${fileName}: expected ${expected}, got ${actual}. The file was not saved.`);
  }
  mkdirSync(modelsDir, { recursive: true });
  writeFileSync(partial, bytes);
  try {
    renameSync(partial, target);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  console.log(
    `Saved ${target} (${bytes.length} bytes, sha256 ${actual}${expected === undefined ? ", not verified: pass --sha256 to check it" : ", verified"}).`,
  );
  if (fileName !== "stories260K.gguf") console.log(`Use it with SEEDLAB_MODEL_PATH=${target}`);
}

main().catch((error: unknown) => {
  console.error(`download-model: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
