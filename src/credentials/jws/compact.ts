/**
 * Strict parsing of the JWS Compact Serialization (RFC 7515 §7.1).
 *
 * jose accepts a few encodings the Wycheproof vectors call invalid (base64url with non-zero
 * unused bits, characters outside the alphabet, padding). Warden accepts only the one
 * canonical form of each part: every segment is unpadded base64url over [A-Za-z0-9_-], and
 * decoding then re-encoding yields the very same text.
 */
export interface CompactJws {
  readonly header: Readonly<Record<string, unknown>>;
  /** `BASE64URL(header) '.' BASE64URL(payload)`: the JWS Signing Input (RFC 7515 §5.1). */
  readonly signingInput: string;
  readonly payload: Buffer;
  readonly signature: Buffer;
}

export type CompactFailure = 'malformed' | 'too_large';

const SEGMENT = /^[A-Za-z0-9_-]*$/;

/** Decodes one canonical base64url segment, or returns null when it is not canonical. */
export function decodeCanonicalB64u(segment: string): Buffer | null {
  if (!SEGMENT.test(segment) || segment.length % 4 === 1) return null;
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : null;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parses JSON that must be an object; UTF-8 must be well formed (RFC 7515 §5.2 step 3). */
export function parseJsonObject(bytes: Buffer): Record<string, unknown> | null {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  if (hasDuplicateTopLevelKey(text, value as Record<string, unknown>)) return null;
  return value as Record<string, unknown>;
}

/**
 * RFC 7515 §5.2 step 4: a JWS with duplicate header names MUST be rejected (or only the last
 * used). JSON.parse silently keeps the last; comparing the number of keys it kept with the
 * number of top-level members in the text tells whether one was dropped.
 */
function hasDuplicateTopLevelKey(text: string, parsed: Record<string, unknown>): boolean {
  let depth = 0;
  let members = 0;
  let inString = false;
  let sawValueAtTop = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      if (depth === 1 && !sawValueAtTop) {
        members++;
        sawValueAtTop = true;
      }
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) sawValueAtTop = false;
  }
  return members !== Object.keys(parsed).length;
}

/**
 * Splits and decodes a compact JWS. Returns a failure reason instead of throwing so each
 * caller raises its own error code (`CRED_MALFORMED`, `DPOP_INVALID`, …).
 */
export function parseCompactJws(token: unknown, maxLength: number): CompactJws | CompactFailure {
  if (typeof token !== 'string') return 'malformed';
  if (token.length > maxLength) return 'too_large';
  const parts = token.split('.');
  if (parts.length !== 3) return 'malformed';
  const [h, p, s] = parts as [string, string, string];
  if (h.length === 0 || s.length === 0) return 'malformed';
  const headerBytes = decodeCanonicalB64u(h);
  const payload = decodeCanonicalB64u(p);
  const signature = decodeCanonicalB64u(s);
  if (!headerBytes || !payload || !signature) return 'malformed';
  const header = parseJsonObject(headerBytes);
  if (!header) return 'malformed';
  return { header, signingInput: `${h}.${p}`, payload, signature };
}
