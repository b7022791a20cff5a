import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { T0, drafts } from '../../../test/support/audit-samples.js';
import type { AuditExportInput } from '../../config/audit-export-config.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { ManualClock } from '../../util/clock.js';
import { sealEntry } from '../entry.js';
import { AuditShipper, type AuditShipperOptions } from './shipper.js';

interface Answer {
  readonly status: number;
  readonly body?: string;
}

interface Request {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The seqs the batch carries, in the order sent. */
  readonly seqs: number[];
  answer?: number;
}

/** The seqs of an OTLP request (`warden.seq`) or of an OCSF array (`metadata.sequence`). */
function seqsOf(body: string): number[] {
  const parsed = JSON.parse(body) as unknown;
  if (Array.isArray(parsed)) return parsed.map((e: { metadata: { sequence: number } }) => e.metadata.sequence);
  const records = (parsed as { resourceLogs: { scopeLogs: { logRecords: { attributes: { key: string; value: { intValue: string } }[] }[] }[] }[] }).resourceLogs[0]!.scopeLogs[0]!.logRecords;
  return records.map((r) => Number(r.attributes.find((a) => a.key === 'warden.seq')!.value.intValue));
}

/** A real OTLP/OCSF receiver on 127.0.0.1:0 that records what it gets and answers as told. */
class Receiver {
  readonly requests: Request[] = [];
  answer: (req: Request, n: number) => Answer | Promise<Answer> = () => ({ status: 200, body: '{}' });
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const request: Request = { url: req.url ?? '', headers: req.headers, body, seqs: seqsOf(body) };
        this.requests.push(request);
        void Promise.resolve(this.answer(request, this.requests.length)).then((a) => {
          request.answer = a.status;
          res.writeHead(a.status, { 'content-type': 'application/json' });
          res.end(a.body ?? '{}');
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Seqs of the batches answered 2xx, in the order they were accepted. */
  accepted(): number[] {
    return this.requests.filter((r) => r.answer !== undefined && r.answer < 300).flatMap((r) => r.seqs);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** Waits until `cond` holds; the deadline only keeps a broken build from hanging the run. */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`gave up waiting: ${what}`);
    await sleep(5);
  }
}

/** A promise and the function that settles it: holds a receiver's answer until the test says. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('AuditShipper', () => {
  let dir: string;
  let store: SqliteStore;
  let receiver: Receiver;
  let clock: ManualClock;
  let logs: [object, string][];
  const shippers: AuditShipper[] = [];
  const extraStores: SqliteStore[] = [];

  const append = (n: number, from = 0) => store.appendAudit(drafts(n, from), (d, seq) => sealEntry({ ...d, seq, time: T0 + seq }));
  const shipper = (config: Partial<AuditExportInput> = {}, opts: Partial<AuditShipperOptions> = {}): AuditShipper => {
    const s = new AuditShipper({
      store,
      clock,
      config: { name: 'siem', format: 'otlp', url: `${receiver.url}/v1/logs`, batchSize: 3, intervalSec: 0.1, ...config },
      logger: { warn: (obj, msg) => logs.push([obj, msg]) },
      backoff: { baseMs: 5, maxMs: 40 },
      ...opts,
    });
    shippers.push(s);
    return s;
  };
  const cursor = () => store.getAuditCursor('siem');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-shipper-'));
    store = new SqliteStore(join(dir, 'warden.db'));
    await store.migrate();
    receiver = new Receiver();
    await receiver.start();
    clock = new ManualClock(T0 + 3_600_000);
    logs = [];
  });

  afterEach(async () => {
    await Promise.all(shippers.splice(0).map((s) => s.stop()));
    await receiver.close();
    await Promise.all(extraStores.splice(0).map((s) => s.close()));
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('ships every entry in seq order, in batches, with the configured headers, and moves the cursor', async () => {
    await append(7);
    const token = randomBytes(16).toString('hex');
    const fromEnv = randomBytes(8).toString('hex');
    const s = shipper(
      { headers: { Authorization: { secret: 'siem-token', format: 'Bearer {value}' }, 'X-Scope-OrgID': 'tenant-1', 'X-Env': { env: 'SIEM_KEY' } } },
      { resolveHeader: async (name) => (name === 'siem-token' ? token : assert.fail(`asked for ${name}`)), env: { SIEM_KEY: fromEnv } },
    );
    s.start();
    await until(async () => (await cursor()) === 7, 'cursor at 7');

    assert.deepEqual(
      receiver.requests.map((r) => r.seqs),
      [
        [0, 1, 2],
        [3, 4, 5],
        [6],
      ],
    );
    for (const r of receiver.requests) {
      assert.equal(r.url, '/v1/logs');
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers.authorization, `Bearer ${token}`);
      assert.equal(r.headers['x-scope-orgid'], 'tenant-1');
      assert.equal(r.headers['x-env'], fromEnv);
    }
    const status = s.status();
    assert.equal(status.running, true);
    assert.equal(status.cursor, 7);
    assert.equal(status.lag, 0);
    assert.equal(status.shipped, 7);
    assert.equal(status.failures, 0);
    assert.equal(status.lastSuccessAt, clock.now());
    assert.equal(status.lastError, null);
    assert.equal(status.endpoint, `${receiver.url}/v1/logs`);

    // It keeps following the log.
    await append(2, 7);
    await until(async () => (await cursor()) === 9, 'cursor at 9');
    assert.deepEqual(receiver.accepted(), range(0, 9));
  });

  it('resumes from the stored cursor after a restart, sending nothing twice', async () => {
    await append(4);
    const first = shipper();
    first.start();
    await until(async () => (await cursor()) === 4, 'first run shipped 4');
    await first.stop();
    assert.equal(first.status().running, false);

    await append(3, 4);
    const second = shipper();
    assert.equal(second.status().cursor, null);
    second.start();
    await until(async () => (await cursor()) === 7, 'second run shipped the rest');
    assert.deepEqual(receiver.accepted(), range(0, 7));
    assert.equal(second.status().shipped, 3);
  });

  it('retries a batch answered 503 whole, and does not move the cursor until it is accepted', async () => {
    await append(5);
    const held = gate();
    receiver.answer = async (_req, n) => {
      if (n === 3) await held.opened;
      return n <= 3 ? { status: 503 } : { status: 200 };
    };
    const s = shipper();
    s.start();
    await until(() => receiver.requests.length === 3, 'third attempt in flight');

    // Two attempts failed, the third is held: nothing has moved.
    assert.equal(await cursor(), 0);
    const status = s.status();
    assert.equal(status.failures, 2);
    assert.deepEqual(status.lastError, { code: 'HTTP_ERROR', httpStatus: 503, at: clock.now() });
    assert.equal(status.shipped, 0);
    assert.equal(status.lastSuccessAt, null);
    assert.equal(status.lag, 5);
    assert.deepEqual(
      receiver.requests.map((r) => r.seqs),
      [
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 2],
      ],
    );

    held.open();
    await until(async () => (await cursor()) === 5, 'all shipped');
    assert.deepEqual(receiver.accepted(), range(0, 5));
    assert.equal(s.status().failures, 0);
    assert.equal(s.status().lastError?.httpStatus, 503, 'the last error stays visible after recovery');
  });

  it('keeps the cursor on an answer that will not change by itself (400), and ships once the receiver accepts', async () => {
    await append(2);
    const held = gate();
    receiver.answer = async (_req, n) => {
      if (n === 2) await held.opened;
      return n <= 2 ? { status: 400, body: '{"message":"bad"}' } : { status: 200 };
    };
    const s = shipper();
    s.start();
    await until(() => receiver.requests.length === 2, 'second attempt in flight');
    assert.equal(await cursor(), 0);
    assert.deepEqual(s.status().lastError, { code: 'HTTP_ERROR', httpStatus: 400, at: clock.now() });
    held.open();
    await until(async () => (await cursor()) === 2, 'shipped after the fix');
    assert.deepEqual(receiver.accepted(), [0, 1]);
  });

  it('halves the batch on 413 until the receiver takes it', async () => {
    await append(5);
    receiver.answer = (req) => (req.seqs.length > 2 ? { status: 413 } : { status: 200 });
    const s = shipper({ batchSize: 8 });
    s.start();
    await until(async () => (await cursor()) === 5, 'all shipped');
    assert.deepEqual(receiver.accepted(), range(0, 5));
    assert.ok(receiver.requests.some((r) => r.answer === 413));
    assert.ok(receiver.requests.filter((r) => r.answer === 200).every((r) => r.seqs.length <= 2));
  });

  it('counts records an OTLP receiver rejected as a partial success, without sending them again', async () => {
    await append(3);
    receiver.answer = () => ({ status: 200, body: '{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"too old"}}' });
    const s = shipper();
    s.start();
    await until(async () => (await cursor()) === 3, 'batch accepted');
    assert.equal(s.status().rejected, 2);
    assert.equal(receiver.requests.length, 1);
    assert.ok(logs.some(([obj]) => (obj as { rejected?: number }).rejected === 2));
  });

  it('ships OCSF events as a JSON array', async () => {
    await append(4);
    const s = shipper({ format: 'ocsf', url: `${receiver.url}/ingest`, batchSize: 10 });
    s.start();
    await until(async () => (await cursor()) === 4, 'shipped');
    assert.equal(receiver.requests.length, 1);
    const events = JSON.parse(receiver.requests[0]!.body) as { class_uid: number; type_uid: number; metadata: { uid: string } }[];
    assert.deepEqual(
      events.map((e) => [e.class_uid, e.type_uid, e.metadata.uid]),
      [
        [6003, 600301, '0'],
        [6003, 600301, '1'],
        [6003, 600301, '2'],
        [6003, 600301, '3'],
      ],
    );
    assert.equal(receiver.requests[0]!.url, '/ingest');
  });

  it('sends nothing while a header secret is missing, and logs the header name, never a value', async () => {
    await append(2);
    const literal = randomBytes(12).toString('hex');
    let available = false;
    const secret = randomBytes(12).toString('hex');
    const s = shipper(
      { headers: { Authorization: { secret: 'siem-token' }, 'X-Tenant': literal } },
      { resolveHeader: async () => (available ? secret : Promise.reject(new Error(`no secret (${secret})`))) },
    );
    s.start();
    await until(() => s.status().failures >= 2, 'two failed attempts');
    assert.equal(receiver.requests.length, 0);
    assert.equal(await cursor(), 0);
    assert.equal(s.status().lastError?.code, 'HEADER_UNAVAILABLE');
    assert.ok(logs.some(([obj]) => (obj as { header?: string }).header === 'Authorization'));

    available = true;
    await until(async () => (await cursor()) === 2, 'shipped once the secret exists');
    const logged = JSON.stringify(logs);
    assert.ok(!logged.includes(secret) && !logged.includes(literal), 'no header value in the logs');
  });

  it('resolves stop() only after the batch in flight is done, and stops there', async () => {
    await append(6);
    const held = gate();
    receiver.answer = async (_req, n) => {
      if (n === 1) await held.opened;
      return { status: 200 };
    };
    const s = shipper();
    s.start();
    await until(() => receiver.requests.length === 1, 'first batch in flight');
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
    assert.equal(stopped, false);
    held.open();
    await stopping;
    assert.equal(await cursor(), 3, 'the batch in flight was recorded');
    assert.equal(receiver.requests.length, 1, 'no batch after stop');
    assert.equal(s.status().running, false);
  });

  it('rides out a store that fails, and a logger that throws, without leaving its loop', async () => {
    await append(2);
    let outages = 2;
    const get = store.getAuditCursor.bind(store);
    store.getAuditCursor = (name) => (outages-- > 0 ? Promise.reject(new Error('database is locked')) : get(name));
    const s = shipper({}, { logger: { warn: () => { throw new Error('log sink down'); } } });
    s.start();
    await until(async () => (await get('siem')) === 2, 'shipped after the outage');
    assert.equal(s.status().lastError?.code, 'STORE_UNAVAILABLE');
    assert.equal(s.status().running, true);
  });

  it('skips entries archived before it shipped them, counting them once', async () => {
    await append(5);
    await store.archiveAudit(2, []);
    receiver.answer = (_req, n) => (n === 1 ? { status: 503 } : { status: 200 });
    const s = shipper();
    s.start();
    await until(async () => (await cursor()) === 5, 'shipped the rest');
    assert.deepEqual(receiver.accepted(), [2, 3, 4]);
    assert.equal(s.status().skipped, 2);
    assert.equal(logs.filter(([, msg]) => msg.includes('archived')).length, 1);
  });

  it('ships up to an entry that does not parse, then stops there with BAD_ENTRY', async () => {
    await store.appendAudit([0, 1, 2, 3], (n, seq) => {
      const row = sealEntry({ ...drafts(1, n)[0]!, seq, time: T0 + seq });
      return n === 2 ? { ...row, entry: '{"v":2,"seq":2}' } : row;
    });
    const s = shipper({ batchSize: 10 });
    s.start();
    await until(() => s.status().lastError?.code === 'BAD_ENTRY', 'stopped at the bad entry');
    assert.equal(await cursor(), 2);
    assert.deepEqual(receiver.accepted(), [0, 1]);
    assert.ok(logs.some(([obj]) => (obj as { seq?: number }).seq === 2));
  });

  it('lets replicas sharing one cursor ship every entry at least once and agree where they are', async () => {
    await append(12);
    const other = new SqliteStore(join(dir, 'warden.db'));
    extraStores.push(other);
    const a = shipper();
    const b = shipper({}, { store: other });
    a.start();
    b.start();
    await until(async () => (await cursor()) === 12, 'cursor at the end');
    assert.deepEqual([...new Set(receiver.accepted())].sort((x, y) => x - y), range(0, 12));
    assert.equal(await other.getAuditCursor('siem'), 12);
  });
});
