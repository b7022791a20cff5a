import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { calculateJwkThumbprint, SignJWT, type JWK } from 'jose';

/** An agent's key pair as the SDK holds it. The private half never leaves the agent. */
export interface AgentKeyPair {
  readonly alg: 'ES256' | 'EdDSA';
  readonly privateKey: KeyObject;
  /** Public members only: what Warden registers and what DPoP proofs carry. */
  readonly publicJwk: Readonly<Record<string, string>>;
  /** RFC 7638 thumbprint of `publicJwk`. */
  readonly jkt: string;
}

function publicMembers(jwk: Record<string, unknown>): Record<string, string> {
  return jwk.kty === 'EC'
    ? { crv: String(jwk.crv), kty: 'EC', x: String(jwk.x), y: String(jwk.y) }
    : { crv: String(jwk.crv), kty: String(jwk.kty), x: String(jwk.x) };
}

async function fromPrivateKey(privateKey: KeyObject): Promise<AgentKeyPair> {
  const type = privateKey.asymmetricKeyType;
  const alg = type === 'ed25519' ? 'EdDSA' : type === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'ES256' : null;
  if (!alg) throw new TypeError('agent keys must be P-256 or Ed25519');
  const publicJwk = publicMembers(createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, unknown>);
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk as JWK, 'sha256') };
}

/** A fresh key pair. P-256 by default: it verifies faster than Ed25519 on Node. */
export async function generateAgentKey(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<AgentKeyPair> {
  const { privateKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return fromPrivateKey(privateKey);
}

/** Writes the private JWK (with `kid` = thumbprint) to a new file readable by its owner only. */
export async function saveAgentKey(key: AgentKeyPair, path: string): Promise<void> {
  const jwk = { ...(key.privateKey.export({ format: 'jwk' }) as Record<string, unknown>), alg: key.alg, kid: key.jkt };
  await writeFile(path, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
}

/** Loads a private JWK file as written by `warden agent add --key-out`. */
export async function loadAgentKey(path: string): Promise<AgentKeyPair> {
  const jwk = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  if (typeof jwk.d !== 'string') throw new TypeError(`${path} holds no private key`);
  return fromPrivateKey(createPrivateKey({ key: jwk as never, format: 'jwk' }));
}

/** A DPoP proof JWT (RFC 9449 §4.2) for one request. */
export async function createDpopProof(
  key: AgentKeyPair,
  opts: { method: string; url: string; accessToken?: string; nowSec?: number },
): Promise<string> {
  const u = new URL(opts.url);
  const htu = `${u.protocol}//${u.host}${u.pathname}`;
  const claims: Record<string, unknown> = { jti: randomUUID(), htm: opts.method.toUpperCase(), htu, iat: opts.nowSec ?? Math.floor(Date.now() / 1000) };
  if (opts.accessToken !== undefined) {
    claims.ath = createHash('sha256').update(opts.accessToken).digest('base64url');
  }
  return new SignJWT(claims).setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: { ...key.publicJwk } }).sign(key.privateKey);
}

/** A `private_key_jwt` client assertion (RFC 7523 §3) for one token request. */
export async function createClientAssertion(
  key: AgentKeyPair,
  opts: { agentId: string; audience: string; nowSec?: number; lifetimeSec?: number },
): Promise<string> {
  const now = opts.nowSec ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: key.alg, kid: key.jkt, typ: 'JWT' })
    .setIssuer(opts.agentId)
    .setSubject(opts.agentId)
    .setAudience(opts.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.lifetimeSec ?? 60))
    .sign(key.privateKey);
}
