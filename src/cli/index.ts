/**
 * The `seedlab` command line: `main.ts` dispatches to one file per command (`run.ts`, `check.ts`, `serve.ts`,
 * `compare.ts`); `args.ts` parses flags, `context.ts` turns backend flags into settings, `suite.ts` reads suite files,
 * `junit.ts` writes JUnit XML.
 */
export { main, renderTopHelp, runCli } from "./main";
export type { CommandContext, OutputStream } from "./context";
