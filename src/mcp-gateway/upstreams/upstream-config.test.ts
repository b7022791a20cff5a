import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { toolMetadata } from './tool-metadata.js';
import { McpUpstreamSchema, McpUpstreamsSchema } from './upstream-config.js';

const stdio = { transport: 'stdio', name: 'files', command: 'mcp-server-files' } as const;
const http = { transport: 'http', name: 'remote', url: 'https://mcp.example.com/mcp' } as const;
const fails = (value: unknown): boolean => !McpUpstreamSchema.safeParse(value).success;

describe('McpUpstreamSchema', () => {
  it('fills the defaults of a stdio upstream', () => {
    assert.deepEqual(McpUpstreamSchema.parse(stdio), {
      ...stdio,
      args: [],
      env: {},
      inheritEnv: ['PATH'],
      startTimeoutMs: 15_000,
      callTimeoutMs: 60_000,
      maxResultBytes: 4 * 1024 * 1024,
      defaults: { risk: 'medium', tags: [], labels: { source: 'trusted', data: 'internal', sink: 'none' } },
      tools: {},
      sandbox: { limits: { memoryMb: 512, pids: 256, cpus: 1 }, egress: [], mounts: [] },
    });
  });

  it('accepts literal and secret values for env and headers', () => {
    const s = McpUpstreamSchema.parse({ ...stdio, env: { MODE: 'ro', TOKEN: { secret: 'files/token' } } });
    assert.deepEqual(s.transport === 'stdio' && s.env, { MODE: 'ro', TOKEN: { secret: 'files/token' } });
    const h = McpUpstreamSchema.parse({ ...http, headers: { Authorization: { secret: 'remote', format: 'Bearer {value}' }, 'X-Team': 'a' } });
    assert.equal(h.transport === 'http' && h.headers['X-Team'], 'a');
  });

  it('rejects unknown keys, at the top and in nested objects', () => {
    assert.ok(fails({ ...stdio, comand: 'typo' }));
    assert.ok(fails({ ...stdio, env: { X: { secret: 's', value: 'v' } } }));
    assert.ok(fails({ ...stdio, tools: { t: { risky: 'high' } } }));
    assert.ok(fails({ ...http, env: {} }));
  });

  it('rejects names that cannot prefix a tool name', () => {
    for (const name of ['', 'Files', '-x', 'a.b', 'x'.repeat(64), 'a b']) assert.ok(fails({ ...stdio, name }), name);
    assert.ok(!fails({ ...stdio, name: 'x'.repeat(63) }));
  });

  it("never lets Warden's own variables through, declared or inherited", () => {
    assert.ok(fails({ ...stdio, inheritEnv: ['PATH', 'WARDEN_MASTER_KEY'] }));
    assert.ok(fails({ ...stdio, env: { WARDEN_MASTER_KEY: 'x' } }));
    assert.ok(fails({ ...stdio, env: { warden_db: 'x' } }));
  });

  it('rejects env and header values that would break injection', () => {
    assert.ok(fails({ ...stdio, env: { X: 'a\0b' } }));
    assert.ok(fails({ ...stdio, env: { 'BAD-NAME': 'x' } }));
    assert.ok(fails({ ...http, headers: { 'X-A': 'a\r\nInjected: yes' } }));
    assert.ok(fails({ ...http, headers: { 'Bad Header': 'x' } }));
    assert.ok(fails({ ...http, headers: { A: { secret: 's', format: 'Bearer' } } }));
    assert.ok(fails({ ...http, headers: { A: { secret: 's', format: '{value}{value}' } } }));
  });

  it('rejects headers the MCP transport owns', () => {
    for (const name of ['Host', 'Content-Length', 'Mcp-Session-Id', 'mcp-protocol-version', 'Accept']) {
      assert.ok(fails({ ...http, headers: { [name]: 'x' } }), name);
    }
  });

  it('accepts only http(s) URLs without credentials', () => {
    assert.ok(!fails({ ...http, url: 'http://127.0.0.1:8080/mcp' }));
    assert.ok(fails({ ...http, url: 'file:///etc/passwd' }));
    assert.ok(fails({ ...http, url: 'https://user:pass@mcp.example.com/mcp' }));
    assert.ok(fails({ ...http, url: 'not a url' }));
  });

  it('bounds the time and size limits', () => {
    assert.ok(fails({ ...stdio, callTimeoutMs: 0 }));
    assert.ok(fails({ ...stdio, maxResultBytes: 10 }));
    assert.ok(fails({ ...stdio, startTimeoutMs: 1.5 }));
  });
});

