// The local server driven by the official `openai` SDK exactly as an application drives it: message
// histories built from what the SDK returns, text parts, names, stream options, the SDK's helpers.
// Each test checks that the request is honoured (or ignored only where it cannot change the text)
// and that the same seed still gives the same text.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI, { APIError } from "openai";
import { LocalServer, startLocalServer } from "../src/local/start";

type Message = OpenAI.ChatCompletionMessageParam;

let server: LocalServer;
let client: OpenAI;

before(async () => {
  server = await startLocalServer();
  client = new OpenAI({ apiKey: "local", baseURL: server.url, maxRetries: 0 });
});
after(() => server.close());

function complete(request: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming>) {
  return client.chat.completions.create({
    model: server.model,
    messages: [{ role: "user", content: "Once upon a time" }],
    max_tokens: 24,
    ...request,
  });
}

/** Streams a request through the SDK and reassembles the text, finish reason, usage and logprob tokens. */
async function streamed(request: OpenAI.ChatCompletionCreateParamsStreaming) {
  const stream = await client.chat.completions.create(request);
  let content = "";
  let finishReason: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined;
  const logprobTokens: string[] = [];
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? "";
      for (const entry of choice.logprobs?.content ?? []) logprobTokens.push(entry.token);
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  }
  return { content, finishReason, usage, logprobTokens, chunks };
}

describe("an application's conversation", () => {
  const followUps = ["The dog ran to the park.", "Then it started to rain."];

  async function converse(seed: number): Promise<{ texts: Array<string | null>; promptTokens: number[] }> {
    const history: Message[] = [
      { role: "system", content: "You are a storyteller." },
      { role: "user", content: "Once upon a time" },
    ];
    const texts: Array<string | null> = [];
    const promptTokens: number[] = [];
    for (let turn = 0; turn < 3; turn++) {
      const response = await client.chat.completions.create({
        model: server.model,
        messages: history,
        seed,
        max_tokens: 20,
      });
      const message = response.choices[0]!.message;
      texts.push(message.content);
      promptTokens.push(response.usage!.prompt_tokens);
      // Appended exactly as the SDK returns it: refusal: null and annotations: [] go back to the server.
      history.push(message);
      if (turn < followUps.length) history.push({ role: "user", content: followUps[turn]! });
    }
    return { texts, promptTokens };
  }

  test("three turns, each appending the returned message as is; the history reaches the model; same seed, same conversation", async () => {
    const first = await converse(31);
    assert.equal(first.texts.length, 3);
    for (const text of first.texts) assert.ok(typeof text === "string" && text.length > 0);
    // Each turn's prompt holds the previous turns' messages.
    assert.ok(first.promptTokens[1]! > first.promptTokens[0]! + 10);
    assert.ok(first.promptTokens[2]! > first.promptTokens[1]! + 10);
    assert.deepEqual(await converse(31), first);
  });

  test("an assistant message as the Python SDK dumps it (every optional field null or empty) reads as its content alone", async () => {
    const history = (assistant: Record<string, unknown>) =>
      [
        { role: "user", content: "Once upon a time" },
        assistant,
        { role: "user", content: "Go on." },
      ] as unknown as Message[];
    const dumped = await complete({
      seed: 3,
      messages: history({
        role: "assistant",
        content: "Tim ran.",
        refusal: null,
        annotations: [],
        audio: null,
        function_call: null,
        tool_calls: null,
      }),
    });
    const bare = await complete({ seed: 3, messages: history({ role: "assistant", content: "Tim ran." }) });
    assert.equal(dumped.choices[0]?.message.content, bare.choices[0]?.message.content);
  });

  test("content as text parts is the parts' text joined: the same output as the joined string", async () => {
    const parts: Message[] = [
      {
        role: "system",
        content: [
          { type: "text", text: "You are a " },
          { type: "text", text: "storyteller." },
        ],
      },
      {
        role: "user",
        content: [
          { type: "text", text: "Once upon" },
          { type: "text", text: " a time" },
        ],
      },
    ];
    const strings: Message[] = [
      { role: "system", content: "You are a storyteller." },
      { role: "user", content: "Once upon a time" },
    ];
    const fromParts = await complete({ seed: 8, messages: parts, max_tokens: 30 });
    const fromStrings = await complete({ seed: 8, messages: strings, max_tokens: 30 });
    assert.equal(fromParts.usage?.prompt_tokens, fromStrings.usage?.prompt_tokens);
    assert.equal(fromParts.choices[0]?.message.content, fromStrings.choices[0]?.message.content);
    const assistantParts = await complete({
      seed: 8,
      messages: [
        ...strings,
        { role: "assistant", content: [{ type: "text", text: "Tim ran." }] },
        { role: "user", content: "Go on." },
      ],
    });
    const assistantString = await complete({
      seed: 8,
      messages: [...strings, { role: "assistant", content: "Tim ran." }, { role: "user", content: "Go on." }],
    });
    assert.equal(assistantParts.choices[0]?.message.content, assistantString.choices[0]?.message.content);
  });

  test("`name` on messages is accepted; the plain-text prompt shows no names, so the text is the same", async () => {
    const named = await complete({
      seed: 4,
      messages: [
        { role: "system", content: "Tell a story.", name: "narrator" },
        { role: "user", content: "Once upon a time", name: "lily" },
      ],
    });
    const plain = await complete({
      seed: 4,
      messages: [
        { role: "system", content: "Tell a story." },
        { role: "user", content: "Once upon a time" },
      ],
    });
    assert.equal(named.choices[0]?.message.content, plain.choices[0]?.message.content);
  });

  test("output-neutral values are accepted and change nothing: empty logit_bias, no tools, tool_choice none", async () => {
    const plain = await complete({ seed: 12 });
    const neutral = await complete({
      seed: 12,
      logit_bias: {},
      tool_choice: "none",
      parallel_tool_calls: false,
      tools: [],
      response_format: { type: "text" },
      modalities: ["text"],
    });
    assert.equal(neutral.choices[0]?.message.content, plain.choices[0]?.message.content);
  });
});

