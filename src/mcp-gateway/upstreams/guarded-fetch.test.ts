import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardedFetch } from './guarded-fetch.js';

describe('guardedFetch', () => {
  const body = (...chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
        c.close();
      },
    });
  const fake = (...chunks: string[]) => async () => new Response(body(...chunks), { status: 200, headers: { 'content-type': 'text/plain' } });

  it('cuts a POST body over the limit and says so', async () => {
    let oversize = 0;
    const f = guardedFetch({ limitBytes: 8, onOversize: () => oversize++, onBroken: () => {} }, fake('12345', '6789'));
    const res = await f('http://x/', { method: 'POST' });
    await assert.rejects(res.text(), /over the limit/);
    assert.equal(oversize, 1);
  });

  it('bounds GET bodies per line only', async () => {
    let oversize = 0;
    const guard = { limitBytes: 8, onOversize: () => oversize++, onBroken: () => {} };
    assert.equal(await (await guardedFetch(guard, fake('1234\n5678\n', '1234567\n'))('http://x/')).text(), '1234\n5678\n1234567\n');
    await assert.rejects((await guardedFetch(guard, fake('1234\n5678', '90123'))('http://x/')).text(), /over the limit/);
    assert.equal(oversize, 1);
  });

  it('reports a POST body that breaks mid-stream', async () => {
    let broken = 0;
    const failing = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(c) {
            c.error(new Error('socket hang up'));
          },
        }),
      );
    const res = await guardedFetch({ limitBytes: 8, onOversize: () => {}, onBroken: () => broken++ }, failing)('http://x/', { method: 'POST' });
    await assert.rejects(res.text());
    assert.equal(broken, 1);
  });
});
