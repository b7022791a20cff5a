import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The admin connection tests create their databases through (set by `scripts/test.mjs`). */
export function adminUrl(): string {
  const url = process.env.WARDEN_TEST_PG_URL;
  if (!url) throw new Error('WARDEN_TEST_PG_URL is not set: run the tests with `npm test`, which starts a PostgreSQL for them');
  return url;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database of its own on the test server, so tests never see each other's
 * rows. `drop` removes it, first ending any connection a test left open.
 */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `warden_test_${randomBytes(8).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
