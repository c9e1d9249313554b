/**
 * Where the local backend's GGUF model comes from: an explicit setting, else the shared copy beside
 * the project, else the project's own (git-ignored) `models/` folder.
 */
import { existsSync } from "fs";
import * as path from "path";
import { SeedlabError } from "../core/errors";

/** File name of the default model (the tiny TinyStories llama). */
export const DEFAULT_MODEL_FILE = "stories260K.gguf";

/**
 * Finds the GGUF model file the local server loads.
 * @param options.explicitPath - a path given by the user; defaults to the `SEEDLAB_MODEL_PATH` environment variable.
 * @param options.projectRoot - the seedlab folder; defaults to the one holding this file's `src/`.
 * @returns the absolute path of an existing model file.
 * @throws {SeedlabError} When the explicit path does not exist, or no model is found, saying how to get one.
 */
export function findModelPath({
  explicitPath = process.env.SEEDLAB_MODEL_PATH,
  projectRoot = path.resolve(path.dirname(__filename), "..", ".."),
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
  const candidates = [
    path.resolve(projectRoot, "..", "shared", "models", DEFAULT_MODEL_FILE),
    path.resolve(projectRoot, "models", DEFAULT_MODEL_FILE),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found !== undefined) return found;
  throw new SeedlabError(
    `No local model found (looked at ${candidates.join(" and ")}). ` +
      "On a machine with internet, run `npm run download-model` to fetch stories260K.gguf into models/ " +
      "(its sha256 is verified), or set SEEDLAB_MODEL_PATH to a GGUF file you have.",
  );
}
