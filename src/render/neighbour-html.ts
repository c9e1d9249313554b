/**
 * One short line to compare with the person next to you: a few characters per seeded text and the fingerprint.
 * In a room where every laptop runs the same configuration, every line is the same.
 */
import { createHash } from "crypto";
import { isSucceeded, runsOf } from "../core/runs";
import type { Batch } from "../core/types";
import { escapeHtml } from "./html";

/**
 * A short id of a text: the first 6 hex digits of its sha256. Equal texts, equal ids; different texts almost surely differ.
 * @param text Any text.
 * @returns 6 hex digits.
 */
export function shortTextId(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 6);
}

/**
 * The line to compare with a neighbour: for each batch, its first successful run's seed, temperature and text id;
 * then the fingerprints those runs came from.
 * @param batches E.g. `[seeded, twoSeeds]`.
 * @returns An HTML paragraph, e.g. "Compare with your neighbour: seed 123 at temperature 0 → text 3fa91c · ... ·
 *   fingerprint fp_...".
 */
export function renderNeighbourLineHtml(batches: readonly Batch[]): string {
  const runs = batches.flatMap((batch) => runsOf(batch).filter(isSucceeded).slice(0, 1));
  const texts = runs.map((run) => {
    const { seed, temperature } = run.parameters;
    const request = `seed ${seed ?? "none"} at temperature ${temperature ?? "default"}`;
    return `${escapeHtml(request)} → text <code>${shortTextId(run.content)}</code>`;
  });
  const fingerprints = [...new Set(runs.map((run) => run.systemFingerprint ?? "none"))];
  const fingerprintText = fingerprints.map((fingerprint) => `<code>${escapeHtml(fingerprint)}</code>`).join(", ");
  const parts = [...texts, `fingerprint ${fingerprintText}`];
  return `<p class="seedlab-neighbour"><b>Compare with your neighbour:</b> ${parts.join(" · ")}</p>`;
}
