import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { BACKENDS, startWarden, type TestWarden } from '../support/harness.js';

const BIN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));

/** A value as a real credential looks, generated for this run. */
const newValue = (kind: string): string => `${kind}_${randomBytes(24).toString('base64url')}`;

/** The value and what could be derived from it: none of these may show up anywhere. */
function forms(value: string): string[] {
  const b = Buffer.from(value);
  const sha = createHash('sha256').update(b).digest();
  return [value, b.toString('base64'), b.toString('hex'), sha.toString('hex'), sha.toString('base64'), sha.toString('base64url')];
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

for (const backend of BACKENDS) {
  describe(`the secret store over the admin API and the CLI (${backend})`, () => {
    let tw: TestWarden & { databaseUrl: string | undefined };
    /** Every response body and CLI output of this suite, checked for values at the end. */
    const seen: string[] = [];
    const values = {
      github: [newValue('ghp'), newValue('ghp')],
      stripe: [newValue('sk_live'), newValue('sk_live')],
      db: newValue('pw'),
      argv: newValue('argv'),
    };
    const allValues = (): string[] => [...values.github, ...values.stripe, values.db, values.argv];

    const api = async (method: string, path: string, body?: unknown, key?: string) => {
      const res = await tw.admin(method, path, body, key);
      seen.push(JSON.stringify(res.body));
      return res;
    };

    /** Runs the CLI as a user would, with `stdin` piped in. */
    const cli = (args: string[], stdin = ''): Promise<CliResult> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          env: { ...process.env, WARDEN_URL: tw.url, WARDEN_ADMIN_KEY: tw.adminKey },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.once('error', reject);
        child.once('close', (code) => {
          seen.push(stdout, stderr);
          resolve({ code, stdout, stderr });
        });
        child.stdin.end(stdin);
      });

    const resolve = (name: string) => tw.warden.context.secrets.resolve(name);

    before(async () => {
      tw = await startWarden(backend);
    });
    after(async () => {
      await tw?.close();
    });

    it('sets a secret over the API; the response names the version, not the value', async () => {
      const res = await api('PUT', '/v1/secrets/github.token', { value: values.github[0] });
      assert.equal(res.status, 201);
      assert.deepEqual(Object.keys(res.body.secret).sort(), ['createdAt', 'name', 'previousLiveUntil', 'previousVersion', 'version']);
      assert.equal(res.body.secret.version, 1);
      assert.equal(await resolve('github.token'), values.github[0]);
    });

    it('sets secrets with the CLI from stdin and from a file, dropping one trailing newline', async () => {
      const set = await cli(['secret', 'set', 'stripe.key'], `${values.stripe[0]}\n`);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /Secret stripe\.key is at version 1/);
      assert.equal(await resolve('stripe.key'), values.stripe[0]);

      const file = join(tw.dataDir, 'db-password.txt');
      await writeFile(file, `${values.db}\r\n`, { mode: 0o600 });
      const fromFile = await cli(['--json', 'secret', 'set', 'db.password', '--from-file', file]);
      assert.equal(fromFile.code, 0, fromFile.stderr);
      assert.equal(JSON.parse(fromFile.stdout).version, 1);
      assert.equal(await resolve('db.password'), values.db);
    });

    it('refuses a value given on the command line, and an empty one', async () => {
      const argv = await cli(['secret', 'set', 'argv.token', values.argv]);
      assert.notEqual(argv.code, 0);
      assert.match(argv.stderr, /too many arguments/);
      const empty = await cli(['secret', 'set', 'argv.token'], '\n');
      assert.notEqual(empty.code, 0);
      assert.match(empty.stderr, /empty/);
      assert.equal((await api('GET', '/v1/secrets')).body.secrets.some((s: { name: string }) => s.name === 'argv.token'), false);
    });

    it('rotates over the API and the CLI; previous versions stay live for their overlap only', async () => {
      const api1 = await api('POST', '/v1/secrets/github.token/rotate', { value: values.github[1], overlapSec: 60 });
      assert.equal(api1.status, 200);
      assert.equal(api1.body.secret.version, 2);
      assert.equal(api1.body.secret.previousLiveUntil, api1.body.secret.createdAt + 60_000);

      const rotated = await cli(['secret', 'rotate', 'stripe.key', '--overlap', '1h'], values.stripe[1]);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /Secret stripe\.key is at version 2; version 1 stays live until \d{4}-/);

      assert.equal(await resolve('github.token'), values.github[1]);
      assert.equal(await resolve('stripe.key'), values.stripe[1]);
      const live = await tw.warden.context.secrets.liveValues();
      for (const v of [...values.github, ...values.stripe, values.db]) assert.ok(live.includes(v));

      tw.clock.advance(61_000);
      const later = await tw.warden.context.secrets.liveValues();
      assert.ok(!later.includes(values.github[0]!), 'the 60 s overlap is over');
      assert.ok(later.includes(values.stripe[0]!), 'the 1 h overlap is not');
      const { body } = await api('GET', '/v1/secrets');
      const byName = new Map((body.secrets as { name: string; version: number; live: { version: number }[] }[]).map((s) => [s.name, s]));
      assert.deepEqual(byName.get('github.token')?.live.map((v) => v.version), [2]);
      assert.deepEqual(byName.get('stripe.key')?.live.map((v) => v.version), [2, 1]);
    });

    it('refuses rotating an unknown secret and a bad name with stable codes', async () => {
      assert.equal((await api('POST', '/v1/secrets/no.such/rotate', { value: newValue('x'), overlapSec: 60 })).body.error.code, 'SECRET_NOT_FOUND');
      assert.equal((await api('PUT', '/v1/secrets/Bad%20Name', { value: newValue('x') })).body.error.code, 'INVALID_INPUT');
      assert.equal((await api('PUT', '/v1/secrets/ok.name', { value: 42 })).body.error.code, 'INVALID_INPUT');
      const cliMissing = await cli(['secret', 'rotate', 'no.such'], newValue('x'));
      assert.equal(cliMissing.code, 1);
      assert.match(cliMissing.stderr, /SECRET_NOT_FOUND \(HTTP 404\)/);
    });

    it('lets only admins see or change secrets', async () => {
      const viewer = await api('POST', '/v1/persons', { name: 'Vic Viewer', roles: ['viewer', 'approver', 'auditor'] });
      assert.equal(viewer.status, 201);
      const key = viewer.body.apiKey as string;
      assert.equal((await api('GET', '/v1/secrets', undefined, key)).body.error.code, 'AUTH_FORBIDDEN');
      assert.equal((await api('PUT', '/v1/secrets/github.token', { value: newValue('x') }, key)).body.error.code, 'AUTH_FORBIDDEN');
      assert.equal((await api('POST', '/v1/secrets/github.token/rotate', { value: newValue('x'), overlapSec: 0 }, key)).body.error.code, 'AUTH_FORBIDDEN');
      assert.equal(await resolve('github.token'), values.github[1]);
    });

    it('lists secrets with the CLI as a table and as JSON', async () => {
      const table = await cli(['secret', 'list']);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^NAME\s+VERSION\s+LIVE\s+CREATED\s+PREVIOUS LIVE UNTIL$/m);
      assert.match(table.stdout, /^stripe\.key\s+2\s+2,1\s+\S+\s+\d{4}-/m);
      assert.match(table.stdout, /^github\.token\s+2\s+2\s+\S+\s+-$/m);
      const json = await cli(['secret', 'list', '--json']);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(
        (JSON.parse(json.stdout) as { name: string }[]).map((s) => s.name),
        ['db.password', 'github.token', 'stripe.key'],
      );
    });

    it('records each change as an event with name and version only', async () => {
      const { body } = await api('GET', '/v1/events?limit=1000');
      const secretEvents = (body.events as { type: string; subject: string; data: Record<string, unknown> }[]).filter((e) => e.type.startsWith('secret.'));
      assert.deepEqual(
        secretEvents.map((e) => [e.type, e.subject, e.data.version]),
        [
          ['secret.set', 'github.token', 1],
          ['secret.set', 'stripe.key', 1],
          ['secret.set', 'db.password', 1],
          ['secret.rotate', 'github.token', 2],
          ['secret.rotate', 'stripe.key', 2],
        ],
      );
    });

    it('never shows a value in a response, a CLI output, the events table or the database in the clear', async () => {
      const events = JSON.stringify(await tw.warden.context.store.listEvents({ limit: 10_000 }));
      let database: Buffer;
      if (backend === 'sqlite') {
        // WAL mode: recent writes may still be in the -wal file.
        const db = join(tw.dataDir, 'warden.db');
        database = Buffer.concat([await readFile(db), await readFile(`${db}-wal`).catch(() => Buffer.alloc(0))]);
      } else {
        const client = new pg.Client({ connectionString: tw.databaseUrl });
        await client.connect();
        try {
          const rows = (await client.query('SELECT * FROM secrets')).rows as Record<string, unknown>[];
          database = Buffer.concat(rows.flatMap((r) => Object.values(r).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))))));
        } finally {
          await client.end();
        }
      }
      assert.ok(seen.length > 10);
      const outputs = seen.join('\n');
      for (const value of allValues()) {
        for (const form of forms(value)) {
          assert.ok(!outputs.includes(form), 'a value reached a response or the CLI output');
          assert.ok(!events.includes(form), 'a value reached the events table');
        }
        assert.ok(!database.includes(Buffer.from(value)), 'a value is in the database in the clear');
      }
    });
  });
}

