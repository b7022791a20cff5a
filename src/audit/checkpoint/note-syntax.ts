// SPEC: https://c2sp.org/signed-note ("Format"): the lexical rules shared by notes, key names
// and checkpoint bodies.

/**
 * A key name: non-empty, no Unicode space (White_Space, as Go's unicode.IsSpace) and no plus
 * (U+002B), since `+` separates the fields of a verifier key. Control characters below U+0020
 * are refused too: a note may not contain them.
 */
export function isKeyName(name: unknown): name is string {
  return typeof name === 'string' && /^[^\p{White_Space}+\u0000-\u001f]+$/u.test(name) && isWellFormed(name);
}

/** Text a note may carry: well-formed, and no ASCII control character other than newline. */
export function isNoteText(text: string): boolean {
  return isWellFormed(text) && !/[\u0000-\u0009\u000b-\u001f]/.test(text);
}

/** No lone surrogate, i.e. the string has a UTF-8 encoding (the spec requires valid UTF-8). */
function isWellFormed(s: string): boolean {
  return !/\p{Cs}/u.test(s);
}

/**
 * The bytes of `s` if it is canonical standard base64 (RFC 4648 §4, padded); otherwise
 * undefined. Node's decoder skips characters it does not know, so a round trip is the check.
 */
export function decodeBase64(s: string): Buffer | undefined {
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : undefined;
}
