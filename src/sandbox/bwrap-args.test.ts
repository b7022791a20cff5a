import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bwrapArgs, type SandboxPlan } from './bwrap-args.js';

const plan = (over: Partial<SandboxPlan> = {}): SandboxPlan => ({
  privileged: { setpriv: '/usr/bin/setpriv', uid: 65534, gid: 65534 },
  system: [{ path: '/usr' }, { path: '/bin', symlink: 'usr/bin' }, { path: '/etc' }],
  exposed: [{ path: '/srv/warden/dist' }, { path: '/srv/warden/node_modules', symlink: '/opt/nm' }, { path: '/opt/nm' }],
  mounts: [],
  hide: [],
  scratch: '/var/lib/warden/sandboxes/files/scratch',
  socket: '/tmp/warden-sb-x/egress.sock',
  cwd: '/scratch',
  tmpBytes: 1024,
  command: ['/usr/bin/node', 'relay.js', '3128', '/run/warden/egress.sock', '--', 'server', '--flag'],
  ...over,
});

/** The option pairs/triples of an argv, as strings, for order checks. */
const indexOf = (args: string[], ...seq: string[]): number => args.findIndex((_, i) => seq.every((s, j) => args[i + j] === s));

describe('bwrapArgs', () => {
  it('unshares every namespace but the user one when privileged, and drops to the sandbox user with no capabilities', () => {
    const a = bwrapArgs(plan());
    for (const flag of ['--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--die-with-parent', '--new-session']) assert.ok(a.includes(flag), flag);
    assert.ok(!a.includes('--unshare-user'));
    const cmd = a.indexOf('--', a.indexOf('--chdir'));
    assert.deepEqual(a.slice(cmd + 1, cmd + 9), ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--']);
    assert.deepEqual(a.slice(-7), plan().command);
  });

  it('uses a user namespace and forbids nested ones when not privileged', () => {
    const a = bwrapArgs(plan({ privileged: null }));
    assert.ok(a.includes('--unshare-user'));
    assert.ok(a.includes('--disable-userns'));
    assert.ok(!a.some((x) => x.includes('setpriv')));
  });

  it('shows the system read-only, merged-/usr links as links, and a fresh /proc, /dev and bounded /tmp', () => {
    const a = bwrapArgs(plan());
    assert.ok(indexOf(a, '--ro-bind', '/usr', '/usr') >= 0);
    assert.ok(indexOf(a, '--symlink', 'usr/bin', '/bin') >= 0);
    assert.ok(indexOf(a, '--proc', '/proc') >= 0);
    assert.ok(indexOf(a, '--dev', '/dev') >= 0);
    assert.ok(indexOf(a, '--perms', '1777', '--size', '1024', '--tmpfs', '/tmp') >= 0);
    assert.ok(indexOf(a, '--remount-ro', '/') >= 0);
    assert.ok(!a.includes('--share-net'));
  });

  it('creates the parents of exposed paths 0755, before binding them', () => {
    const a = bwrapArgs(plan());
    const dir = indexOf(a, '--perms', '0755', '--dir', '/srv/warden');
    const bind = indexOf(a, '--ro-bind', '/srv/warden/dist', '/srv/warden/dist');
    assert.ok(dir >= 0 && dir < bind);
    assert.equal(a.filter((x) => x === '/srv/warden').length, 1, 'each parent once');
    assert.ok(indexOf(a, '--symlink', '/opt/nm', '/srv/warden/node_modules') >= 0);
  });

  it('binds the scratch directory writable and the egress socket, and mounts as declared', () => {
    const a = bwrapArgs(plan({ mounts: [{ source: '/data/in', target: '/data/in', writable: false }, { source: '/data/out', target: '/out', writable: true }] }));
    assert.ok(indexOf(a, '--bind', '/var/lib/warden/sandboxes/files/scratch', '/scratch') >= 0);
    assert.ok(indexOf(a, '--bind', '/tmp/warden-sb-x/egress.sock', '/run/warden/egress.sock') >= 0);
    assert.ok(indexOf(a, '--ro-bind', '/data/in', '/data/in') >= 0);
    assert.ok(indexOf(a, '--bind', '/data/out', '/out') >= 0);
  });

  it("hides Warden's data wherever a bind would show it, under the name it has inside", () => {
    const a = bwrapArgs(
      plan({
        mounts: [{ source: '/var/lib', target: '/host-lib', writable: false }],
        hide: [{ path: '/var/lib/warden', dir: true }, { path: '/srv/warden/dist/master.key', dir: false }, { path: '/elsewhere/data', dir: true }],
      }),
    );
    const tmpfs = indexOf(a, '--perms', '0000', '--size', '4096', '--tmpfs', '/host-lib/warden');
    assert.ok(tmpfs > indexOf(a, '--ro-bind', '/var/lib', '/host-lib'), 'after the bind it covers');
    assert.ok(indexOf(a, '--ro-bind', '/dev/null', '/srv/warden/dist/master.key') >= 0);
    assert.ok(!a.includes('/elsewhere/data'), 'nothing shows it, nothing to hide');
  });
});
