import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/** What the guarded fetch reports to the connection that owns it. */
export interface FetchGuard {
  /** Largest response body of a POST (the answer to our requests), and longest line of any body. */
  readonly limitBytes: number;
  /** A body went over the limit; it is cut off with an error. */
  onOversize(): void;
  /**
   * The body of a POST failed mid-stream for a reason other than our own abort: the answer to a
   * request is lost, and waiting for it would hang until the call's timeout.
   */
  onBroken(): void;
}

/** Statuses whose responses have no body by definition (RFC 9110 §6.4.1); `Response` refuses one. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** Thrown into the SDK's reader when a body goes over the limit. */
export class OversizedBodyError extends Error {
  constructor() {
    super('upstream response body over the limit');
    this.name = 'OversizedBodyError';
  }
}

/**
 * A fetch for `StreamableHTTPClientTransport` that bounds what an untrusted HTTP upstream can
 * make Warden buffer. The SDK reads POST answers whole (`response.json()`, `response.text()` for
 * errors) and SSE events until their blank line, so a hostile server could otherwise fill
 * memory. POST bodies are bounded in total; GET bodies (the long-lived notification stream)
 * only per line, since their total grows for as long as the session lives.
 */
export function guardedFetch(guard: FetchGuard, base: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    if (!response.body || NULL_BODY.has(response.status)) return response;
    const isPost = (init?.method ?? 'GET').toUpperCase() === 'POST';
    const reader = response.body.getReader();
    const meter = isPost ? totalMeter(guard.limitBytes) : lineMeter(guard.limitBytes);
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (err) {
          if (isPost && !init?.signal?.aborted) guard.onBroken();
          controller.error(err);
          return;
        }
        if (chunk.done) {
          controller.close();
          return;
        }
        if (!meter(chunk.value)) {
          guard.onOversize();
          reader.cancel().catch(() => {});
          controller.error(new OversizedBodyError());
          return;
        }
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** False once the total exceeds `limit`. */
function totalMeter(limit: number): (chunk: Uint8Array) => boolean {
  let seen = 0;
  return (chunk) => (seen += chunk.byteLength) <= limit;
}

/** False once a run of bytes without a line feed exceeds `limit`. */
function lineMeter(limit: number): (chunk: Uint8Array) => boolean {
  let run = 0;
  return (chunk) => {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      if (run + (nl - start) > limit) return false;
      run = 0;
      start = nl + 1;
    }
    run += chunk.byteLength - start;
    return run <= limit;
  };
}
