import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { holdSseHeaders } from './hold-sse-headers.js';

/** One request to a server whose handler gets the response; resolves with the client's view. */
async function exchange(handle: (res: ServerResponse) => void): Promise<{ res: IncomingMessage; body: Promise<string> }> {
  const server = createServer((_req, res) => handle(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', agent: false }, (res) => {
      const body = new Promise<string>((done) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => {
          server.close();
          done(text);
        });
      });
      resolve({ res, body });
    });
    req.on('error', reject);
    req.end();
  });
}

// A broken hold shows as a response that never starts: fail rather than hang.
describe('holdSseHeaders', { timeout: 30_000 }, () => {
  it('sends held headers with the first event', async () => {
    const { res, body } = await exchange((r) => {
      holdSseHeaders(r, 60_000);
      r.writeHead(200, { 'content-type': 'text/event-stream' });
      r.flushHeaders();
      setImmediate(() => {
        r.write('data: {"ok":true}\n\n');
        r.end();
      });
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    assert.equal(await body, 'data: {"ok":true}\n\n');
  });

  it('flushes the headers when no event comes within the hold, so a slow call shows its stream open', async () => {
    let finish = (): void => undefined;
    const { res, body } = await exchange((r) => {
      holdSseHeaders(r, 1);
      r.writeHead(200, { 'content-type': 'text/event-stream' });
      r.flushHeaders();
      finish = () => r.end('data: late\n\n');
    });
    // The response (status and headers) arrived while the handler still holds its event.
    assert.equal(res.statusCode, 200);
    finish();
    assert.equal(await body, 'data: late\n\n');
  });
});
