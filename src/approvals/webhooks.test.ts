import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConfigError } from '../config/load.js';
import type { Approval, EventRecord } from '../domain/index.js';
import type { EventDraft, EventLog } from '../events/event-log.js';
import { ManualClock } from '../util/clock.js';
import { signWebhook, verifyWebhookSignature } from './webhook-signature.js';
import { WebhookNotifier, type Webhook } from './webhooks.js';
import { toRecord } from '../audit/entry.js';

const T0 = Date.UTC(2026, 0, 1);
const NOW_SEC = T0 / 1000;
const SECRET = 'whsec-for-tests-0123456789';

const approval: Approval = {
  id: 'apr_0123456789abcdefghijklmn' as Approval['id'],
  agentId: 'agt_0123456789abcdefghijklmn' as Approval['agentId'],
  taskId: 'tsk_0123456789abcdefghijklmn' as Approval['taskId'],
  action: 'bank.transfer',
  argsDigest: 'a'.repeat(43),
  args: { to: 'DE89', amount: 5 },
  required: 2,
  requester: null,
  selfApproval: false,
  policies: ['payments'],
  status: 'pending',
  createdAt: T0,
  expiresAt: T0 + 3_600_000,
  resolvedAt: null,
  decisions: [],
};

class MemoryEventLog implements EventLog {
  readonly recorded: EventDraft[] = [];
  record(event: EventDraft): Promise<EventRecord> {
    this.recorded.push(event);
    return Promise.resolve(toRecord({ ...event, seq: this.recorded.length - 1, time: T0 }));
  }
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1 that answers each request with the next status in `plan`. */
async function receiver(plan: (number | 'hang')[]): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      const next = plan.length > 1 ? plan.shift()! : plan[0]!;
      if (next === 'hang') return;
      res.writeHead(next).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/warden?token=not-for-logs`, received, server };
}

describe('webhook signatures', () => {
  const body = '{"type":"approval.requested"}';

  it('verifies a signature made with the same secret over the same body and time', () => {
    const header = signWebhook(SECRET, body, NOW_SEC);
    assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(SECRET, header, body, { nowSec: NOW_SEC }), true);
    assert.equal(verifyWebhookSignature(SECRET, header, Buffer.from(body), { nowSec: NOW_SEC + 299 }), true);
  });

  it('rejects another secret, a changed body, a changed time, and a stale delivery', () => {
    const header = signWebhook(SECRET, body, NOW_SEC);
    assert.equal(verifyWebhookSignature('other-secret', header, body, { nowSec: NOW_SEC }), false);
    assert.equal(verifyWebhookSignature(SECRET, header, `${body} `, { nowSec: NOW_SEC }), false);
    assert.equal(verifyWebhookSignature(SECRET, header.replace(`t=${NOW_SEC}`, `t=${NOW_SEC + 1}`), body, { nowSec: NOW_SEC }), false);
    assert.equal(verifyWebhookSignature(SECRET, header, body, { nowSec: NOW_SEC + 301 }), false);
    assert.equal(verifyWebhookSignature(SECRET, header, body, { nowSec: NOW_SEC + 3600, toleranceSec: 7200 }), true);
  });

  it('rejects malformed headers without throwing', () => {
    const mac = signWebhook(SECRET, body, NOW_SEC).split('v1=')[1]!;
    for (const header of [undefined, null, '', 'garbage', `v1=${mac}`, `t=${NOW_SEC}`, `t=${NOW_SEC},v1=${mac.slice(2)}`, `t=x,v1=${mac}`, `t=${NOW_SEC},v1=${mac.toUpperCase()}`]) {
      assert.equal(verifyWebhookSignature(SECRET, header, body, { nowSec: NOW_SEC }), false, String(header));
    }
  });

  it('accepts a header carrying several v1 signatures when one matches (secret rotation)', () => {
    const good = signWebhook(SECRET, body, NOW_SEC);
    const old = signWebhook('old-secret', body, NOW_SEC).split(',')[1]!;
    assert.equal(verifyWebhookSignature(SECRET, `${good},${old}`, body, { nowSec: NOW_SEC }), true);
    assert.equal(verifyWebhookSignature(SECRET, `t=${NOW_SEC},${old}`, body, { nowSec: NOW_SEC }), false);
  });
});

describe('WebhookNotifier', () => {
  let events: MemoryEventLog;
  let servers: Server[] = [];
  let notifiers: WebhookNotifier[] = [];
  const clock = new ManualClock(T0);
  const env = { WEBHOOK_SECRET: SECRET };

  const notifier = (webhooks: Webhook[], over: { retryDelaysMs?: number[]; timeoutMs?: number; baseUrl?: string } = {}): WebhookNotifier => {
    const n = new WebhookNotifier(webhooks, { events, clock, env, retryDelaysMs: [10, 20, 40], timeoutMs: 2000, ...over });
    notifiers.push(n);
    return n;
  };
  const hook = (url: string, subscribed: Webhook['events'] = ['approval.requested', 'approval.decided']): Webhook => ({ url, secretEnv: 'WEBHOOK_SECRET', events: subscribed });
  const track = async (plan: (number | 'hang')[]) => {
    const r = await receiver(plan);
    servers.push(r.server);
    return r;
  };

  beforeEach(() => {
    events = new MemoryEventLog();
  });
  afterEach(async () => {
    for (const n of notifiers) await n.close();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    servers = [];
    notifiers = [];
  });

  it('posts the signed approval as JSON with its event and a delivery id', async () => {
    const r = await track([204]);
    const n = notifier([hook(r.url)], { baseUrl: 'https://warden.example.com' });
    n.notify('approval.requested', approval);
    await n.idle();
    assert.equal(r.received.length, 1);
    const { headers, body } = r.received[0]!;
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['x-warden-event'], 'approval.requested');
    assert.match(String(headers['x-warden-delivery']), /^[0-9a-f-]{36}$/);
    assert.equal(verifyWebhookSignature(SECRET, headers['x-warden-signature'] as string, body, { nowSec: NOW_SEC }), true);
    assert.deepEqual(JSON.parse(body), { type: 'approval.requested', approval, url: `https://warden.example.com/v1/approvals/${approval.id}` });
    assert.deepEqual(events.recorded, []);
  });

  it('returns at once: delivery happens in the background', async () => {
    const r = await track(['hang']);
    const n = notifier([hook(r.url)], { timeoutMs: 200, retryDelaysMs: [] });
    const start = performance.now();
    n.notify('approval.requested', approval);
    assert.ok(performance.now() - start < 50);
    await n.idle();
  });

  it('sends each URL only the events it subscribed to', async () => {
    const requested = await track([200]);
    const decided = await track([200]);
    const n = notifier([hook(requested.url, ['approval.requested']), hook(decided.url, ['approval.decided'])]);
    n.notify('approval.decided', { ...approval, status: 'approved' });
    await n.idle();
    assert.equal(requested.received.length, 0);
    assert.deepEqual(decided.received.map((x) => x.headers['x-warden-event']), ['approval.decided']);
  });

  it('retries after a 500 under the same delivery id, freshly signed, and records no failure', async () => {
    const r = await track([500, 503, 200]);
    const n = notifier([hook(r.url)]);
    n.notify('approval.requested', approval);
    await n.idle();
    assert.equal(r.received.length, 3);
    assert.equal(new Set(r.received.map((x) => x.headers['x-warden-delivery'])).size, 1);
    for (const x of r.received) assert.equal(verifyWebhookSignature(SECRET, x.headers['x-warden-signature'] as string, x.body, { nowSec: NOW_SEC }), true);
    assert.deepEqual(events.recorded, []);
  });

  it('records webhook.fail after the last attempt, without the secret or the query string', async () => {
    const r = await track([500]);
    const n = notifier([hook(r.url)]);
    n.notify('approval.decided', approval);
    await n.idle();
    assert.equal(r.received.length, 4);
    assert.equal(events.recorded.length, 1);
    const [fail] = events.recorded;
    assert.equal(fail?.type, 'webhook.fail');
    assert.equal(fail?.subject, approval.id);
    assert.equal(fail?.data.attempts, 4);
    assert.equal(fail?.data.reason, 'HTTP 500');
    assert.equal(fail?.data.event, 'approval.decided');
    assert.equal(fail?.data.url, r.url.split('?')[0]);
    const text = JSON.stringify(events.recorded);
    assert.ok(!text.includes(SECRET) && !text.includes('not-for-logs'));
  });

  it('gives up at once on a 4xx answer that a retry cannot fix', async () => {
    const r = await track([400]);
    const n = notifier([hook(r.url)]);
    n.notify('approval.requested', approval);
    await n.idle();
    assert.equal(r.received.length, 1);
    assert.equal(events.recorded[0]?.data.reason, 'HTTP 400');
    assert.equal(events.recorded[0]?.data.attempts, 1);
  });

  it('ends an attempt that gets no answer in time, and retries it', async () => {
    const r = await track(['hang', 200]);
    const n = notifier([hook(r.url)], { timeoutMs: 150 });
    n.notify('approval.requested', approval);
    await n.idle();
    assert.equal(r.received.length, 2);
    assert.deepEqual(events.recorded, []);
  });

  it('records a receiver that cannot be reached', async () => {
    const r = await track([200]);
    const url = r.url;
    r.server.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const n = notifier([hook(url)], { retryDelaysMs: [5] });
    n.notify('approval.requested', approval);
    await n.idle();
    assert.equal(events.recorded[0]?.data.reason, 'network error');
    assert.equal(events.recorded[0]?.data.attempts, 2);
  });

  it('does not follow redirects', async () => {
    const target = await track([200]);
    const server = createServer((_req, res) => res.writeHead(307, { location: target.url }).end());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const n = notifier([hook(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)]);
    n.notify('approval.requested', approval);
    await n.idle();
    assert.equal(target.received.length, 0);
    assert.equal(events.recorded[0]?.data.reason, 'HTTP 307');
  });

  it('abandons retries when closed', async () => {
    const r = await track([500]);
    const n = notifier([hook(r.url)], { retryDelaysMs: [10_000] });
    n.notify('approval.requested', approval);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const start = performance.now();
    await n.close();
    assert.ok(performance.now() - start < 1000);
    assert.equal(r.received.length, 1);
    n.notify('approval.requested', approval);
    await n.idle();
    assert.equal(r.received.length, 1);
  });

  it('refuses to start when a secret variable is unset, naming the variable and not a value', () => {
    assert.throws(
      () => new WebhookNotifier([hook('https://hooks.example.com/a', ['approval.requested']), { ...hook('https://hooks.example.com/b'), secretEnv: 'MISSING_SECRET' }], { events, clock, env }),
      (err: unknown) => err instanceof ConfigError && err.message.includes('MISSING_SECRET') && err.message.includes('approvals.webhooks.1') && !err.message.includes(SECRET),
    );
    assert.throws(() => new WebhookNotifier([hook('https://user:pw@hooks.example.com/')], { events, clock, env }), ConfigError);
  });
});
