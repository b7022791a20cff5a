import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DnsCache } from './dns-cache.js';
import type { ResolvedAddress, Resolver } from './safe-lookup.js';

/** A resolver that answers from `answers` in turn and counts its lookups; `gate` holds them. */
function counting(answers: (readonly string[] | Error)[]) {
  let calls = 0;
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  const resolver: Resolver = async () => {
    const answer = answers[Math.min(calls++, answers.length - 1)]!;
    if (gate) await gate;
    if (answer instanceof Error) throw answer;
    return answer.map((address): ResolvedAddress => ({ address, family: 4 }));
  };
  return {
    resolver,
    get calls() {
      return calls;
    },
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release() {
      release?.();
      gate = undefined;
    },
  };
}

describe('DnsCache', () => {
  it("answers from the cache within the upstream's time, then asks again", async () => {
    let now = 0;
    const cache = new DnsCache(() => now);
    const dns = counting([['203.0.113.1'], ['203.0.113.2']]);
    const r = cache.resolver(dns.resolver, 5_000);
    assert.deepEqual(await r('api.test'), [{ address: '203.0.113.1', family: 4 }]);
    now = 4_999;
    assert.deepEqual(await r('api.test'), [{ address: '203.0.113.1', family: 4 }]);
    assert.equal(dns.calls, 1);
    now = 5_000;
    assert.deepEqual(await r('api.test'), [{ address: '203.0.113.2', family: 4 }]);
    assert.equal(dns.calls, 2);
    // Another name is its own entry.
    await r('other.test');
    assert.equal(dns.calls, 3);
  });

  it('asks every time with a time of 0', async () => {
    const dns = counting([['203.0.113.1']]);
    const r = new DnsCache(() => 0).resolver(dns.resolver, 0);
    await r('api.test');
    await r('api.test');
    assert.equal(dns.calls, 2);
  });

  it('shares a lookup under way between concurrent calls', async () => {
    const dns = counting([['203.0.113.1']]);
    const r = new DnsCache(() => 0).resolver(dns.resolver, 1_000);
    dns.hold();
    const both = Promise.all([r('api.test'), r('api.test')]);
    dns.release();
    const [a, b] = await both;
    assert.equal(dns.calls, 1);
    assert.deepEqual(a, b);
  });

  it('keeps neither failures nor empty answers', async () => {
    const dns = counting([new Error('ENOTFOUND'), [], ['203.0.113.1']]);
    const r = new DnsCache(() => 0).resolver(dns.resolver, 60_000);
    await assert.rejects(r('api.test'), /ENOTFOUND/);
    assert.deepEqual(await r('api.test'), []);
    assert.deepEqual(await r('api.test'), [{ address: '203.0.113.1', family: 4 }]);
    assert.equal(dns.calls, 3);
  });

  it('hands out answers nobody can change, and keeps at most its bound of names', async () => {
    const dns = counting([['203.0.113.1']]);
    const r = new DnsCache(() => 0, 2).resolver(dns.resolver, 60_000);
    const first = await r('a.test');
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first[0]));
    await r('b.test');
    await r('c.test');
    assert.equal(dns.calls, 3);
    await r('a.test');
    assert.equal(dns.calls, 4, 'the oldest name was let go');
    await r('c.test');
    assert.equal(dns.calls, 4);
  });
});
