import type { ExportHeaderValue } from '../../config/audit-export-config.js';
import { VERSION } from '../../version.js';

/**
 * Why a batch was not delivered. Local to the exporter (shown in its status and logs, never
 * sent anywhere), so these are not registry codes.
 */
export type ExportErrorCode =
  /** The receiver answered outside 2xx; `httpStatus` says what. */
  | 'HTTP_ERROR'
  | 'TIMEOUT'
  /** No answer: refused, reset, DNS, TLS. */
  | 'NETWORK'
  /** A header's secret or variable is missing or cannot go in a header. */
  | 'HEADER_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  /** A stored entry does not parse: the log needs `warden audit verify`. */
  | 'BAD_ENTRY'
  | 'INTERNAL';

/** A failure with its code; messages name a header or a status, never a value. */
export class ExportFailure extends Error {
  constructor(
    readonly code: ExportErrorCode,
    readonly details: { readonly header?: string; readonly httpStatus?: number; readonly retryAfterMs?: number } = {},
  ) {
    super(code);
    this.name = 'ExportFailure';
  }
}

/** Looks a secret up in Warden's secret store (`SecretService.resolve`). */
export type ResolveSecret = (name: string) => Promise<string>;

// RFC 9110 §5.5: visible ASCII, SP, HTAB and obs-text; what fetch accepts as a header value.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The configured headers with secrets and variables filled in. Resolved per batch, so a rotated
 * secret is picked up (SecretService caches briefly). Rejects with HEADER_UNAVAILABLE naming the
 * header, never its value.
 */
export async function resolveHeaders(
  headers: Readonly<Record<string, ExportHeaderValue>>,
  sources: { readonly resolveSecret?: ResolveSecret; readonly env: Readonly<Record<string, string | undefined>> },
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [header, spec] of Object.entries(headers)) {
    let value: string | undefined;
    if (typeof spec === 'string') value = spec;
    else {
      let raw: unknown;
      try {
        raw = 'secret' in spec ? await sources.resolveSecret?.(spec.secret) : sources.env[spec.env];
      } catch {
        raw = undefined;
      }
      // split/join, not String.replace: a `$&` in the secret must stay literal.
      value = typeof raw === 'string' && raw.length > 0 ? (spec.format ?? '{value}').split('{value}').join(raw) : undefined;
    }
    if (value === undefined || !HEADER_VALUE.test(value)) throw new ExportFailure('HEADER_UNAVAILABLE', { header });
    out[header] = value;
  }
  return out;
}

/** OTLP/HTTP "Retryable Response Codes"; 408 is a timeout by another name. */
const RETRYABLE: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

/** Whether retrying soon makes sense: the cause may pass by itself (network, overload) or costs nothing to recheck. */
export function isTransient(failure: ExportFailure): boolean {
  // A missing header secret costs nothing to look up again, and is usually about to be set.
  if (failure.code === 'TIMEOUT' || failure.code === 'NETWORK' || failure.code === 'STORE_UNAVAILABLE' || failure.code === 'HEADER_UNAVAILABLE') return true;
  return failure.code === 'HTTP_ERROR' && failure.details.httpStatus !== undefined && RETRYABLE.has(failure.details.httpStatus);
}

/** Most of a response body read: enough for an OTLP partial-success answer, bounded against a runaway one. */
const MAX_RESPONSE_BYTES = 64 * 1024;

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** `partialSuccess.rejectedLogRecords` of an OTLP answer (int64: a string or a number); 0 when absent. */
export function rejectedLogRecords(text: string): number {
  try {
    const rejected = (JSON.parse(text) as { partialSuccess?: { rejectedLogRecords?: unknown } } | null)?.partialSuccess?.rejectedLogRecords;
    const n = Number(rejected ?? 0);
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * POSTs one JSON batch. Resolves to the response text of a 2xx answer; rejects with an
 * `ExportFailure` otherwise. Redirects are not followed: the headers may carry credentials
 * meant for the configured endpoint only.
 */
export async function postBatch(url: string, body: string, headers: Readonly<Record<string, string>>, timeoutMs: number, now: () => number): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'user-agent': `warden/${VERSION}`, ...headers, 'content-type': 'application/json' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ExportFailure(isTimeout(err) ? 'TIMEOUT' : 'NETWORK');
  }
  let text: string;
  try {
    text = await readCapped(res);
  } catch (err) {
    throw new ExportFailure(isTimeout(err) ? 'TIMEOUT' : 'NETWORK');
  }
  if (res.status >= 200 && res.status < 300) return text;
  const retryAfter = retryAfterMs(res.headers.get('retry-after'), now());
  throw new ExportFailure('HTTP_ERROR', { httpStatus: res.status, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) });
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}
