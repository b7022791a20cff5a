import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Readable } from 'node:stream';
import { Agent, errors as undiciErrors, request } from 'undici';

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
export function guardedFetch(guard: FetchGuard, base: FetchLike = fetch, post?: FetchLike): FetchLike {
  const links = new SignalLinks();
  return async (url, requested) => {
    // Answers to our requests come whole from the faster path when there is one (see postFetch).
    const method = (requested?.method ?? 'GET').toUpperCase();
    if (post && (method === 'POST' || method === 'DELETE')) {
      const link = links.link(requested?.signal ?? undefined);
      try {
        return await post(url, link ? { ...requested, signal: link.signal } : requested);
      } finally {
        link?.release();
      }
    }
    // The SDK passes its transport's one long-lived signal to every request; fetch adds a
    // listener to it per request and drops it only at garbage collection, so under load they
    // pile up (MaxListenersExceededWarning, memory held). Each request gets a signal of its
    // own instead, aborted by one listener on the shared signal.
    const link = links.link(requested?.signal ?? undefined);
    const init = link ? { ...requested, signal: link.signal } : requested;
    let response: Response;
    try {
      response = await base(url, init);
    } catch (err) {
      link?.release();
      throw err;
    }
    if (!response.body || NULL_BODY.has(response.status)) {
      link?.release();
      return response;
    }
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
          link?.release();
          controller.error(err);
          return;
        }
        if (chunk.done) {
          link?.release();
          controller.close();
          return;
        }
        if (!meter(chunk.value)) {
          guard.onOversize();
          link?.release();
          reader.cancel().catch(() => {});
          controller.error(new OversizedBodyError());
          return;
        }
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        link?.release();
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

/** Per-request abort controllers that follow a shared signal through one listener on it. */
class SignalLinks {
  private readonly followers = new WeakMap<AbortSignal, Set<AbortController>>();

  link(shared: AbortSignal | undefined): { signal: AbortSignal; release(): void } | undefined {
    if (!shared) return undefined;
    const own = new AbortController();
    if (shared.aborted) {
      own.abort(shared.reason);
      return { signal: own.signal, release: () => {} };
    }
    let set = this.followers.get(shared);
    if (!set) {
      const created = new Set<AbortController>();
      set = created;
      this.followers.set(shared, created);
      shared.addEventListener(
        'abort',
        () => {
          for (const c of created) c.abort(shared.reason);
          created.clear();
        },
        { once: true },
      );
    }
    const followers = set;
    followers.add(own);
    return { signal: own.signal, release: () => void followers.delete(own) };
  }
}

/**
 * The POSTs (and DELETE) of an upstream session over undici's `request` instead of `fetch`: on
 * Node 20, `fetch` builds WHATWG streams, a Request and a Response around every call, which cost
 * more than the rest of a tool call's upstream leg (bench: tools/call through Warden, CPU per
 * call). A JSON answer is read whole, within the guard's limit, into a plain `Response`; an SSE
 * answer (which may carry notifications before the result, and need not end after it) is handed
 * over as a stream, metered like the fetch path's. Redirects are returned, not followed (the SDK
 * follows them within the origin). One keep-alive agent per upstream connection.
 */
export function postFetch(guard: FetchGuard, dispatcher: Agent): FetchLike {
  return async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const signal = init?.signal ?? undefined;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url instanceof URL ? url : new URL(String(url)), {
        method: (init?.method ?? 'POST').toUpperCase() as 'POST' | 'DELETE',
        headers,
        body: typeof init?.body === 'string' ? init.body : init?.body == null ? null : String(init.body),
        signal,
        dispatcher,
      });
    } catch (err) {
      throw fetchError(err, signal);
    }
    const responseHeaders = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (Array.isArray(v)) for (const one of v) responseHeaders.append(k, one);
      else if (v !== undefined) responseHeaders.set(k, v);
    }
    const status = res.statusCode;
    if (NULL_BODY.has(status) || status < 200) {
      res.body.resume();
      return new Response(null, { status: status < 200 ? 502 : status, headers: responseHeaders });
    }
    const type = responseHeaders.get('content-type') ?? '';
    if (/^\s*text\/event-stream/i.test(type)) {
      const meter = lineMeter(guard.limitBytes);
      const metered = Readable.toWeb(res.body) as ReadableStream<Uint8Array>;
      const reader = metered.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          let chunk: Awaited<ReturnType<typeof reader.read>>;
          try {
            chunk = await reader.read();
          } catch (err) {
            if (!signal?.aborted) guard.onBroken();
            controller.error(err);
            return;
          }
          if (chunk.done) return controller.close();
          if (!meter(chunk.value)) {
            guard.onOversize();
            reader.cancel().catch(() => {});
            controller.error(new OversizedBodyError());
            return;
          }
          controller.enqueue(chunk.value);
        },
        cancel: (reason) => reader.cancel(reason),
      });
      return new Response(body, { status, headers: responseHeaders });
    }
    const chunks: Buffer[] = [];
    let seen = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        seen += chunk.byteLength;
        if (seen > guard.limitBytes) {
          res.body.destroy();
          guard.onOversize();
          throw new OversizedBodyError();
        }
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof OversizedBodyError) throw err;
      if (!signal?.aborted) guard.onBroken();
      throw fetchError(err, signal);
    }
    return bufferedResponse(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), status, responseHeaders);
  };
}

/**
 * A `Response` over a body already read: `json()` and `text()` decode the bytes directly. A real
 * `Response` (built on first use of anything else) would wrap them in a WHATWG stream first,
 * which on Node 20 costs as much as parsing the answer.
 */
function bufferedResponse(bytes: Buffer, status: number, headers: Headers): Response {
  let real: Response | undefined;
  let used = false;
  const take = (): Buffer => {
    if (used) throw new TypeError('Body is unusable: Body has already been read');
    used = true;
    return bytes;
  };
  const response = {
    ok: status >= 200 && status < 300,
    status,
    statusText: '',
    headers,
    url: '',
    type: 'basic' as const,
    redirected: false,
    get bodyUsed() {
      return used || (real?.bodyUsed ?? false);
    },
    get body() {
      if (used) return null;
      real ??= new Response(bytes, { status, headers });
      return real.body;
    },
    json: async () => JSON.parse(take().toString('utf8')) as unknown,
    text: async () => take().toString('utf8'),
    arrayBuffer: async () => {
      const b = take();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    },
    clone: () => bufferedResponse(Buffer.from(bytes), status, new Headers(headers)),
  };
  return response as unknown as Response;
}

/** A failure as `fetch` would report it: an AbortError when our signal ended it, else a TypeError. */
function fetchError(err: unknown, signal: AbortSignal | undefined): Error {
  if (signal?.aborted || err instanceof undiciErrors.RequestAbortedError) {
    const abort = new Error('This operation was aborted');
    abort.name = 'AbortError';
    return abort;
  }
  return new TypeError('fetch failed', { cause: err });
}
