import { sign, verify, type KeyObject } from 'node:crypto';
import { BracketedBaseline } from '../measure.js';
import type { BenchContext } from '../section.js';

/** A compact JWS split into the bytes that were signed and the signature. */
export interface SignedBytes {
  readonly data: Buffer;
  readonly signature: Buffer;
}

export function splitJws(jws: string): SignedBytes {
  const dot = jws.lastIndexOf('.');
  if (dot < 0) throw new TypeError('not a compact JWS');
  return { data: Buffer.from(jws.slice(0, dot), 'ascii'), signature: Buffer.from(jws.slice(dot + 1), 'base64url') };
}

// The raw baselines: one node:crypto call per operation on a buffer made once, with the very
// keys and bytes Warden handles (its signing key, a real token or proof). Every verify is
// checked to succeed first: timing a failing verify would measure the wrong path. Each returns
// with its first half timed; the section calls `after()` once its measured rows are done.

export function rawEd25519Sign(ctx: BenchContext, privateKey: KeyObject, data: Buffer): BracketedBaseline {
  return new BracketedBaseline(ctx, { id: 'raw.ed25519.sign', label: 'raw Ed25519 sign (node:crypto)', kind: 'baseline' }, () =>
    sign(null, data, privateKey),
  ).before();
}

export function rawEd25519Verify(ctx: BenchContext, publicKey: KeyObject, signed: SignedBytes): BracketedBaseline {
  if (!verify(null, signed.data, publicKey, signed.signature)) throw new TypeError('Ed25519 baseline sample does not verify');
  return new BracketedBaseline(ctx, { id: 'raw.ed25519.verify', label: 'raw Ed25519 verify (node:crypto)', kind: 'baseline' }, () =>
    verify(null, signed.data, publicKey, signed.signature),
  ).before();
}

export function rawP256Sign(ctx: BenchContext, privateKey: KeyObject, data: Buffer): BracketedBaseline {
  const key = { key: privateKey, dsaEncoding: 'ieee-p1363' } as const;
  return new BracketedBaseline(ctx, { id: 'raw.p256.sign', label: 'raw P-256 sign, ES256 (node:crypto)', kind: 'baseline' }, () =>
    sign('sha256', data, key),
  ).before();
}

export function rawP256Verify(ctx: BenchContext, publicKey: KeyObject, signed: SignedBytes): BracketedBaseline {
  const key = { key: publicKey, dsaEncoding: 'ieee-p1363' } as const;
  if (!verify('sha256', signed.data, key, signed.signature)) throw new TypeError('P-256 baseline sample does not verify');
  return new BracketedBaseline(ctx, { id: 'raw.p256.verify', label: 'raw P-256 verify, ES256 (node:crypto)', kind: 'baseline' }, () =>
    verify('sha256', signed.data, key, signed.signature),
  ).before();
}
