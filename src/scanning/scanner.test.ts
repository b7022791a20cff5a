import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALNUM, b64url, BASE32, BASE64, checksummed, jwt, pemKey, pick, pickMixed } from '../../test/support/fake-secrets.js';
import { WardenError } from '../errors/warden-error.js';
import { secretBlockedError } from './blocked-error.js';
import { compileKnownValues } from './known-values.js';
import { createScanner, createScanners, type Finding } from './scanner.js';
import { ScanningConfigSchema } from './scanning-config.js';

/** Fails when the secret, or any 5-character piece of it, appears in `value` once serialised. */
function assertNoTrace(value: unknown, secret: string, what: string): void {
  const text = JSON.stringify(value);
  for (let i = 0; i + 5 <= secret.length; i++) {
    assert.ok(!text.includes(secret.slice(i, i + 5)), `${what} holds a piece of the secret`);
  }
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

/** An MCP tool result as a filesystem or shell tool returns it: text blocks, a resource, structured content. */
function mcpResult(s: { github: string; password: string; jwt: string }) {
  return {
    content: [
      { type: 'text', text: `Cloned the repository.\nremote: https://x-access-token:${s.password}@github.com/acme/app.git\n` },
      { type: 'resource', resource: { uri: 'file:///app/.env', mimeType: 'text/plain', text: `NODE_ENV=production\nGITHUB_TOKEN=${s.github}\n` } },
      { type: 'text', text: 'No other changes.' },
    ],
    structuredContent: {
      files: [{ path: '.env', size: 120 }],
      session: { user: 'ci', credentials: { password: s.password }, id_token: s.jwt },
    },
    isError: false,
  };
}

const secrets = () => ({ github: checksummed('ghp_'), password: pickMixed(ALNUM, 24, true), jwt: jwt() });

describe('scanValue', () => {
  it('finds secrets anywhere in a nested MCP result and names each by JSON pointer', () => {
    const s = secrets();
    const r = createScanner().scanValue(mcpResult(s));
    assert.equal(r.action, 'redact');
    const where = r.findings.map((f) => `${f.detector} ${f.path}`).sort();
    assert.deepEqual(where, [
      'generic-secret-assignment /structuredContent/session/credentials/password',
      'github-token /content/1/resource/text',
      'jwt /structuredContent/session/id_token',
      'url-password /content/0/text',
    ]);
  });

  it('redacts every secret and keeps the rest of the value as it was', () => {
    const s = secrets();
    const input = mcpResult(s);
    const r = createScanner().scanValue(input);
    assert.notEqual(r.action, 'block');
    if (r.action === 'block') return;
    for (const secret of Object.values(s)) assertNoTrace(r.redacted, secret, 'redacted');
    assert.equal(r.redacted.content[1]!.resource!.text, 'NODE_ENV=production\nGITHUB_TOKEN=[REDACTED:github-token]\n');
    assert.equal(r.redacted.content[0]!.text, 'Cloned the repository.\nremote: https://x-access-token:[REDACTED:url-password]@github.com/acme/app.git\n');
    assert.equal(r.redacted.structuredContent.session.credentials.password, '[REDACTED:generic-secret-assignment]');
    // Untouched parts are the input's own objects: nothing is copied that did not change.
    assert.equal(r.redacted.content[2], input.content[2]);
    assert.equal(r.redacted.structuredContent.files, input.structuredContent.files);
    assert.equal(r.redacted.isError, false);
  });

  it('never changes its input', () => {
    const s = secrets();
    const input = deepFreeze(mcpResult(s));
    const before = JSON.stringify(input);
    createScanner().scanValue(input); // a frozen input would throw on any write
    assert.equal(JSON.stringify(input), before);
  });

  it('puts no part of a secret in its findings', () => {
    const s = secrets();
    const known = compileKnownValues([s.password]);
    const r = createScanner({ knownValues: known }).scanValue(mcpResult(s));
    for (const secret of Object.values(s)) assertNoTrace(r.findings, secret, 'findings');
    for (const f of r.findings) assert.deepEqual(Object.keys(f).sort(), ['detector', 'end', 'part', 'path', 'start', ...(f.encoding ? ['encoding'] : [])].sort());
  });

  it('returns the input itself and pass when nothing is found', () => {
    const input = { content: [{ type: 'text', text: 'All 12 tests passed.' }] };
    const r = createScanner().scanValue(input);
    assert.equal(r.action, 'pass');
    assert.equal(r.redacted, input);
    assert.deepEqual(r.findings, []);
  });

  it('finds nothing new in its own redacted output', () => {
    const r = createScanner().scanValue(mcpResult(secrets()));
    assert.deepEqual(createScanner().scanValue(r.redacted).findings, []);
  });

  it('scans member names too, and keeps the secret out of the path it reports', () => {
    const token = checksummed('ghp_');
    const r = createScanner().scanValue({ headers: { [token]: 'x', accept: 'json' } });
    assert.deepEqual(r.findings, [{ detector: 'github-token', path: '/headers/[REDACTED:github-token]', part: 'key', start: 0, end: token.length }]);
    assert.deepEqual(r.redacted, { headers: { '[REDACTED:github-token]': 'x', accept: 'json' } });
  });

  it('keeps both members when two names redact to the same text', () => {
    const [a, b] = [checksummed('ghp_'), checksummed('ghp_')];
    const r = createScanner().scanValue({ [a]: 1, [b]: 2 });
    assert.deepEqual(r.redacted, { '[REDACTED:github-token]': 1, '[REDACTED:github-token]#2': 2 });
    assert.deepEqual(r.findings.map((f) => f.path), ['/[REDACTED:github-token]', '/[REDACTED:github-token]#2']);
  });

  it('escapes member names in pointers as RFC 6901 says', () => {
    const r = createScanner().scanValue({ 'a/b': { 'c~d': [`key=${checksummed('ghp_')}`] } });
    assert.equal(r.findings[0]?.path, '/a~1b/c~0d/0');
  });

  it('keeps a member named __proto__ a member of the copy', () => {
    const input = JSON.parse(`{"__proto__": {"token": "${checksummed('ghp_')}"}}`) as Record<string, unknown>;
    const r = createScanner().scanValue(input);
    const out = r.redacted as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.keys(out), ['__proto__']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { token: '[REDACTED:github-token]' });
  });

  it('merges overlapping findings into one, named after the more specific detector', () => {
    const token = checksummed('ghp_');
    const r = createScanner().scanText(`api_key=${token}`);
    assert.deepEqual(r.findings.map((f) => f.detector), ['github-token']);
    const known = createScanner({ knownValues: [token] }).scanText(`api_key=${token}`);
    assert.deepEqual(known.findings.map((f) => [f.detector, f.encoding]), [['known-value', 'raw']]);
    assert.equal(known.redacted, 'api_key=[REDACTED:known-value]');
  });

  it('finds injected values in any encoding inside tool output', () => {
    const injected = b64url(24);
    const scanner = createScanner({ knownValues: compileKnownValues([injected]) });
    const echoed = {
      content: [
        { type: 'text', text: JSON.stringify({ headers: { Authorization: `Basic ${Buffer.from(`api:${injected}`).toString('base64')}` } }) },
        { type: 'text', text: `GET /v1?key=${encodeURIComponent(injected)}` },
        { type: 'text', text: `dump: ${Buffer.from(injected).toString('hex')}` },
      ],
    };
    const r = scanner.scanValue(echoed);
    assert.deepEqual(
      r.findings.filter((f) => f.detector === 'known-value').map((f) => f.path),
      ['/content/0/text', '/content/1/text', '/content/2/text'],
    );
    assertNoTrace(r.redacted, injected, 'redacted');
    assertNoTrace(r.redacted, Buffer.from(injected).toString('hex'), 'redacted');
  });

  it('reads members as name: value, so structured credentials get the context text would give', () => {
    const secret = pickMixed(BASE64, 40);
    const bearer = b64url(32);
    const r = createScanner().scanValue({
      Credentials: { AccessKeyId: `ASIA${pick(BASE32, 16)}`, SecretAccessKey: secret, SessionToken: 'short' },
      request: { headers: { Authorization: `Bearer ${bearer}` } },
    });
    assert.deepEqual(
      r.findings.map((f) => `${f.detector} ${f.path}`),
      ['aws-access-key-id /Credentials/AccessKeyId', 'aws-secret-access-key /Credentials/SecretAccessKey', 'authorization-header /request/headers/Authorization'],
    );
    assertNoTrace(r.redacted, secret, 'redacted');
    assertNoTrace(r.redacted, bearer, 'redacted');
  });

  it('redacts a private key split over array elements in every element it spans', () => {
    const lines = pemKey('ec').trimEnd().split('\n');
    const r = createScanner().scanValue({ lines });
    assert.deepEqual([...new Set(r.findings.map((f) => f.detector))], ['private-key']);
    assert.deepEqual(r.findings.map((f) => f.path), lines.map((_, i) => `/lines/${i}`));
    assert.ok((r.redacted as { lines: string[] }).lines.every((l) => l === '[REDACTED:private-key]'));
  });

  it('copies undefined members (objects built in code) without complaint', () => {
    const r = createScanner().scanValue({ a: undefined, b: `t=${checksummed('ghp_')}` });
    assert.deepEqual(Object.keys(r.redacted as object), ['a', 'b']);
  });

  it('rejects values JSON cannot hold with a TypeError', () => {
    const s = createScanner();
    for (const v of [new Map(), new Date(0), () => 1, 1n, Symbol('x'), [new Set()]]) assert.throws(() => s.scanValue(v), TypeError);
  });
});