describe('McpUpstreamsSchema', () => {
  it('rejects two upstreams of the same name', () => {
    const result = McpUpstreamsSchema.safeParse([stdio, { ...http, name: 'files' }]);
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues[0]?.path, [1, 'name']);
  });
});

describe('toolMetadata', () => {
  const upstream = McpUpstreamSchema.parse({
    ...stdio,
    defaults: { risk: 'low', tags: ['files'], labels: { data: 'confidential' } },
    tools: {
      write_file: { risk: 'high', tags: ['destructive'], labels: { sink: 'external' } },
      debug: { hidden: true },
    },
  });

  it("applies the upstream's defaults to tools without overrides", () => {
    assert.deepEqual(toolMetadata(upstream, 'read_file'), {
      risk: 'low',
      tags: ['files'],
      labels: { source: 'trusted', data: 'confidential', sink: 'none' },
      hidden: false,
    });
  });

  it('overrides per tool, merging labels field by field', () => {
    assert.deepEqual(toolMetadata(upstream, 'write_file'), {
      risk: 'high',
      tags: ['destructive'],
      labels: { source: 'trusted', data: 'confidential', sink: 'external' },
      hidden: false,
    });
    assert.equal(toolMetadata(upstream, 'debug').hidden, true);
  });

  it('does not mistake Object.prototype members for overrides', () => {
    assert.equal(toolMetadata(upstream, 'constructor').risk, 'low');
    assert.equal(toolMetadata(upstream, '__proto__').risk, 'low');
  });
});

describe('docs/mcp-upstreams.md', () => {
  it('holds only example configurations that validate', () => {
    // dist/src/mcp-gateway/upstreams/ → repository root.
    const text = readFileSync(new URL('../../../../docs/mcp-upstreams.md', import.meta.url), 'utf8');
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length > 0);
    for (const block of blocks) {
      const result = McpUpstreamsSchema.safeParse(parse(block));
      assert.ok(result.success, JSON.stringify(result.error?.issues));
    }
  });
});

describe('flow labels that cannot apply', () => {
  const issues = (value: unknown) => {
    const r = McpUpstreamsSchema.safeParse(value);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('refuses field labels of the other trust, on the labels each tool ends up with', () => {
    assert.deepEqual(issues([{ ...http, tools: { feed: { labels: { source: 'untrusted', anchorFields: ['sender'], trustedFields: ['sender'] } } } }]), []);
    assert.deepEqual(issues([{ ...http, tools: { ledger: { labels: { source: 'trusted', untrustedFields: ['subject'], untrustedProse: true } } } }]), []);
    const wrong = issues([
      {
        ...http,
        defaults: { labels: { source: 'untrusted', trustedFields: ['sender'] } },
        tools: {
          // Trusted by its override: the defaults' trustedFields cannot apply to it.
          directory: { labels: { source: 'trusted' } },
          page: { labels: { untrustedFields: ['title'] } },
          list: { labels: { source: 'trusted', anchorFields: ['owner'] } },
        },
      },
    ]);
    assert.equal(wrong.length, 4, wrong.join('\n'));
    assert.ok(wrong.some((w) => w.startsWith('0.tools.directory.labels.trustedFields: applies to an untrusted source only')));
    assert.ok(wrong.some((w) => w.startsWith('0.tools.page.labels.untrustedFields: applies to a trusted source only')));
    assert.ok(wrong.some((w) => w.startsWith('0.tools.list.labels.trustedFields')));
    assert.ok(wrong.some((w) => w.startsWith('0.tools.list.labels.anchorFields')));
  });
});
