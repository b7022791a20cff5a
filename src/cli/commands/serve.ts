import type { Command } from 'commander';
import { ConfigError } from '../../config/load.js';
import { WardenError } from '../../errors/warden-error.js';
import { PolicyLoadError, Warden, initialize } from '../../warden.js';
import { resolveServerOptions, type ServerFlags } from '../env.js';

function announceAdminKey(key: string): void {
  process.stdout.write(
    [
      '',
      'A first admin was created. Its API key is shown this once and stored only as a hash:',
      '',
      `    ${key}`,
      '',
      'Keep it in a password manager; the CLI reads it from WARDEN_ADMIN_KEY.',
      '',
    ].join('\n'),
  );
}

/** A master key that cannot be used: where it came from and why, never its value. */
function exitOnBadMasterKey(err: unknown): void {
  if (!(err instanceof WardenError) || err.code !== 'MASTER_KEY_INVALID') return;
  const from = err.details?.source === 'env' ? 'WARDEN_MASTER_KEY' : 'the master key file (secrets.masterKeyFile)';
  process.stderr.write(`warden: ${from} is not usable (${String(err.details?.reason)}): it must be 32 bytes in base64 or base64url\n`);
  process.exit(2);
}

export function serveCommands(program: Command): void {
  program
    .command('init')
    .description('create the data directory, config, database schema, signing key and first admin')
    .option('--data-dir <dir>', 'state directory (WARDEN_DATA_DIR, default ./.warden)')
    .option('--database <url>', 'postgres://… (WARDEN_DATABASE_URL); default SQLite in the data dir')
    .action(async (flags: ServerFlags) => {
      const opts = resolveServerOptions(flags);
      const init = await initialize(opts).catch((err: unknown) => {
        exitOnBadMasterKey(err);
        throw err;
      });
      await init.store.close();
      process.stdout.write(`Warden initialised in ${opts.dataDir} (${init.store.kind})\n`);
      if (init.adminKey) announceAdminKey(init.adminKey);
      else process.stdout.write('Already initialised: no new admin key.\n');
    });

  program
    .command('serve')
    .description('start Warden (initialises the data directory on first start)')
    .option('--host <host>', 'address to bind (WARDEN_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port (WARDEN_PORT, default 7070)')
    .option('--data-dir <dir>', 'state directory (WARDEN_DATA_DIR, default ./.warden)')
    .option('--database <url>', 'postgres://… (WARDEN_DATABASE_URL); default SQLite in the data dir')
    .option('--public-url <url>', 'URL agents use to reach Warden (WARDEN_PUBLIC_URL)')
    .action(async (flags: ServerFlags) => {
      const opts = resolveServerOptions(flags);
      let warden: Warden;
      try {
        warden = await Warden.start(opts);
      } catch (err) {
        if (err instanceof PolicyLoadError) {
          process.stderr.write(`warden: the policy set does not load, so Warden does not start:\n${err.problems.map((p) => `  ${p.file}:${p.line}: ${p.message}`).join('\n')}\n`);
          process.exit(2);
        }
        exitOnBadMasterKey(err);
        if (err instanceof ConfigError) {
          process.stderr.write(`warden: config error in ${err.file}:\n${err.problems.map((p) => `  - ${p}`).join('\n')}\n`);
          process.exit(2);
        }
        throw err;
      }
      process.stdout.write(`Warden listening on ${warden.url} (store: ${warden.context.store.kind}, data: ${opts.dataDir})\n`);
      if (warden.adminKey) announceAdminKey(warden.adminKey);
      const stop = async () => {
        await warden.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}
