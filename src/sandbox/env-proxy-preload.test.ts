import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PRELOAD = new URL('./env-proxy-preload.js', import.meta.url).href;

/** A server that answers every request with what it was asked for, as it was asked. */
async function recorder(name: string): Promise<{ server: Server; url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.end(`${name} ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Node's own fetch in a child process with the preload, as in a sandbox. */
async function fetchInChild(target: string, env: Record<string, string>): Promise<string> {
  const script = `fetch(${JSON.stringify(target)}).then((r) => r.text()).then((t) => process.stdout.write(t))`;
  const { stdout } = await run(process.execPath, ['--import', PRELOAD, '-e', script], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 });
  return stdout;
}

describe('the fetch preload of sandboxed Node processes', () => {
  let proxy: Awaited<ReturnType<typeof recorder>>;
  let local: Awaited<ReturnType<typeof recorder>>;
  before(async () => {
    proxy = await recorder('proxy');
    local = await recorder('local');
  });
  after(() => {
    proxy.server.close();
    local.server.close();
  });

  it('sends an http:// request to HTTP_PROXY in absolute form, not through a CONNECT tunnel', async () => {
    const out = await fetchInChild('http://api.example.test/v1/items?q=1', { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1,localhost' });
    assert.equal(out, 'proxy http://api.example.test/v1/items?q=1');
    assert.deepEqual(proxy.seen, ['http://api.example.test/v1/items?q=1']);
  });

  it('sends the hosts NO_PROXY names straight', async () => {
    const out = await fetchInChild(`${local.url}/here`, { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1,::1' });
    assert.equal(out, 'local /here');
    assert.equal(proxy.seen.length, 1, 'the proxy saw nothing more');
  });

  it('changes nothing without HTTP_PROXY', async () => {
    assert.equal(await fetchInChild(`${local.url}/plain`, {}), 'local /plain');
  });
});
