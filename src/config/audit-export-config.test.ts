import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AuditExportSchema, AuditExportsSchema } from './audit-export-config.js';
import { ConfigError, parseConfig } from './load.js';

const base = { name: 'siem', format: 'otlp', url: 'https://collector.example.com:4318/v1/logs' } as const;

/** The issue messages of an invalid exporter, with their paths. */
function problems(input: unknown): string[] {
  const result = AuditExportSchema.safeParse(input);
  assert.equal(result.success, false, 'expected the exporter to be refused');
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('AuditExportSchema', () => {
  it('fills batchSize 500, intervalSec 5, timeoutSec 10 and no headers', () => {
    assert.deepEqual(AuditExportSchema.parse(base), { ...base, headers: {}, batchSize: 500, intervalSec: 5, timeoutSec: 10 });
  });

  it('takes literal, secret and environment header values', () => {
    const parsed = AuditExportSchema.parse({
      ...base,
      headers: { Authorization: { secret: 'siem/token', format: 'Bearer {value}' }, 'X-Key': { env: 'SIEM_KEY' }, 'X-Tenant': 't1' },
    });
    assert.deepEqual(parsed.headers, { Authorization: { secret: 'siem/token', format: 'Bearer {value}' }, 'X-Key': { env: 'SIEM_KEY' }, 'X-Tenant': 't1' });
  });

  it("refuses Warden's own WARDEN_* variables as header values", () => {
    assert.match(problems({ ...base, headers: { 'X-Key': { env: 'WARDEN_MASTER_KEY' } } })[0]!, /^headers\.X-Key/);
  });

  it('refuses headers the exporter sets, a header twice, and CR/LF in values', () => {
    assert.deepEqual(problems({ ...base, headers: { 'Content-Type': 'text/plain' } }), ['headers.Content-Type: this header is set by the exporter']);
    assert.deepEqual(problems({ ...base, headers: { 'X A': 'a' } }), ['headers.X A: not an HTTP header name']);
    assert.ok(problems({ ...base, headers: { 'X-A': 'a', 'x-a': 'b' } }).some((p) => p.startsWith('headers: ')));
    assert.ok(problems({ ...base, headers: { 'X-A': 'a\r\nX-B: b' } }).length > 0);
    assert.ok(problems({ ...base, headers: { 'X-A': { secret: 's', format: 'no placeholder' } } }).length > 0);
  });

  it('refuses a URL with credentials, a fragment, or another scheme', () => {
    assert.match(problems({ ...base, url: 'https://user:pw@collector.example.com/v1/logs' })[0]!, /^url: no user or password/);
    assert.match(problems({ ...base, url: 'https://collector.example.com/v1/logs#x' })[0]!, /^url: no fragment/);
    assert.match(problems({ ...base, url: 'ftp://collector.example.com/' })[0]!, /^url: http or https/);
  });

  it('bounds batchSize by what one store query returns', () => {
    assert.ok(problems({ ...base, batchSize: 10_001 }).some((p) => p.startsWith('batchSize')));
    assert.ok(problems({ ...base, batchSize: 0 }).some((p) => p.startsWith('batchSize')));
    assert.ok(problems({ ...base, intervalSec: 0 }).some((p) => p.startsWith('intervalSec')));
    assert.ok(problems({ ...base, format: 'syslog' }).some((p) => p.startsWith('format')));
    assert.ok(problems({ ...base, extra: 1 }).length > 0);
  });

  it('refuses two exporters with one name: they would share a cursor', () => {
    const result = AuditExportsSchema.safeParse([base, { ...base, format: 'ocsf' }]);
    assert.equal(result.success, false);
    assert.deepEqual(result.error!.issues[0]!.path, [1, 'name']);
  });

  it('is the audit.export block of the config file, empty by default', () => {
    assert.deepEqual(parseConfig('', 'warden.yaml').audit.export, []);
    try {
      parseConfig('audit:\n  export:\n    - name: Bad Name\n      format: otlp\n      url: https://x.example/v1/logs\n', 'warden.yaml');
      assert.fail('accepted a bad exporter name');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.match(err.problems[0]!, /^audit\.export\.0\.name: /);
    }
  });
});

describe('docs/audit-export.md', () => {
  it('holds only example configurations that validate', () => {
    // dist/src/config/ → repository root.
    const text = readFileSync(new URL('../../../docs/audit-export.md', import.meta.url), 'utf8');
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length > 0);
    for (const block of blocks) assert.ok(parseConfig(block, 'audit-export.md').audit.export.length > 0);
  });
});
