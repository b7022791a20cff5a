import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT, type JWK } from 'jose';
import { createDpopProof, generateAgentKey, type AgentKeyPair } from '../../sdk/keys.js';
import { ManualClock } from '../../util/clock.js';
import { PublicKeyCache } from '../keys/public-jwk.js';
import { DpopVerifier, MAX_PROOF_LENGTH, type DpopCheck } from './verify-proof.js';
import { ReplayCache } from './replay-cache.js';
import { rejectsWith } from '../../../test/support/rejects-with.js';

const URL_STRING = 'https://warden.example/mcp/github';
const MAX_AGE_SEC = 60;
const SKEW_SEC = 5;

function setup(offload?: () => boolean) {
  const clock = new ManualClock();
  const replay = new ReplayCache((MAX_AGE_SEC + 2 * SKEW_SEC) * 1000, clock.now());
  const verifier = new DpopVerifier(new PublicKeyCache(), replay, clock, { maxAgeSec: MAX_AGE_SEC, skewSec: SKEW_SEC, ...(offload ? { offload } : {}) });
  const nowSec = Math.floor(clock.now() / 1000);
  const check = (proof: DpopCheck['proof'], extra: Partial<DpopCheck> = {}): DpopCheck => ({
    proof,
    method: 'POST',
    url: new URL(URL_STRING),
    ...extra,
  });
  return { clock, verifier, nowSec, check };
}

