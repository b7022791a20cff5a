import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../config/load.js';
import { SandboxHostConfigSchema, UpstreamSandboxSchema } from './sandbox-config.js';

const ok = (v: unknown) => UpstreamSandboxSchema.safeParse(v).success;

describe('UpstreamSandboxSchema', () => {
  it('sandboxes with the defaults when absent, and only false turns it off', () => {
    assert.deepEqual(UpstreamSandboxSchema.parse(undefined), { limits: { memoryMb: 512, pids: 256, cpus: 1 }, egress: [], mounts: [] });
    assert.equal(UpstreamSandboxSchema.parse(false), false);
    for (const off of [true, 'false', 0, null, 'none']) assert.equal(ok(off), false, String(off));
  });

  it('rejects limits out of range and unknown keys', () => {
    for (const limits of [{ memoryMb: 1 }, { pids: 0 }, { cpus: 0 }, { wallTimeSec: 0 }, { memory: 100 }]) assert.equal(ok({ limits }), false, JSON.stringify(limits));
    assert.equal(ok({ network: true }), false);
  });

  it('takes mounts only as absolute normal paths, never over Warden\'s places in the sandbox', () => {
    assert.equal(ok({ mounts: [{ path: '/srv/data' }] }), true);
    for (const m of [{ path: 'relative' }, { path: '/srv/../etc' }, { path: '/srv/' }, { path: '/' }, { path: '/srv', at: '/proc/x' }, { path: '/srv', at: '/scratch' }, { path: '/srv', at: '/run/warden' }, { path: '/srv', at: '/tmp' }, { path: '/a\nb' }]) {
      assert.equal(ok({ mounts: [m] }), false, JSON.stringify(m));
    }
    assert.equal(ok({ mounts: [{ path: '/a' }, { path: '/b', at: '/a' }] }), false, 'two mounts at one place');
  });
});

describe('sandbox in warden.yaml', () => {
  it('refuses an egress name that is no HTTP upstream', () => {
    assert.throws(
      () => parseConfig('upstreams:\n  mcp:\n    - { name: files, transport: stdio, command: x, sandbox: { egress: [github] } }\n', 'warden.yaml'),
      (err: Error & { problems?: string[] }) => (err.problems ?? []).some((p) => p.startsWith('upstreams.mcp.0.sandbox.egress.0: ')),
    );
    const c = parseConfig('upstreams:\n  http: [{ name: github, baseUrl: "https://api.github.com" }]\n  mcp:\n    - { name: files, transport: stdio, command: x, sandbox: { egress: [github] } }\n', 'warden.yaml');
    assert.deepEqual(c.upstreams.mcp[0]!.transport === 'stdio' && c.upstreams.mcp[0]!.sandbox !== false && c.upstreams.mcp[0]!.sandbox.egress, ['github']);
  });

  it('keeps exec sandboxed: a built-in upstream has no sandbox: false', () => {
    assert.throws(() => parseConfig('upstreams:\n  mcp:\n    - { name: shell, transport: builtin, server: exec, sandbox: false }\n', 'warden.yaml'));
    const c = parseConfig('upstreams:\n  mcp:\n    - { name: shell, transport: builtin, server: exec }\n', 'warden.yaml');
    assert.equal(c.upstreams.mcp[0]!.defaults.risk, 'high');
  });

  it('never runs sandboxes as root', () => {
    assert.equal(SandboxHostConfigSchema.safeParse({ runAs: { uid: 0, gid: 0 } }).success, false);
    assert.equal(SandboxHostConfigSchema.safeParse({ limitsWith: 'none' }).success, false);
  });
});
