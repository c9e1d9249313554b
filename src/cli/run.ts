/**
 * `seedlab run`: one prompt sent N times, shown as the guide's table with word diffs against the
 * first response, the seeds the backend used, and the verdict line.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_RUNS } from "../core/constants";
import type { Batch } from "../core/types";
import type { Backend } from "../backend";
import { runBatch } from "../core/batch";
import { buildChatParameters, type ChatRequest } from "../core/chat";
import { compareRuns } from "../analysis/compare-runs";
import { renderBatchText } from "../render/batch-text";
import { renderVerdict } from "../render/verdict";
import { runSavedBatch } from "../core/saved-runs";
import { InvalidParameterError, formatValue } from "../core/validate";
import {
  booleanFlag,
  listFlag,
  parseCommandOrHelp,
  readInteger,
  readNumber,
  readParameter,
  stringFlag,
  usageLine,
  UsageError,
  type CommandSpec,
  type FlagValues,
} from "./args";
import { EXIT_CODES } from "../core/errors";
import {
  BACKEND_FLAGS,
  COLOR_FLAGS,
  colorChoice,
  createProgressBar,
  describeBackend,
  openBackendWithNotice,
  settingsFromFlags,
  type CommandContext,
} from "./context";

/** The `run` command's flags and help. */
export const RUN_COMMAND: CommandSpec = {
  name: "run",
  summary: "send one prompt N times and show how far the outputs agree.",
  usage: "run [options] [PROMPT]",
  positionals: { minimum: 0, maximum: 1, names: ["[PROMPT]"] },
  flags: {
    user: { type: "string", placeholder: "TEXT", description: "The user prompt (or give it as PROMPT)." },
    system: { type: "string", placeholder: "TEXT", description: "The system prompt (default: none)." },
    runs: {
      type: "string",
      short: "n",
      placeholder: "N",
      description: "How many times to send the prompt (default 5).",
    },
    seed: {
      type: "string",
      placeholder: "N",
      description: "The seed; without it every request is unseeded (the backend picks).",
    },
    temperature: {
      type: "string",
      placeholder: "T",
      description: "Temperature from 0 to 2 (default 0.7, the guide's).",
    },
    "top-p": {
      type: "string",
      placeholder: "P",
      description: "Nucleus sampling, above 0 and at most 1 (default: not sent).",
    },
    "max-tokens": { type: "string", placeholder: "N", description: "Longest completion in tokens (default 200)." },
    param: {
      type: "string",
      multiple: true,
      placeholder: "NAME=VALUE",
      description:
        "Any other Chat Completions parameter; VALUE is JSON, else a string (e.g. top_logprobs=3, logprobs=true, temperature=null to leave it out).",
    },
    ...BACKEND_FLAGS,
    save: {
      type: "string",
      placeholder: "FILE",
      description: "Save the runs as JSON Lines (resumes: runs of the same request already in FILE are kept).",
    },
    overwrite: { type: "boolean", description: "With --save: start FILE over instead of resuming from it." },
    json: { type: "boolean", description: "Print the batch as JSON instead of the table." },
    ...COLOR_FLAGS,
  },
  details: [
    "Examples:",
    '  seedlab run "Once upon a time" --seed 123 --temperature 0',
    '  seedlab run --system "You are a storyteller." --user "Once upon a time" -n 10 --save out/runs.jsonl',
    '  seedlab run --backend openai --model gpt-4o-mini --param top_logprobs=2 --param logprobs=true "Say hi"',
    "",
    "Prints the table on stdout (colours on a terminal, plain [-removed-]{+added+} markers when piped), a progress",
    "bar on stderr (terminal only), and the verdict line.",
    "Exit codes: 0 every run succeeded, 1 a run failed, 2 bad usage (nothing sent), 3 backend error, 130 interrupted.",
  ].join("\n"),
};

/** Flags that have their own option; `--param` must not set them again. */
const DEDICATED_PARAMETERS: Record<string, string> = {
  seed: "--seed",
  temperature: "--temperature",
  top_p: "--top-p",
  max_tokens: "--max-tokens",
  model: "--model",
  messages: "--system/--user",
  system: "--system",
  user: "--user",
};

/**
 * Builds the request a `run` command line asks for, and validates it, before anything is sent.
 * @param values Parsed flags.
 * @param positionals The positional arguments (the prompt).
 * @param model The model to put in the request.
 * @returns The request.
 * @throws {UsageError} For a missing prompt or a bad value, naming the flag.
 */
