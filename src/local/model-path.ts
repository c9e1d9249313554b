/**
 * Where the local backend's GGUF model comes from: an explicit setting, else the embedded default
 * model committed in the project's `models/` folder (checked against its sha256 when loaded).
 */
import { existsSync } from "fs";
import * as path from "path";
import { SeedlabError } from "../core/errors";

/** File name of the default model (the tiny TinyStories llama). */
export const DEFAULT_MODEL_FILE = "stories260K.gguf";

/** sha256 of the committed default model, `models/stories260K.gguf`. */
export const DEFAULT_MODEL_SHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";

const PROJECT_ROOT = path.resolve(path.dirname(__filename), "..", "..");

/**
 * Finds the GGUF model file the local server loads.
 * @param options.explicitPath - a path given by the user; defaults to the `SEEDLAB_MODEL_PATH` environment variable.
 * @param options.projectRoot - the seedlab folder; defaults to the one holding this file's `src/`.
 * @returns the absolute path of an existing model file.
 * @throws {SeedlabError} When the explicit path does not exist, or the default model is missing, saying what to do.
 */
export function findModelPath({
  explicitPath = process.env.SEEDLAB_MODEL_PATH,
  projectRoot = PROJECT_ROOT,
}: { explicitPath?: string; projectRoot?: string } = {}): string {
  if (explicitPath !== undefined && explicitPath !== "") {
    const resolved = path.resolve(projectRoot, explicitPath);
    if (!existsSync(resolved)) {
      throw new SeedlabError(
        `The model file \`${explicitPath}\` (SEEDLAB_MODEL_PATH, \`--model-path\`, or \`--model\` of \`seedlab serve\`) does not exist (looked at ${resolved}). ` +
          "Point it at an existing .gguf file, or unset it to use the default model.",
      );
    }
    return resolved;
  }
  const embedded = path.resolve(projectRoot, "models", DEFAULT_MODEL_FILE);
  if (existsSync(embedded)) return embedded;
  throw new SeedlabError(
    `The embedded model is missing (looked at ${embedded}). It is committed with the project: restore it with ` +
      "`git checkout -- models/stories260K.gguf`, or run `npm run download-model` on a machine with internet, " +
      "or set SEEDLAB_MODEL_PATH to a GGUF file you have.",
  );
}

/**
 * Refuses a damaged or replaced embedded model (a Git LFS pointer, converted line endings, a partial copy):
 * its outputs would silently differ from everyone else's.
 * @param modelPath - the absolute path being loaded.
 * @param sha256 - that file's sha256 in hex.
 * @param projectRoot - the seedlab folder.
 * @throws {SeedlabError} When `modelPath` is the embedded default model and its hash is not the committed one.
 */
export function checkEmbeddedModel(modelPath: string, sha256: string, projectRoot = PROJECT_ROOT): void {
  const embedded = path.resolve(projectRoot, "models", DEFAULT_MODEL_FILE);
  if (path.resolve(modelPath) !== embedded || sha256 === DEFAULT_MODEL_SHA256) return;
  throw new SeedlabError(
    `The embedded model ${embedded} is damaged or changed: its sha256 is ${sha256}, expected ${DEFAULT_MODEL_SHA256}. ` +
      "Restore it with `git checkout -- models/stories260K.gguf` (or `npm run download-model` on a machine with internet).",
  );
}
