import { randomBytes } from 'node:crypto';
import { ID_PREFIXES, type IdKind } from '../domain/ids.js';

/** Creates prefixed random ids (`agt_…`). Injected so tests can make them predictable. */
export interface IdGenerator {
  next(kind: IdKind): string;
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** 24 characters of a 36-letter alphabet: about 124 bits, URL- and shell-safe. */
export function randomId(prefix: string, length = 24): string {
  // Rejection sampling keeps every letter equally likely (256 is not a multiple of 36).
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 252 && out.length < length) out += ALPHABET[byte % 36];
    }
  }
  return `${prefix}_${out}`;
}

export const randomIds: IdGenerator = { next: (kind) => randomId(ID_PREFIXES[kind]) };
