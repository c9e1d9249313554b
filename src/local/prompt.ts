/**
 * How chat messages become the model's prompt.
 *
 * Plain-text format (models without a chat template, such as stories260K): the messages' contents,
 * in order, joined by one newline, with no role labels and no trailing newline; the model writes the
 * continuation of that text, which becomes the assistant message. A completion model continues
 * stories well ("Once upon a time" → ", there was a little girl..."); role labels would only
 * confuse it. Roles still matter for validation, and a GGUF that has a chat template uses it instead
 * (see engine.ts).
 *
 * Bump `PROMPT_FORMAT_VERSION` when this rendering changes: it is part of the system fingerprint.
 */

/** Version of the plain-text rendering; part of the system fingerprint. */
export const PROMPT_FORMAT_VERSION = "plain-text-1";

/**
 * Renders messages as plain text for a model without a chat template.
 * @param messages - role and text of each message.
 * @returns the prompt text (without the BOS token, which the engine adds).
 */
export function renderPlainTextPrompt(messages: ReadonlyArray<{ role: string; content: string }>): string {
  return messages.map((message) => message.content).join("\n");
}
