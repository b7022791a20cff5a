import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `x-warden-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 *
 * The timestamp is inside the MAC so a captured delivery cannot be replayed later with a new
 * time; receivers reject a `t` outside their tolerance. `v1` names the scheme so a future one
 * can be sent beside it during a migration (receivers accept any `v1` that matches).
 */
export const SIGNATURE_HEADER = 'x-warden-signature';

/** Default tolerance between the signed time and the receiver's clock. */
export const DEFAULT_TOLERANCE_SEC = 300;

/** The signature header value for `body` sent at `timestampSec`. */
export function signWebhook(secret: string, body: string, timestampSec: number): string {
  if (!Number.isSafeInteger(timestampSec)) throw new TypeError('timestampSec must be an integer');
  const mac = createHmac('sha256', secret).update(`${timestampSec}.${body}`).digest('hex');
  return `t=${timestampSec},v1=${mac}`;
}

/**
 * Checks a delivery as a receiver should: the header parses, its time is within
 * `toleranceSec` of `nowSec`, and one `v1` MAC over the raw body matches, compared in constant
 * time. `body` MUST be the raw bytes received, not re-serialized JSON.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined | null,
  body: string | Uint8Array,
  opts: { nowSec?: number; toleranceSec?: number } = {},
): boolean {
  if (typeof header !== 'string' || header.length > 1024) return false;
  let t: number | undefined;
  const macs: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^[0-9]{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) macs.push(value);
  }
  if (t === undefined || macs.length === 0) return false;
  const now = opts.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  // Each candidate is 32 bytes (checked above), so timingSafeEqual never sees a length mismatch.
  return macs.some((mac) => timingSafeEqual(Buffer.from(mac, 'hex'), expected));
}
