import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { everythingServer, fixture, resolveTestSecret, stdioUpstream } from '../../../test/support/mcp-upstreams.js';
import { isAlive } from './child-reaper.js';
import { UpstreamManager } from './upstream-manager.js';
import { rejectsWith } from '../../../test/support/rejects-with.js';
import { testSandboxes } from '../../../test/support/sandbox.js';

const opts = { resolveSecret: resolveTestSecret, killGraceMs: 1_000, sandbox: testSandboxes() };
const managers: UpstreamManager[] = [];
function manage(...args: ConstructorParameters<typeof UpstreamManager>): UpstreamManager {
  const manager = new UpstreamManager(...args);
  managers.push(manager);
  return manager;
}
after(() => Promise.all(managers.map((m) => m.close())));

describe('UpstreamManager', () => {
  it('starts nothing until an upstream is used', () => {
    const manager = manage([stdioUpstream('everything', everythingServer(), { args: ['stdio'] }), stdioUpstream('hang', fixture('hang.mjs'))], opts);
    assert.deepEqual(manager.names(), ['everything', 'hang']);
    assert.deepEqual(
      manager.statuses().map((s) => s.state),
      ['idle', 'idle'],
    );
  });

  it('lists every upstream in parallel; a failing one does not fail the others', async () => {
    const broken = { ...stdioUpstream('broken', 'x'), command: '/nonexistent/warden-test-command' };
    const manager = manage([stdioUpstream('everything', everythingServer(), { args: ['stdio'] }), broken, stdioUpstream('hang', fixture('hang.mjs'))], opts);
    const listings = await manager.listAll();
    assert.deepEqual(
      listings.map((l) => [l.upstream, l.kind]),
      [
        ['everything', 'listed'],
        ['broken', 'failed'],
        ['hang', 'listed'],
      ],
    );
    const [everything, failed, hang] = listings;
    assert.ok(everything?.kind === 'listed' && everything.tools.some((t) => t.name === 'echo'));
    assert.deepEqual(failed, { kind: 'failed', upstream: 'broken', code: 'UPSTREAM_UNAVAILABLE' });
    assert.ok(hang?.kind === 'listed' && hang.tools.map((t) => t.name).sort().join() === 'echo,hang');
  });

  it('fails UPSTREAM_UNKNOWN for a name it does not hold', async () => {
    const manager = manage([], opts);
    await rejectsWith(Promise.resolve().then(() => manager.get('nope')), 'UPSTREAM_UNKNOWN');
  });

  it('refuses two upstreams of the same name', () => {
    assert.throws(() => new UpstreamManager([stdioUpstream('same', 'a'), stdioUpstream('same', 'b')], opts), TypeError);
  });

  it('tells which upstream changed its tools', async () => {
    const manager = manage([stdioUpstream('changing', fixture('changing-tools.mjs'))], opts);
    const changed = new Promise<string>((resolve) => manager.onToolsChanged(resolve));
    await manager.get('changing').callTool('add_tool', { name: 'new_one' });
    assert.equal(await changed, 'changing');
  });

  it('leaves no child alive after close', async () => {
    const manager = manage([stdioUpstream('a', fixture('hang.mjs')), stdioUpstream('b', fixture('crash.mjs'))], opts);
    await manager.listAll();
    const pids = manager.statuses().map((s) => s.pid);
    assert.ok(pids.every((pid) => typeof pid === 'number' && isAlive(pid)));
    await manager.close();
    await manager.close();
    assert.deepEqual(
      pids.map((pid) => isAlive(pid!)),
      [false, false],
    );
    assert.deepEqual(
      manager.statuses().map((s) => s.state),
      ['closed', 'closed'],
    );
  });
});