/** A compact JWS signed with node:crypto, for headers and claims jose would not produce. */
function signRaw(header: unknown, claims: unknown, key: AgentKeyPair | KeyObject): string {
  const privateKey = 'privateKey' in key ? key.privateKey : key;
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const sig =
    privateKey.asymmetricKeyType === 'ed25519'
      ? sign(null, Buffer.from(input), privateKey)
      : sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

function claimsFor(nowSec: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { jti: randomUUID(), htm: 'POST', htu: URL_STRING, iat: nowSec, ...extra };
}

function headerFor(key: AgentKeyPair, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { typ: 'dpop+jwt', alg: key.alg, jwk: { ...key.publicJwk }, ...extra };
}


describe('DpopVerifier', () => {
  describe('valid proofs', () => {
    for (const alg of ['ES256', 'EdDSA'] as const) {
      it(`accepts a ${alg} proof and returns its key thumbprint and jti`, async () => {
        const { verifier, nowSec, check } = setup();
        const key = await generateAgentKey(alg);
        const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec });
        const verified = await verifier.verify(check(proof));
        assert.equal(verified.key.jkt, key.jkt);
        assert.equal(verified.key.alg, alg);
        const jti = (JSON.parse(Buffer.from(proof.split('.')[1] ?? '', 'base64url').toString()) as { jti: string }).jti;
        assert.equal(verified.jti, jti);
      });
    }

    it('accepts a proof bound to the access token sent with it', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec, accessToken: 'at-1' });
      assert.equal((await verifier.verify(check(proof, { accessToken: 'at-1' }))).key.jkt, key.jkt);
    });

    it('ignores the query string and fragment of the request URL', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec });
      const verified = await verifier.verify(check(proof, { url: new URL(`${URL_STRING}?page=2#top`) }));
      assert.equal(verified.key.jkt, key.jkt);
    });

    it('ignores a query string and fragment in the proof htu', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = signRaw(headerFor(key), claimsFor(nowSec, { htu: `${URL_STRING}?a=b#c` }), key);
      assert.equal((await verifier.verify(check(proof))).key.jkt, key.jkt);
    });

    it('accepts iat at the edges of the window', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      for (const iat of [nowSec - MAX_AGE_SEC - SKEW_SEC, nowSec + SKEW_SEC]) {
        const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec: iat });
        assert.equal((await verifier.verify(check(proof))).key.jkt, key.jkt, `iat ${iat - nowSec}s from now`);
      }
    });
  });

  describe('where the signature is checked (offload)', () => {
    for (const alg of ['ES256', 'EdDSA'] as const) {
      for (const pooled of [true, false]) {
        it(`${alg} on ${pooled ? "libuv's pool" : 'the event loop'}: accepts a good proof, refuses a flipped signature bit and another key's signature`, async () => {
          let asked = 0;
          const { verifier, nowSec, check } = setup(() => {
            asked++;
            return pooled;
          });
          const key = await generateAgentKey(alg);
          const other = await generateAgentKey(alg);
          const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec });
          assert.equal((await verifier.verify(check(proof))).key.jkt, key.jkt);
          const [h, p, sig] = proof.split('.') as [string, string, string];
          const flipped = Buffer.from(sig, 'base64url');
          flipped[5] = (flipped[5] ?? 0) ^ 0x01;
          await rejectsWith(verifier.verify(check(`${h}.${p}.${flipped.toString('base64url')}`)), 'DPOP_INVALID', { reason: 'signature' });
          await rejectsWith(verifier.verify(check(signRaw(headerFor(key), claimsFor(nowSec), other))), 'DPOP_INVALID', { reason: 'signature' });
          // Asked once per proof that reached the signature check, never for one refused earlier.
          await rejectsWith(verifier.verify(check('not-a-jwt')), 'DPOP_INVALID');
          assert.equal(asked, 3);
        });
      }
    }
  });

  describe('DPOP_MISSING', () => {
    it('rejects a request without a DPoP header', async () => {
      const { verifier, check } = setup();
      await rejectsWith(verifier.verify(check(undefined)), 'DPOP_MISSING');
      await rejectsWith(verifier.verify(check('')), 'DPOP_MISSING');
    });
  });

  describe('DPOP_INVALID', () => {
    it('rejects more than one DPoP header', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec });
      await rejectsWith(verifier.verify(check([proof, proof])), 'DPOP_INVALID');
      await rejectsWith(verifier.verify(check(`${proof}, ${proof}`)), 'DPOP_INVALID');
    });

    it('rejects a value that is not a compact JWS', async () => {
      const { verifier, check } = setup();
      await rejectsWith(verifier.verify(check('not-a-jwt')), 'DPOP_INVALID');
    });

    it('rejects a proof longer than the limit', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = signRaw(headerFor(key), claimsFor(nowSec, { pad: 'x'.repeat(MAX_PROOF_LENGTH) }), key);
      await rejectsWith(verifier.verify(check(proof)), 'DPOP_INVALID');
    });

    it('rejects a typ other than dpop+jwt', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key, { typ: 'JWT' }), claimsFor(nowSec), key))), 'DPOP_INVALID');
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key, { typ: undefined }), claimsFor(nowSec), key))), 'DPOP_INVALID');
    });

    it('rejects a crit header', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = signRaw(headerFor(key, { crit: ['exp'], exp: nowSec + 60 }), claimsFor(nowSec), key);
      await rejectsWith(verifier.verify(check(proof)), 'DPOP_INVALID');
    });

    it('rejects the b64 header (RFC 7797 unencoded payload)', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key, { b64: true }), claimsFor(nowSec), key))), 'DPOP_INVALID');
    });

    it('rejects a header jwk that carries the private key', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const privateJwk = key.privateKey.export({ format: 'jwk' });
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key, { jwk: privateJwk }), claimsFor(nowSec), key))), 'DPOP_INVALID');
    });

    it('rejects a proof without a jwk header', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key, { jwk: undefined }), claimsFor(nowSec), key))), 'DPOP_INVALID');
    });

    it('rejects a jwk that does not fit the alg', async () => {
      const { verifier, nowSec, check } = setup();
      const es = await generateAgentKey('ES256');
      const ed = await generateAgentKey('EdDSA');
      // Claims ES256 but carries (and is signed by) an Ed25519 key.
      await rejectsWith(verifier.verify(check(signRaw(headerFor(ed, { alg: 'ES256' }), claimsFor(nowSec), ed))), 'DPOP_INVALID');
      await rejectsWith(verifier.verify(check(signRaw(headerFor(es, { alg: 'EdDSA' }), claimsFor(nowSec), es))), 'DPOP_INVALID');
    });

    it('rejects a signature that does not verify', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec });
      const [h, p, s] = proof.split('.') as [string, string, string];
      const sig = Buffer.from(s, 'base64url');
      sig[10] = (sig[10] ?? 0) ^ 0xff;
      await rejectsWith(verifier.verify(check(`${h}.${p}.${sig.toString('base64url')}`)), 'DPOP_INVALID');
    });

    it('rejects a proof signed by another key than the one in its header', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const other = await generateAgentKey();
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key), claimsFor(nowSec), other))), 'DPOP_INVALID');
    });

    it('rejects a claims payload altered after signing', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'GET', url: URL_STRING, nowSec });
      const [h, , s] = proof.split('.') as [string, string, string];
      const forged = Buffer.from(JSON.stringify(claimsFor(nowSec))).toString('base64url');
      await rejectsWith(verifier.verify(check(`${h}.${forged}.${s}`)), 'DPOP_INVALID');
    });

    it('rejects a header that is a JSON array', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      await rejectsWith(verifier.verify(check(signRaw([headerFor(key)], claimsFor(nowSec), key))), 'DPOP_INVALID');
    });

    it('rejects claims that are not a JSON object', async () => {
      const { verifier, check } = setup();
      const key = await generateAgentKey();
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key), ['jti', 'htm'], key))), 'DPOP_INVALID');
    });

    it('rejects a proof missing a required claim', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      for (const claim of ['jti', 'htm', 'htu', 'iat']) {
        const proof = signRaw(headerFor(key), claimsFor(nowSec, { [claim]: undefined }), key);
        await rejectsWith(verifier.verify(check(proof)), 'DPOP_INVALID');
      }
    });

    it('rejects claims of the wrong type', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key), claimsFor(nowSec, { iat: String(nowSec) }), key))), 'DPOP_INVALID');
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key), claimsFor(nowSec, { jti: 12345678 }), key))), 'DPOP_INVALID');
    });

    it('rejects a jti that is too short or too long', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key), claimsFor(nowSec, { jti: 'abc' }), key))), 'DPOP_INVALID');
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key), claimsFor(nowSec, { jti: 'j'.repeat(257) }), key))), 'DPOP_INVALID');
    });

    it('rejects an ath when no access token is presented', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec, accessToken: 'at-1' });
      await rejectsWith(verifier.verify(check(proof)), 'DPOP_INVALID');
    });
  });

  describe('DPOP_UNSUPPORTED_ALG', () => {
    it('rejects HS256', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await new SignJWT(claimsFor(nowSec))
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { ...key.publicJwk } })
        .sign(new Uint8Array(32).fill(1));
      await rejectsWith(verifier.verify(check(proof)), 'DPOP_UNSUPPORTED_ALG');
    });

    it('rejects RS256', async () => {
      const { verifier, nowSec, check } = setup();
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const proof = await new SignJWT(claimsFor(nowSec))
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'RS256', jwk: publicKey.export({ format: 'jwk' }) as JWK })
        .sign(privateKey);
      await rejectsWith(verifier.verify(check(proof)), 'DPOP_UNSUPPORTED_ALG');
    });

    it('rejects alg none', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const unsigned = signRaw(headerFor(key, { alg: 'none' }), claimsFor(nowSec), key);
      await rejectsWith(verifier.verify(check(unsigned)), 'DPOP_UNSUPPORTED_ALG');
    });

    it('rejects an unsecured JWS (alg none, empty signature) as malformed', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const [h, p] = signRaw(headerFor(key, { alg: 'none' }), claimsFor(nowSec), key).split('.');
      await rejectsWith(verifier.verify(check(`${h}.${p}.`)), 'DPOP_INVALID');
    });
  });

  describe('DPOP_METHOD_MISMATCH', () => {
    it('rejects a proof made for another HTTP method', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'GET', url: URL_STRING, nowSec });
      await rejectsWith(verifier.verify(check(proof)), 'DPOP_METHOD_MISMATCH');
    });
  });

  describe('DPOP_URL_MISMATCH', () => {
    it('rejects a proof made for another path', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: 'https://warden.example/mcp/slack', nowSec });
      await rejectsWith(verifier.verify(check(proof)), 'DPOP_URL_MISMATCH');
    });

    it('rejects a proof made for another host, port or scheme', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      for (const url of ['https://evil.example/mcp/github', 'https://warden.example:8443/mcp/github', 'http://warden.example/mcp/github']) {
        const proof = await createDpopProof(key, { method: 'POST', url, nowSec });
        await rejectsWith(verifier.verify(check(proof)), 'DPOP_URL_MISMATCH');
      }
    });

    it('rejects an htu that is not a URL', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key), claimsFor(nowSec, { htu: '/mcp/github' }), key))), 'DPOP_URL_MISMATCH');
    });
  });

  describe('DPOP_STALE', () => {
    it('rejects a proof older than the maximum age plus skew', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec: nowSec - MAX_AGE_SEC - SKEW_SEC - 1 });
      await rejectsWith(verifier.verify(check(proof)), 'DPOP_STALE');
    });

    it('rejects a proof that becomes too old as time passes', async () => {
      const { clock, verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec });
      clock.advance((MAX_AGE_SEC + SKEW_SEC + 1) * 1000);
      await rejectsWith(verifier.verify(check(proof)), 'DPOP_STALE');
    });

    it('rejects a proof issued in the future beyond the skew', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec: nowSec + SKEW_SEC + 1 });
      await rejectsWith(verifier.verify(check(proof)), 'DPOP_STALE');
    });
  });

  describe('DPOP_ATH_MISMATCH', () => {
    it('rejects a proof bound to another access token', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec, accessToken: 'at-1' });
      await rejectsWith(verifier.verify(check(proof, { accessToken: 'at-2' })), 'DPOP_ATH_MISMATCH');
    });

    it('rejects a proof without ath when an access token is presented', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec });
      await rejectsWith(verifier.verify(check(proof, { accessToken: 'at-1' })), 'DPOP_ATH_MISMATCH');
    });

    it('rejects an ath that is the hash in another encoding', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const hex = createHash('sha256').update('at-1').digest('hex');
      const proof = signRaw(headerFor(key), claimsFor(nowSec, { ath: hex }), key);
      await rejectsWith(verifier.verify(check(proof, { accessToken: 'at-1' })), 'DPOP_ATH_MISMATCH');
    });
  });

  describe('DPOP_REPLAY', () => {
    it('rejects a proof whose jti was already seen', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec });
      await verifier.verify(check(proof));
      await rejectsWith(verifier.verify(check(proof)), 'DPOP_REPLAY');
    });

    it('rejects a replay later in the proof window', async () => {
      const { clock, verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec });
      await verifier.verify(check(proof));
      clock.advance(MAX_AGE_SEC * 1000);
      await rejectsWith(verifier.verify(check(proof)), 'DPOP_REPLAY');
    });

    it('rejects a new proof that reuses the jti of the same key', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const claims = claimsFor(nowSec);
      await verifier.verify(check(signRaw(headerFor(key), claims, key)));
      await rejectsWith(verifier.verify(check(signRaw(headerFor(key), { ...claims, extra: 1 }, key))), 'DPOP_REPLAY');
    });

    it('remembers only proofs that verified in full', async () => {
      const { verifier, nowSec, check } = setup();
      const key = await generateAgentKey();
      const proof = await createDpopProof(key, { method: 'POST', url: URL_STRING, nowSec });
      await rejectsWith(verifier.verify(check(proof, { method: 'GET' })), 'DPOP_METHOD_MISMATCH');
      await rejectsWith(verifier.verify(check(proof, { accessToken: 'at-1' })), 'DPOP_ATH_MISMATCH');
      assert.equal((await verifier.verify(check(proof))).key.jkt, key.jkt);
    });
  });
});
