import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { SUPPORTED_PROTOCOL_VERSIONS, type McpError } from '@modelcontextprotocol/sdk/types.js';
import { progressTokenOf } from './progress-relay.js';

/** A `tools/call` request the gateway answers itself, without the SDK's transport. */
export interface FastToolCall {
  readonly id: string | number;
  readonly name: string;
  readonly args: Record<string, unknown>;
  /** The agent's progress token, when it asked for progress (`params._meta.progressToken`). */
  readonly progressToken?: string | number;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const PARAM_KEYS = new Set(['name', 'arguments', '_meta']);

/**
 * The one `tools/call` this POST carries, when the gateway can answer it without the SDK's
 * Streamable HTTP transport: a single, well-formed JSON-RPC request with exactly the headers the
 * SDK would accept (both answer types in `Accept`, a JSON body, no or a supported protocol
 * version). Anything else — batches, other methods, task-augmented calls, a request the SDK
 * would refuse — returns undefined and goes to the SDK, which answers it (or its error) as
 * always. The SDK's transport costs a WHATWG Request, Response and stream per POST on Node 20:
 * more CPU than the rest of the gateway's part of a call.
 */
export function fastToolCall(headers: IncomingHttpHeaders, body: unknown): FastToolCall | undefined {
  const accept = headers.accept;
  if (typeof accept !== 'string' || !accept.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
  const type = headers['content-type'];
  if (type !== 'application/json' && type !== 'application/json; charset=utf-8') return undefined;
  const version = headers['mcp-protocol-version'];
  if (version !== undefined && (typeof version !== 'string' || !SUPPORTED_PROTOCOL_VERSIONS.includes(version))) return undefined;
  if (!isPlainObject(body) || body.jsonrpc !== '2.0' || body.method !== 'tools/call') return undefined;
  for (const k of Object.keys(body)) if (k !== 'jsonrpc' && k !== 'method' && k !== 'id' && k !== 'params') return undefined;
  const { id, params } = body;
  if (!(typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)))) return undefined;
  if (!isPlainObject(params) || typeof params.name !== 'string') return undefined;
  for (const k of Object.keys(params)) if (!PARAM_KEYS.has(k)) return undefined;
  if (params._meta !== undefined && !isPlainObject(params._meta)) return undefined;
  const args = params.arguments;
  if (args !== undefined && !isPlainObject(args)) return undefined;
  const progressToken = progressTokenOf(params._meta);
  return { id, name: params.name, args: args ?? {}, ...(progressToken !== undefined ? { progressToken } : {}) };
}

/** The request ids a POST of only `notifications/cancelled` messages cancels. */
export function cancelledIds(body: unknown): (string | number)[] {
  const ids: (string | number)[] = [];
  for (const m of Array.isArray(body) ? body : [body]) {
    if (isPlainObject(m) && m.method === 'notifications/cancelled' && isPlainObject(m.params)) {
      const id = m.params.requestId;
      if (typeof id === 'string' || typeof id === 'number') ids.push(id);
    }
  }
  return ids;
}

/**
 * Opens the SSE answer of a POST as the SDK's transport does (same status and headers); the
 * held-headers wrapper (hold-sse-headers.ts) sends them with the event when it comes soon.
 */
export function openSseAnswer(res: ServerResponse, sessionId: string): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
    'mcp-session-id': sessionId,
  });
  res.flushHeaders();
}

/** Writes the JSON-RPC answer as the SSE event the SDK would write, and ends the stream. */
export function endSseAnswer(res: ServerResponse, id: string | number, outcome: { result: unknown } | { error: McpError }): void {
  if (res.writableEnded || res.destroyed) return;
  const message =
    'result' in outcome
      ? { jsonrpc: '2.0', id, result: outcome.result }
      : {
          jsonrpc: '2.0',
          id,
          // The shape the SDK's protocol layer gives a thrown McpError.
          error: { code: outcome.error.code, message: outcome.error.message, ...(outcome.error.data !== undefined ? { data: outcome.error.data } : {}) },
        };
  res.end(sseEvent(message));
}

/** Writes one JSON-RPC message as an SSE event on an answer that stays open (a notification). */
export function writeSseEvent(res: ServerResponse, message: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.write(sseEvent(message));
}

const sseEvent = (message: unknown): string => `event: message\ndata: ${JSON.stringify(message)}\n\n`;