describe("streaming as applications use it", () => {
  const request = { messages: [{ role: "user" as const, content: "The little dog" }], max_tokens: 40 };

  test("include_usage and include_obfuscation: usage at the end, padding on every chunk when asked, the same text", async () => {
    const plain = await complete({ ...request, model: server.model, seed: 17 });
    const padded = await streamed({
      ...request,
      model: server.model,
      seed: 17,
      stream: true,
      stream_options: { include_usage: true, include_obfuscation: true },
    });
    assert.equal(padded.content, plain.choices[0]?.message.content);
    assert.deepEqual(padded.usage, plain.usage);
    for (const chunk of padded.chunks) {
      const obfuscation = (chunk as { obfuscation?: unknown }).obfuscation;
      assert.ok(
        typeof obfuscation === "string" && obfuscation.length > 0,
        `chunk without obfuscation: ${JSON.stringify(chunk)}`,
      );
    }
    const bare = await streamed({
      ...request,
      model: server.model,
      seed: 17,
      stream: true,
      stream_options: { include_usage: false, include_obfuscation: false },
    });
    assert.equal(bare.content, plain.choices[0]?.message.content);
    assert.equal(bare.usage, undefined);
    for (const chunk of bare.chunks) assert.equal((chunk as { obfuscation?: unknown }).obfuscation, undefined);
  });

  test("streamed and non-streamed are byte-identical for the same seed, with logprobs and a stop sequence too", async () => {
    for (const seed of [1, 2, 3]) {
      for (const extra of [{}, { logprobs: true, top_logprobs: 2, stop: ["."] }]) {
        const plain = await complete({ ...request, model: server.model, seed, ...extra });
        const again = await streamed({ ...request, model: server.model, seed, ...extra, stream: true });
        assert.equal(again.content, plain.choices[0]?.message.content);
        assert.equal(again.finishReason, plain.choices[0]?.finish_reason);
        assert.deepEqual(
          again.logprobTokens,
          (plain.choices[0]?.logprobs?.content ?? []).map((entry) => entry.token),
        );
      }
    }
  });
});

