import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEMO_CONFIG } from './demo-config.js';
import { ConfigError, parseConfig } from './load.js';

/** The problems parseConfig reports for `text`; fails the test when it does not throw. */
function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'warden.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.file, 'warden.yaml');
    assert.ok(err.message.startsWith('warden.yaml: '));
    return err.problems;
  }
  assert.fail('parseConfig accepted the text');
}

describe('parseConfig', () => {
  it('gives every default for an empty file, a comment-only file and {}', () => {
    const defaults = parseConfig('', 'warden.yaml');
    assert.deepEqual(defaults, {
      server: { bodyLimit: 1024 * 1024 },
      database: {},
      tokens: { accessTokenTtlSec: 900, clockSkewSec: 5, dpopMaxAgeSec: 60, clientAssertionMaxAgeSec: 300 },
      tasks: { defaultLifetimeSec: 3600 },
      oidc: { issuers: [] },
      tools: [],
      policy: { dir: 'policies', watch: true },
      approvals: { waitSec: 30, expirySec: 3600, webhooks: [] },
      limits: { task: { calls: 10_000, bytesOut: 64 * 1024 * 1024, bytesIn: 1024 * 1024 * 1024 }, agent: { ratePerSec: 50, burst: 100 } },
      scanning: { results: 'redact', arguments: 'block', disabled: [], extraPatterns: [] },
      upstreams: { mcp: [], http: [] },
      secrets: { masterKeyFile: 'keys/master.key' },
      flow: { onViolation: 'approve', internalDomains: [], maxValuesPerTask: 20_000 },
      audit: { durability: 'process', checkpointEverySec: 60, capture: { tools: [], maxBytes: 4096 }, export: [] },
      sandbox: { bwrap: 'bwrap', runAs: { uid: 65534, gid: 65534 }, limitsWith: 'auto', proxyPort: 3128 },
    });
    assert.deepEqual(parseConfig('# nothing set\n', 'warden.yaml'), defaults);
    assert.deepEqual(parseConfig('{}', 'warden.yaml'), defaults);
  });

  it('fills defaults beside the values that are set', () => {
    const config = parseConfig('server:\n  port: 8080\ntokens:\n  dpopMaxAgeSec: 30\n', 'warden.yaml');
    assert.equal(config.server.port, 8080);
    assert.equal(config.server.bodyLimit, 1024 * 1024);
    assert.equal(config.tokens.dpopMaxAgeSec, 30);
    assert.equal(config.tokens.accessTokenTtlSec, 900);
  });

  it('rejects an unknown top-level key', () => {
    const problems = problemsOf('sever:\n  port: 8080\n');
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^\(root\): .*"sever"/);
  });

  it('rejects an unknown nested key, naming its dotted path', () => {
    const problems = problemsOf('tokens:\n  dpopMaxAge: 30\n');
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^tokens: .*"dpopMaxAge"/);
  });

  it('rejects an unknown key inside a list item, naming its index in the path', () => {
    const problems = problemsOf('oidc:\n  issuers:\n    - issuer: https://id.example\n      audience: warden\n      jwks_uri: https://id.example/jwks\n');
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^oidc\.issuers\.0: .*"jwks_uri"/);
  });

  it('reports every problem, each with its path', () => {
    const problems = problemsOf('server:\n  port: "8080"\ntokens:\n  dpopMaxAgeSec: 1\n');
    assert.equal(problems.length, 2);
    assert.ok(problems.some((p) => p.startsWith('server.port: ')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('tokens.dpopMaxAgeSec: ')), problems.join('\n'));
  });

  it('rejects a document that is not a mapping', () => {
    assert.match(problemsOf('just a string\n')[0] ?? '', /^\(root\): /);
    assert.match(problemsOf('- a\n- b\n')[0] ?? '', /^\(root\): /);
  });

  it('rejects invalid YAML with its line number', () => {
    assert.deepEqual(problemsOf('server:\n  port: 7070\n  host: a: b\n'), ['not valid YAML (line 3)']);
    assert.deepEqual(problemsOf('server:\n  port: 7070\n\ttokens: {}\n'), ['not valid YAML (line 3)']);
  });

  it('rejects a key given twice instead of keeping one of them', () => {
    assert.deepEqual(problemsOf('tokens:\n  accessTokenTtlSec: 900\n  accessTokenTtlSec: 3600\n'), ['not valid YAML (line 3)']);
  });

  it('does not echo the file contents in its problems', () => {
    const secret = 'postgres://warden:s3cret-pw@db.internal/warden';
    for (const text of [`database:\n  url: ["${secret}"]\n`, `database:\n  url: "${secret}\n  other: [\n`, `database:\n  uri: "${secret}"\n`]) {
      const problems = problemsOf(text);
      assert.ok(problems.length > 0);
      assert.ok(!problems.join('\n').includes('s3cret'), problems.join('\n'));
    }
  });
});

describe('DEMO_CONFIG', () => {
  it('is a valid config', () => {
    assert.doesNotThrow(() => parseConfig(DEMO_CONFIG, 'demo-config.ts'));
  });

  it('sets every setting to its default, as its header says', () => {
    assert.deepEqual(parseConfig(DEMO_CONFIG, 'demo-config.ts'), parseConfig('', 'warden.yaml'));
  });
});