describe('the master key at start-up', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-master-key-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** `warden init` with the given environment; resolves with its exit code and output. */
  const init = (dataDir: string, env: Record<string, string>): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const { WARDEN_MASTER_KEY: _inherited, ...parent } = process.env;
      const child = spawn(process.execPath, [BIN, 'init', '--data-dir', dataDir], { env: { ...parent, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('refuses to start with a WARDEN_MASTER_KEY that is not 32 bytes, without echoing it', async () => {
    const bad = randomBytes(24).toString('base64');
    const res = await init(join(dir, 'bad'), { WARDEN_MASTER_KEY: bad });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /WARDEN_MASTER_KEY is not usable/);
    assert.ok(!`${res.stdout}${res.stderr}`.includes(bad));
    await assert.rejects(stat(join(dir, 'bad', 'keys', 'master.key')), { code: 'ENOENT' }, 'no key file is created as a fallback');
  });

  it('creates the key file with mode 0600 on first start when there is no key, and uses the variable when set', async () => {
    const created = await init(join(dir, 'fresh'), {});
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await stat(join(dir, 'fresh', 'keys', 'master.key'))).mode & 0o777, 0o600);
    const fromEnv = await init(join(dir, 'env'), { WARDEN_MASTER_KEY: randomBytes(32).toString('base64url') });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    await assert.rejects(stat(join(dir, 'env', 'keys', 'master.key')), { code: 'ENOENT' });
  });
});
