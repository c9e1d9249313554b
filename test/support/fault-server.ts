/**
 * A tiny OpenAI-shaped HTTP server on 127.0.0.1 for FAULT INJECTION only: delays (to observe
 * concurrency), any status with any headers (429 + Retry-After, 500, 503, 400, 401), broken JSON,
 * bodies cut off mid-way, connection resets, hung requests. Real outputs come from the local model
 * in other tests; this server answers with whatever each test scripts.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the server does for one request. */
export interface FaultResponse {
  status?: number;
  /** JSON body (default: a chat completion built from `content`). */
  body?: unknown;
  /** Raw body text, sent as is (for broken JSON). */
  raw?: string;
  /** Reply after this many milliseconds. */
  delayMs?: number;
  /** Never reply (for timeouts). */
  hang?: boolean;
  /** Reset the connection (TCP RST) instead of replying. */
  reset?: boolean;
  /** Announce the whole body's length, send only its first `truncateAt` bytes, then reset the connection. */
  truncateAt?: number;
  headers?: Record<string, string>;
}

/** One request the server received. */
export interface ReceivedRequest {
  number: number;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

/** A running fault server. */
export interface FaultServer {
  /** Base URL ending in /v1. */
  url: string;
  requests: ReceivedRequest[];
  /** Most requests in flight at once so far. */
  maxInFlight: number;
  close(): Promise<void>;
}

/**
 * A chat completion body like a real server's.
 * @param content The message content.
 * @param fingerprint `system_fingerprint`; null sends null.
 */
export function completion(content: string, fingerprint: string | null = "fp_test"): Record<string, unknown> {
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 0,
    model: "fault-model",
    system_fingerprint: fingerprint,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop", logprobs: null }],
    usage: {
      prompt_tokens: 7,
      completion_tokens: content.split(" ").length,
      total_tokens: 7 + content.split(" ").length,
    },
  };
}

/**
 * Starts the server; `respond` decides each reply from the request number (1-based) and body.
 * @param respond The script.
 */
export async function startFaultServer(respond: (request: ReceivedRequest) => FaultResponse): Promise<FaultServer> {
  const requests: ReceivedRequest[] = [];
  let inFlight = 0;
  const hung = new Set<() => void>();
  const state = { maxInFlight: 0 };
  const server: Server = createServer((incoming, outgoing) => {
    let text = "";
    incoming.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    incoming.on("end", () => {
      const received: ReceivedRequest = {
        number: requests.length + 1,
        headers: incoming.headers,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
      requests.push(received);
      inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      const reply = respond(received);
      const finish = (): void => {
        inFlight -= 1;
        if (reply.reset) {
          incoming.socket.resetAndDestroy();
          return;
        }
        const body = Buffer.from(reply.raw ?? JSON.stringify(reply.body ?? completion(`reply ${received.number}`)));
        outgoing.writeHead(reply.status ?? 200, {
          "content-type": "application/json",
          "content-length": String(body.length),
          ...reply.headers,
        });
        if (reply.truncateAt === undefined) {
          outgoing.end(body);
          return;
        }
        outgoing.write(body.subarray(0, reply.truncateAt), () => incoming.socket.resetAndDestroy());
      };
      if (reply.hang) {
        const release = (): void => {
          inFlight -= 1;
          outgoing.destroy();
        };
        hung.add(release);
        incoming.on("close", () => hung.delete(release));
        return;
      }
      setTimeout(finish, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: async () => {
      for (const release of hung) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
