import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExportFailure, isTransient, rejectedLogRecords, resolveHeaders, retryAfterMs } from './delivery.js';

const NOW = Date.UTC(2026, 0, 1);

async function failureOf(p: Promise<unknown>): Promise<ExportFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ExportFailure);
    return err;
  }
  assert.fail('expected an ExportFailure');
}

describe('resolveHeaders', () => {
  it('fills secrets and variables into their format, keeping $ patterns literal', async () => {
    const headers = await resolveHeaders(
      { Authorization: { secret: 'tok', format: 'Bearer {value}' }, 'X-Key': { env: 'K' }, 'X-Tenant': 't1' },
      { resolveSecret: async () => 'a$&b', env: { K: 'from-env' } },
    );
    assert.deepEqual(headers, { Authorization: 'Bearer a$&b', 'X-Key': 'from-env', 'X-Tenant': 't1' });
  });

  it('names the header, not the value, when a secret is missing, unset, empty or unfit for a header', async () => {
    const cases = [
      { resolveSecret: async () => Promise.reject(new Error('SECRET_NOT_FOUND')), env: {} },
      { env: {} },
      { resolveSecret: async () => '', env: {} },
      { resolveSecret: async () => 'line\r\nX-Evil: 1', env: {} },
    ];
    for (const sources of cases) {
      const f = await failureOf(resolveHeaders({ Authorization: { secret: 'tok' } }, sources));
      assert.equal(f.code, 'HEADER_UNAVAILABLE');
      assert.deepEqual(f.details, { header: 'Authorization' });
      assert.equal(f.message, 'HEADER_UNAVAILABLE');
    }
    assert.equal((await failureOf(resolveHeaders({ 'X-Key': { env: 'MISSING' } }, { env: {} }))).details.header, 'X-Key');
  });
});

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP-dates (RFC 9110 §10.2.3)', () => {
    assert.equal(retryAfterMs('7', NOW), 7000);
    assert.equal(retryAfterMs(new Date(NOW + 30_000).toUTCString(), NOW), 30_000);
    assert.equal(retryAfterMs(new Date(NOW - 30_000).toUTCString(), NOW), 0);
    assert.equal(retryAfterMs('soon', NOW), undefined);
    assert.equal(retryAfterMs(null, NOW), undefined);
  });
});

describe('rejectedLogRecords', () => {
  it('reads the OTLP partial success count, as an int64 string or a number', () => {
    assert.equal(rejectedLogRecords('{"partialSuccess":{"rejectedLogRecords":"3"}}'), 3);
    assert.equal(rejectedLogRecords('{"partialSuccess":{"rejectedLogRecords":4}}'), 4);
    assert.equal(rejectedLogRecords('{"partialSuccess":{"errorMessage":"warning only"}}'), 0);
    assert.equal(rejectedLogRecords('{}'), 0);
    assert.equal(rejectedLogRecords(''), 0);
    assert.equal(rejectedLogRecords('not json'), 0);
  });
});

describe('isTransient', () => {
  it('retries soon only what can pass by itself: 408, 429, 502, 503, 504, network, timeout', () => {
    for (const status of [408, 429, 502, 503, 504]) assert.ok(isTransient(new ExportFailure('HTTP_ERROR', { httpStatus: status })), String(status));
    for (const status of [400, 401, 403, 404, 413, 500]) assert.ok(!isTransient(new ExportFailure('HTTP_ERROR', { httpStatus: status })), String(status));
    assert.ok(isTransient(new ExportFailure('TIMEOUT')));
    assert.ok(isTransient(new ExportFailure('NETWORK')));
    assert.ok(!isTransient(new ExportFailure('BAD_ENTRY')));
  });
});
