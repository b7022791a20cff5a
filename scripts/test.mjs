// The `npm test` runner: starts a throwaway PostgreSQL cluster, runs every compiled test file
// with Node's test runner against it, then stops the cluster and deletes it, whatever happened.
//
// Usage (after `npm run build`; `npm test` does both):
//   node scripts/test.mjs [FILTER …] [--NODE-TEST-OPTION=VALUE …]
//   FILTER          keeps only the test files whose path contains it, e.g. `store.postgres`
//   --option=value  goes to `node --test` as is, e.g. `--test-name-pattern=CONFLICT`
//                   (write options with `=`: a bare word is taken for a FILTER)
//   e.g. `npm test -- store --test-name-pattern=CONFLICT`
//
// Environment:
//   WARDEN_TEST_PG_URL=postgres://…  use that server (as its admin) instead of starting one
//   WARDEN_TEST_SKIP_PG=1            run without PostgreSQL; its tests are skipped
//   WARDEN_PG_BIN=/path/to/bin       where initdb and postgres are (default: the newest
//                                    /usr/lib/postgresql/*/bin, else initdb on PATH)
//
// As root, the cluster runs as the `postgres` user: initdb and postgres refuse to run as root.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const nodeTestArgs = args.filter((a) => a.startsWith('-'));
const filters = args.filter((a) => !a.startsWith('-'));

/** @type {{ pid: number, tmp: string, exited: Promise<void>, running: () => boolean } | undefined} */
let cluster;
/** @type {import('node:child_process').ChildProcess | undefined} */
let testRun;

function findPgBin() {
  if (process.env.WARDEN_PG_BIN) return existsSync(join(process.env.WARDEN_PG_BIN, 'initdb')) ? process.env.WARDEN_PG_BIN : undefined;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  return (process.env.PATH ?? '').split(delimiter).find((dir) => dir && existsSync(join(dir, 'initdb')));
}

function findTestFiles() {
  const found = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.test.js')) found.push(path);
    }
  };
  walk(join(root, 'dist', 'src'));
  walk(join(root, 'dist', 'test'));
  return found.sort().filter((f) => filters.length === 0 || filters.some((w) => relative(root, f).includes(w)));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** The ids the cluster runs under: ours, or the postgres user's when we are root. */
function clusterOwner() {
  if (process.getuid?.() !== 0) return {};
  try {
    const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error("running as root, but there is no 'postgres' user to run PostgreSQL as (apt-get install postgresql creates it)");
  }
}

async function serverVersion(url, attempts) {
  for (let i = 1; ; i++) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      return (await client.query('SHOW server_version')).rows[0].server_version;
    } catch (err) {
      if (i >= attempts || (cluster && !cluster.running())) throw err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

async function startCluster(bin) {
  const owner = clusterOwner();
  const tmp = mkdtempSync(join(tmpdir(), 'warden-pg-'));
  if (owner.uid !== undefined) chownSync(tmp, owner.uid, owner.gid);
  const data = join(tmp, 'data');
  const logPath = join(tmp, 'postgres.log');
  cluster = { pid: 0, tmp, exited: Promise.resolve(), running: () => false };

  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    { ...owner, cwd: tmp, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.stdout}${init.stderr}${init.error ?? ''}`);
  // Trust, but only over this cluster's own socket and loopback: nothing else can connect.
  writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const log = openSync(logPath, 'a');
    const child = spawn(
      join(bin, 'postgres'),
      [
        '-D', data, '-p', String(port), '-k', tmp,
        '-c', 'listen_addresses=127.0.0.1',
        // Durability is pointless for a cluster deleted after the run; speed is not.
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', 'max_connections=200',
      ],
      // Own process group: a Ctrl-C meant for the tests must not kill the server under them.
      { ...owner, cwd: tmp, detached: true, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    let running = true;
    const exited = new Promise((resolve) => child.once('exit', () => resolve((running = false))));
    cluster = { pid: child.pid ?? 0, tmp, exited, running: () => running };
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    try {
      const version = await serverVersion(url, 300);
      console.log(`# PostgreSQL ${version} is up at 127.0.0.1:${port} (${bin}, data in ${tmp})`);
      return url;
    } catch (err) {
      // Someone may have taken the port between our check and the bind: try another one.
      await stopCluster({ keepFiles: true });
      if (attempt >= 3) throw new Error(`PostgreSQL did not start: ${err}\n${readFileSync(logPath, 'utf8')}`);
    }
  }
}