describe("logprobs and the end of a text", () => {
  test("with a stop sequence, the logprob tokens joined are exactly the returned content", async () => {
    const full = (await complete({ seed: 9, max_tokens: 60 })).choices[0]?.message.content ?? "";
    // Stop sequences that end inside a token and at a token's start: both must leave exactly the content.
    for (const stop of [full.slice(20, 23), full.slice(30, 34), "."]) {
      const response = await complete({ seed: 9, max_tokens: 60, stop, logprobs: true, top_logprobs: 1 });
      const choice = response.choices[0]!;
      assert.equal(choice.finish_reason, "stop");
      assert.equal(choice.message.content, full.slice(0, full.indexOf(stop)));
      assert.equal((choice.logprobs?.content ?? []).map((entry) => entry.token).join(""), choice.message.content);
    }
  });

  test("a story ends by itself with finish_reason stop before max_tokens, deterministically", async () => {
    const request = { temperature: 0, max_tokens: 1000 };
    const first = await complete(request);
    const choice = first.choices[0]!;
    assert.equal(choice.finish_reason, "stop");
    assert.ok(first.usage!.completion_tokens < 1000, `completion tokens ${first.usage!.completion_tokens}`);
    // One story, not the start of the next one.
    assert.ok(!/Once upon a time/.test(choice.message.content ?? ""), choice.message.content ?? "");
    assert.equal((await complete(request)).choices[0]?.message.content, choice.message.content);
    const seeded = await complete({ seed: 5, max_tokens: 1000 });
    assert.equal(seeded.choices[0]?.finish_reason, "stop");
    assert.equal(
      (await complete({ seed: 5, max_tokens: 1000 })).choices[0]?.message.content,
      seeded.choices[0]?.message.content,
    );
  });

  test("the SDK's parse() and stream() helpers, which refuse a text cut at max_tokens, accept a story that ends", async () => {
    const params = { model: server.model, messages: [{ role: "user" as const, content: "Once upon a time" }], seed: 5 };
    const parsed = await client.chat.completions.parse(params);
    assert.equal(parsed.choices[0]?.finish_reason, "stop");
    const final = await client.chat.completions.stream(params).finalChatCompletion();
    assert.equal(final.choices[0]?.message.content, parsed.choices[0]?.message.content);
  });
});

describe("what would change the output stays a 400 naming it", () => {
  async function rejected(request: Promise<unknown>, param: string): Promise<void> {
    const error = await request.then(
      () => assert.fail(`expected a 400 naming ${param}`),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof APIError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.param, param);
    assert.match(error.message, new RegExp(param.replace(/[[\].]/g, "\\$&")));
  }

  test("tools, images, audio, a non-empty logit_bias, JSON output, a refusal in the history", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: "function", function: { name: "f", parameters: {} } }];
    await rejected(complete({ tools }), "tools");
    await rejected(complete({ tool_choice: "required" }), "tool_choice");
    await rejected(complete({ logit_bias: { "42": 5 } }), "logit_bias");
    await rejected(
      complete({ response_format: { type: "json_schema", json_schema: { name: "s", schema: {} } } }),
      "response_format",
    );
    await rejected(
      complete({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "Look:" },
              { type: "image_url", image_url: { url: "data:image/png;base64,AA==" } },
            ],
          },
        ],
      }),
      "messages[0].content[1]",
    );
    await rejected(
      complete({
        messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "AA==", format: "wav" } }] }],
      }),
      "messages[0].content[0]",
    );
    await rejected(complete({ modalities: ["text", "audio"] }), "modalities");
    await rejected(
      complete({
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: null, refusal: "I can't." },
        ],
      }),
      "messages[1].refusal",
    );
    const toolCall = { id: "call_1", type: "function" as const, function: { name: "f", arguments: "{}" } };
    await rejected(
      complete({
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: "ok", tool_calls: [toolCall] },
        ],
      }),
      "messages[1].tool_calls",
    );
  });
});