describe('scan modes', () => {
  const input = () => ({ args: { body: `token ${checksummed('ghp_')}` } });

  it('redacts in redact mode, blocks in block mode, and does nothing when off', () => {
    assert.equal(createScanner({ mode: 'redact' }).scanValue(input()).action, 'redact');
    const blocked = createScanner({ mode: 'block' }).scanValue(input());
    assert.equal(blocked.action, 'block');
    assert.equal(blocked.findings.length, 1);
    const value = input();
    const off = createScanner({ mode: 'off' }).scanValue(value);
    assert.deepEqual([off.action, off.findings, off.redacted === value], ['pass', [], true]);
  });

  it('configures both directions from the config fragment, defaults redact for results and block for arguments', () => {
    const { results, arguments: args } = createScanners(ScanningConfigSchema.parse({}));
    assert.equal(results.scanValue(input()).action, 'redact');
    assert.equal(args.scanValue(input()).action, 'block');
  });

  it('does not run disabled detectors, and refuses an unknown id', () => {
    const s = createScanner({ disabled: ['github-token'] });
    assert.deepEqual(s.scanValue(input()).findings, []);
    assert.throws(() => createScanner({ disabled: ['github-tokens'] }), TypeError);
  });

  it('runs configured patterns, reporting the secret group when there is one', () => {
    const config = ScanningConfigSchema.parse({
      extraPatterns: [
        { id: 'acme-key', regex: 'acme_[0-9a-f]{16}' },
        { id: 'acme-pin', regex: 'PIN: (?<secret>[0-9]{6,8})' },
      ],
    });
    const r = createScanners(config).results.scanText('use acme_0123456789abcdef with PIN: 4711042');
    assert.equal(r.redacted, 'use [REDACTED:acme-key] with PIN: [REDACTED:acme-pin]');
  });
});