async function stopCluster({ keepFiles = false } = {}) {
  const c = cluster;
  if (!c) return;
  if (c.running()) {
    // SIGINT is PostgreSQL's "fast" shutdown: ends sessions at once, no waiting for clients.
    process.kill(c.pid, 'SIGINT');
    const timedOut = await Promise.race([c.exited.then(() => false), new Promise((r) => setTimeout(() => r(true), 15_000).unref())]);
    if (timedOut) {
      killCluster(c);
      await c.exited;
    }
  }
  if (!keepFiles) {
    rmSync(c.tmp, { recursive: true, force: true });
    cluster = undefined;
  }
}

/** Kills the server and every backend it started, if any is still there. */
function killCluster(c) {
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function runTests(files, env) {
  return new Promise((resolve) => {
    testRun = spawn(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=2', ...nodeTestArgs, ...files], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    testRun.once('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

async function main() {
  const files = findTestFiles();
  if (files.length === 0) {
    console.error(`No test files found under dist/${filters.length ? ` matching ${filters.join(', ')}` : ''}: did \`npm run build\` run?`);
    return 1;
  }
  const env = { ...process.env };
  if (env.WARDEN_TEST_PG_URL) {
    console.log(`# PostgreSQL ${await serverVersion(env.WARDEN_TEST_PG_URL, 1)} from WARDEN_TEST_PG_URL`);
  } else if (env.WARDEN_TEST_SKIP_PG === '1') {
    console.log('# PostgreSQL: not started (WARDEN_TEST_SKIP_PG=1); its tests are skipped');
  } else {
    const bin = findPgBin();
    if (!bin) {
      console.error(
        'PostgreSQL server binaries (initdb, postgres) were not found under /usr/lib/postgresql/*/bin or on PATH.\n' +
          'Install them with `apt-get install postgresql` (or point WARDEN_PG_BIN at them),\n' +
          'or set WARDEN_TEST_SKIP_PG=1 to run without the PostgreSQL tests.',
      );
      return 1;
    }
    env.WARDEN_TEST_PG_URL = await startCluster(bin);
  }
  return runTests(files, env);
}

let signalled = 0;
let exitOnSignal = 0;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    signalled++;
    exitOnSignal = 128 + constants.signals[signal];
    if (signalled > 1) {
      // Asked twice: stop waiting for anyone.
      if (cluster?.running()) killCluster(cluster);
      if (cluster) rmSync(cluster.tmp, { recursive: true, force: true });
      process.exit(128 + constants.signals[signal]);
    }
    if (testRun && testRun.exitCode === null && testRun.signalCode === null) {
      // The test run ends, then main() cleans up as usual and exits with its code.
      testRun.kill(signal);
    } else {
      stopCluster().finally(() => process.exit(128 + constants.signals[signal]));
    }
  });
}

// Last resort if we exit without the cleanup below (e.g. process.exit from elsewhere).
process.on('exit', () => {
  if (cluster?.running()) killCluster(cluster);
  if (cluster) rmSync(cluster.tmp, { recursive: true, force: true });
});

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
} finally {
  await stopCluster().catch((err) => console.error(`could not stop PostgreSQL: ${err}`));
}
// Interrupted runs exit like the shell expects of a process killed by that signal (130, 143).
process.exit(exitOnSignal || code);
