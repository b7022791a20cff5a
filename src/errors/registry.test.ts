import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERRORS, isErrorCode, type ErrorSpec } from './registry.js';

const entries: [string, ErrorSpec][] = Object.entries(ERRORS);

// RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, RFC 9449 §7.1 and §12.2.
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
  'invalid_token',
  'insufficient_scope',
  'invalid_dpop_proof',
  'use_dpop_nonce',
]);

/** The rows of the table in docs/errors.md: code → { status, oauth }. */
function documentedErrors(): Map<string, { status: number; oauth: string | undefined }> {
  // dist/src/errors/ → repository root.
  const text = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, { status: number; oauth: string | undefined }>();
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const code = /^`([A-Z_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!code) continue;
    const oauth = /^`([a-z_]+)`$/.exec(cells[3] ?? '')?.[1];
    rows.set(code, { status: Number(cells[2]), oauth });
  }
  return rows;
}

describe('error registry', () => {
  it('names every code AREA_REASON in upper snake case', () => {
    // DESIGN.md fixes a few general codes without an area (INTERNAL, CONFLICT); those are listed.
    const general = new Set(['INTERNAL', 'CONFLICT']);
    const bad = entries.map(([code]) => code).filter((code) => !general.has(code) && !/^[A-Z]+(_[A-Z]+)+$/.test(code));
    assert.deepEqual(bad, []);
  });

  it('maps every code to a 4xx or 5xx status', () => {
    const bad = entries.filter(([, s]) => !(Number.isInteger(s.status) && s.status >= 400 && s.status <= 599)).map(([c]) => c);
    assert.deepEqual(bad, []);
  });

  it('uses fixed messages with no template placeholders', () => {
    const bad = entries.filter(([, s]) => s.message.length === 0 || s.message.includes('${')).map(([c]) => c);
    assert.deepEqual(bad, []);
  });

  it('uses only OAuth error codes the RFCs define', () => {
    const bad = entries.filter(([, s]) => s.oauth !== undefined && !OAUTH_ERRORS.has(s.oauth)).map(([c]) => c);
    assert.deepEqual(bad, []);
  });

  it('maps every code to a JSON-RPC code in the reserved range', () => {
    // -32768..-32000 is reserved by JSON-RPC 2.0 §5.1.
    const bad = entries.filter(([, s]) => !(Number.isInteger(s.jsonrpc) && s.jsonrpc >= -32768 && s.jsonrpc <= -32000)).map(([c]) => c);
    assert.deepEqual(bad, []);
  });

  it('recognises its own codes and nothing inherited from Object', () => {
    assert.equal(isErrorCode('DPOP_REPLAY'), true);
    for (const v of ['toString', 'constructor', '__proto__', 'dpop_replay', 42, undefined]) assert.equal(isErrorCode(v), false, String(v));
  });
});

describe('docs/errors.md', () => {
  const documented = documentedErrors();

  it('documents every code in the registry', () => {
    const missing = entries.map(([code]) => code).filter((code) => !documented.has(code));
    assert.deepEqual(missing, []);
  });

  it('documents no code that the registry does not have', () => {
    const stale = [...documented.keys()].filter((code) => !isErrorCode(code));
    assert.deepEqual(stale, []);
  });

  it('agrees with the registry on each status and OAuth error', () => {
    const wrong = entries
      .filter(([code, s]) => {
        const row = documented.get(code);
        return row && (row.status !== s.status || row.oauth !== s.oauth);
      })
      .map(([code]) => code);
    assert.deepEqual(wrong, []);
  });
});