describe('scan limits', () => {
  it('blocks, without a stack overflow, a value nested far beyond the depth bound', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    for (const mode of ['redact', 'block'] as const) {
      const r = createScanner({ mode }).scanValue({ content: deep });
      assert.equal(r.action, 'block');
      const limit = r.findings.at(-1) as Finding;
      assert.equal(limit.detector, 'scan-limit');
      assert.equal(limit.path, `/content${'/0'.repeat(63)}`);
      assert.equal(r.redacted, '[REDACTED:scan-limit]');
    }
  });

  it('keeps a secret used as a member name out of the limit finding\'s path', () => {
    const token = checksummed('ghp_');
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { [token]: deep };
    const r = createScanner().scanValue(deep);
    assert.equal(r.action, 'block');
    assertNoTrace(r.findings, token, 'findings');
    assert.ok(r.findings[0]?.path.startsWith('/[REDACTED:github-token]/'));
  });

  it('stops at the depth bound on a cyclic object instead of looping', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    assert.equal(createScanner().scanValue(cyclic).action, 'block');
  });

  it('blocks a value with more nodes or characters than allowed', () => {
    assert.equal(createScanner({ limits: { maxNodes: 1000 } }).scanValue(new Array(2000).fill(1)).action, 'block');
    assert.equal(createScanner({ limits: { maxChars: 1000 } }).scanValue(['x'.repeat(600), 'y'.repeat(600)]).action, 'block');
    const text = createScanner({ limits: { maxChars: 1000 } }).scanText('z'.repeat(1001));
    assert.deepEqual([text.action, text.redacted, text.findings.map((f) => f.detector)], ['block', '[REDACTED:scan-limit]', ['scan-limit']]);
  });

  it('scans 1 MB of one letter in a tool result quickly and finds nothing', () => {
    const t0 = performance.now();
    const r = createScanner({ knownValues: [b64url(24)] }).scanValue({ content: [{ type: 'text', text: 'a'.repeat(1 << 20) }] });
    assert.equal(r.action, 'pass');
    assert.ok(performance.now() - t0 < 1000);
  });
});

describe('secretBlockedError', () => {
  it('maps each direction to its code and carries only detector ids and pointers', () => {
    const token = checksummed('ghp_');
    const r = createScanner({ mode: 'block' }).scanValue({ q: token, nested: { also: `x ${token}` } });
    const args = secretBlockedError('arguments', r.findings);
    const res = secretBlockedError('results', r.findings);
    assert.ok(args instanceof WardenError);
    assert.deepEqual([args.code, args.status, res.code, res.status], ['SECRET_IN_ARGUMENTS', 403, 'SECRET_IN_RESPONSE', 502]);
    assert.deepEqual(args.details, { detectors: ['github-token'], paths: ['/q', '/nested/also'], count: 2 });
    assertNoTrace([args.message, args.details, res.message], token, 'error');
  });
});