export function requestFromFlags(values: FlagValues, positionals: readonly string[], model: string): ChatRequest {
  const spec = RUN_COMMAND;
  const usage = { usage: usageLine(spec), command: spec.name };
  const userFlag = stringFlag(values, "user");
  if (userFlag !== undefined && positionals.length > 0) {
    throw new UsageError(
      `Got the prompt twice: \`--user\` ${formatValue(userFlag)} and ${formatValue(positionals[0])}. Give one of them.`,
      usage,
    );
  }
  const user = userFlag ?? positionals[0];
  if (user === undefined || user.trim() === "") {
    throw new UsageError(
      `\`seedlab run\` needs a prompt${user === undefined ? "" : ", got an empty one"}: seedlab run "Once upon a time", or --user TEXT.`,
      usage,
    );
  }
  const request: ChatRequest = { model, user };
  const system = stringFlag(values, "system");
  if (system !== undefined) request.system = system;

  const seed = stringFlag(values, "seed");
  if (seed !== undefined) {
    request.seed = readInteger("--seed", seed, {
      minimum: Number.MIN_SAFE_INTEGER,
      maximum: Number.MAX_SAFE_INTEGER,
      fix: "Use a whole number such as 123, the same one for every run you want to reproduce.",
      spec,
    });
  }
  const temperature = stringFlag(values, "temperature");
  if (temperature !== undefined)
    request.temperature = readNumber("--temperature", temperature, {
      minimum: 0,
      maximum: 2,
      fix: "Use 0 for the most repeatable output.",
      spec,
    });
  const topP = stringFlag(values, "top-p");
  if (topP !== undefined)
    request.top_p = readNumber("--top-p", topP, {
      minimum: 0,
      maximum: 1,
      aboveMinimum: true,
      fix: "Leave it out and set --temperature instead.",
      spec,
    });
  const maxTokens = stringFlag(values, "max-tokens");
  if (maxTokens !== undefined)
    request.max_tokens = readInteger("--max-tokens", maxTokens, { minimum: 1, fix: "Use e.g. 200.", spec });

  for (const text of listFlag(values, "param")) {
    const [key, value] = readParameter(text, spec);
    const dedicated = DEDICATED_PARAMETERS[key];
    const alreadySet = key in request;
    if (
      dedicated !== undefined &&
      (alreadySet || key === "model" || key === "messages" || key === "system" || key === "user")
    ) {
      throw new UsageError(
        `\`--param ${key}\` ${formatValue(value)} repeats ${dedicated}: use ${dedicated} instead.`,
        usage,
      );
    }
    if (alreadySet) throw new UsageError(`\`--param ${key}\` was given twice. Give it once.`, usage);
    request[key] = value;
  }
  try {
    buildChatParameters(request);
  } catch (error) {
    if (error instanceof InvalidParameterError) {
      throw new UsageError(`${error.message} (from \`--param ${error.parameter.replace(/\[.*$/, "")}\`)`, usage);
    }
    throw error;
  }
  return request;
}

/**
 * Runs `seedlab run`.
 * @param args The arguments after `run`.
 * @param context Streams, environment, working folder, abort signal.
 * @returns The exit code (see `EXIT_CODES`).
 * @throws {UsageError} For bad usage, before anything is sent.
 */
export async function runCommand(args: readonly string[], context: CommandContext): Promise<number> {
  const spec = RUN_COMMAND;
  const parsed = parseCommandOrHelp(spec, args, context.stdout);
  if (parsed === null) return EXIT_CODES.ok;
  const { values, positionals } = parsed;
  const runs = readInteger("--runs", stringFlag(values, "runs") ?? String(DEFAULT_RUNS), {
    minimum: 1,
    fix: "Use e.g. 5 runs to compare outputs.",
    spec,
  });
  const color = colorChoice(values, context.stdout, spec);
  const settings = settingsFromFlags(values, spec, context);
  // Validated with the settings' model; the request is rebuilt with the served model once the backend is open.
  requestFromFlags(values, positionals, settings.model ?? "the served model");
  const savePath = stringFlag(values, "save");
  if (booleanFlag(values, "overwrite") && savePath === undefined) {
    throw new UsageError("`--overwrite` only applies with `--save FILE`. Add --save FILE or drop --overwrite.", {
      usage: usageLine(spec),
      command: spec.name,
    });
  }
  const saveFile = savePath === undefined ? undefined : path.resolve(context.cwd, savePath);

  const backend: Backend = await openBackendWithNotice(settings, context.stderr);
  try {
    const request = requestFromFlags(values, positionals, backend.model);
    const progress = createProgressBar(context.stderr);
    const options = {
      client: backend.client,
      request,
      runs,
      concurrency: settings.concurrency,
      signal: context.signal,
      onProgress: progress.update,
    };
    let batch: Batch;
    let resumed = 0;
    if (saveFile === undefined) {
      batch = await runBatch(options);
    } else {
      if (booleanFlag(values, "overwrite")) fs.rmSync(saveFile, { force: true });
      const saved = await runSavedBatch({ ...options, path: saveFile });
      resumed = saved.resumed;
      batch = saved;
    }
    progress.clear();

    if (context.signal.aborted) {
      // Show what finished; the runs cancelled by Ctrl+C are not results.
      const finished = batch.runs.filter((run) => run.error === null || !/Abort/.test(run.error.type));
      batch = { ...batch, runs: finished };
      context.stderr.write(`Interrupted: ${finished.length} of ${runs} runs finished.\n`);
      if (finished.length === 0) return EXIT_CODES.interrupted;
    }
    const comparison = compareRuns(batch.runs);
    if (booleanFlag(values, "json")) {
      context.stdout.write(JSON.stringify(batch, null, 2) + "\n");
    } else {
      const lines = [
        `seedlab run · ${describeBackend(backend)} · ${runs} run${runs === 1 ? "" : "s"}`,
        "",
        renderBatchText(batch, { color, comparison }),
        "",
      ];
      if (request.seed === undefined) {
        const seeds = batch.runs.filter((run) => run.seedUsed !== null).map((run) => `#${run.index} ${run.seedUsed}`);
        lines.push(
          seeds.length > 0
            ? `Seeds the backend used: ${seeds.join(", ")} (replay one with --seed).`
            : "Seeds the backend used: not reported.",
        );
      }
      lines.push(`Verdict: ${renderVerdict(comparison)}`);
      context.stdout.write(lines.join("\n") + "\n");
    }
    if (saveFile !== undefined) {
      context.stderr.write(
        `Saved ${batch.runs.length} run${batch.runs.length === 1 ? "" : "s"} to ${savePath}${resumed > 0 ? ` (${resumed} resumed from the file, not sent again)` : ""}.\n`,
      );
    }
    if (context.signal.aborted) return EXIT_CODES.interrupted;
    if (comparison.failed > 0) {
      context.stderr.write(`${comparison.failed} of ${comparison.total} runs failed (see the table).\n`);
      return EXIT_CODES.failed;
    }
    return EXIT_CODES.ok;
  } finally {
    await backend.close();
  }
}
