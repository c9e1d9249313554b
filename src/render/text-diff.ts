/**
 * A text's differences from a reference text, word by word (or character by character), as escaped
 * HTML with `<ins>`/`<del>`, or as terminal text with `[-removed-]{+added+}` markers or ANSI colours.
 */
import { diffChars, diffWords, type Change } from "diff";
import { DIFF_STYLES, escapeHtml } from "./html";

/** How finely to compare: whole words (and punctuation marks), or single characters. */
export type DiffGranularity = "word" | "character";

const ANSI = { green: "\u001b[32m", red: "\u001b[31m", strike: "\u001b[9m", reset: "\u001b[0m" } as const;

/**
 * The changes that turn `reference` into `text`.
 * @param reference The text compared against.
 * @param text The text shown.
 * @param granularity `word` (default) or `character`.
 * @returns jsdiff change records.
 */
export function diffTexts(reference: string, text: string, granularity: DiffGranularity = "word"): Change[] {
  return granularity === "character" ? diffChars(reference, text) : diffWords(reference, text);
}

/**
 * `text` marked up against `reference` as HTML: added parts in `<ins>`, removed parts in `<del>`,
 * everything escaped BEFORE it is wrapped. Keep whitespace with `white-space: pre-wrap` on the container.
 * @param reference The text compared against.
 * @param text The text shown.
 * @param options `granularity`: `word` (default) or `character`.
 * @returns An HTML fragment.
 */
export function renderDiffHtml(
  reference: string,
  text: string,
  { granularity = "word" }: { granularity?: DiffGranularity } = {},
): string {
  return diffTexts(reference, text, granularity)
    .map((change) => {
      const escaped = escapeHtml(change.value);
      if (change.added) return `<ins class="seedlab-added" style="${DIFF_STYLES.added}">${escaped}</ins>`;
      if (change.removed) return `<del class="seedlab-removed" style="${DIFF_STYLES.removed}">${escaped}</del>`;
      return escaped;
    })
    .join("");
}

/**
 * `text` marked up against `reference` for a terminal: `[-removed-]{+added+}` (plain, the default),
 * or red/green ANSI colours when `color` is true.
 * @param reference The text compared against.
 * @param text The text shown.
 * @param options `granularity`: `word` (default) or `character`; `color`: ANSI colours (default false).
 * @returns The marked-up text.
 */
export function renderDiffText(
  reference: string,
  text: string,
  { granularity = "word", color = false }: { granularity?: DiffGranularity; color?: boolean } = {},
): string {
  return diffTexts(reference, text, granularity)
    .map((change) => {
      if (change.added) return color ? `${ANSI.green}${change.value}${ANSI.reset}` : `{+${change.value}+}`;
      if (change.removed)
        return color ? `${ANSI.red}${ANSI.strike}${change.value}${ANSI.reset}` : `[-${change.value}-]`;
      return change.value;
    })
    .join("");
}

/**
 * Whether to colour terminal output: the stream is a TTY and `NO_COLOR` is not set.
 * @param stream The output stream (default `process.stdout`).
 * @returns True to use ANSI colours.
 */
export function shouldUseColor(stream: { isTTY?: boolean } = process.stdout): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR;
}
