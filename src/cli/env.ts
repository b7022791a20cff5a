import { resolve } from 'node:path';
import type { WardenOptions } from '../warden.js';

export interface ServerFlags {
  host?: string;
  port?: string;
  dataDir?: string;
  database?: string;
  publicUrl?: string;
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) > 65535) {
    process.stderr.write(`warden: port must be a number from 0 to 65535\n`);
    process.exit(2);
  }
  return Number(value);
}

/** Flags win over environment variables, which win over the config file. */
export function resolveServerOptions(flags: ServerFlags): WardenOptions {
  const env = process.env;
  const host = flags.host ?? env.WARDEN_HOST;
  const port = parsePort(flags.port ?? env.WARDEN_PORT);
  const databaseUrl = flags.database ?? env.WARDEN_DATABASE_URL;
  const publicUrl = flags.publicUrl ?? env.WARDEN_PUBLIC_URL;
  // Only from the environment: a flag would put the key in argv, which `ps` shows everyone.
  const masterKey = env.WARDEN_MASTER_KEY;
  return {
    dataDir: resolve(flags.dataDir ?? env.WARDEN_DATA_DIR ?? '.warden'),
    ...(host ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(publicUrl ? { publicUrl } : {}),
    // Set but empty is passed on, and refused: falling back to the key file would start with another key.
    ...(masterKey !== undefined ? { masterKey } : {}),
  };
}

/** Where the admin commands find the server. */
export function defaultServerUrl(): string {
  return process.env.WARDEN_URL ?? `http://127.0.0.1:${process.env.WARDEN_PORT ?? '7070'}`;
}
