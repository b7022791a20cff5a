import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InFlightCalls } from '../../src/sandbox/in-flight-calls.js';
import { SandboxEgress } from '../../src/sandbox/sandbox-egress.js';
import { SandboxHost } from '../../src/sandbox/sandbox-host.js';
import { UpstreamSandboxes } from '../../src/sandbox/upstream-sandboxes.js';
import type { SandboxHostConfig } from '../../src/sandbox/sandbox-config.js';

/**
 * Sandboxing for connections built outside a Warden (unit tests): real bubblewrap, scratch
 * directories in a fresh temporary directory (removed when the process exits), and an egress
 * proxy that knows no HTTP upstream (every request from inside is refused).
 */
export function testSandboxes(config?: SandboxHostConfig): UpstreamSandboxes {
  const stateDir = mkdtempSync(join(tmpdir(), 'warden-sandboxes-'));
  // Scratch directories die with the test process.
  process.once('exit', () => rmSync(stateDir, { recursive: true, force: true }));
  const calls = new InFlightCalls();
  const host = new SandboxHost({ stateDir, egress: new SandboxEgress({ upstreams: [], calls }), ...(config ? { config } : {}) });
  return new UpstreamSandboxes(host, { stateDir, calls });
}
