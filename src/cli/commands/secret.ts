import { open } from 'node:fs/promises';
import type { Command } from 'commander';
import { SECRET_MAX_VALUE_BYTES } from '../../domain/index.js';
import type { SecretChange, SecretSummary } from '../../secrets/secret-service.js';
import type { CliGlobals } from '../admin-client.js';
import { isoTime, printJson, printTable } from '../output.js';

/** Room for the value and one line ending, which is dropped. */
const READ_LIMIT = SECRET_MAX_VALUE_BYTES + 2;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90`, `90s`, `15m`, `1h`, `2d` as whole seconds. */
export function parseDurationSec(text: string): number {
  const m = /^([0-9]{1,9})([smhd]?)$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: use e.g. 90s, 15m, 1h or 2d`);
  return Number(m[1]) * UNITS[m[2] || 's']!;
}

/** Drops one trailing line ending: `echo`, heredocs and editors add one that is no part of a token. */
const chomp = (s: string): string => s.replace(/\r?\n$/, '');

async function readLimited(chunks: AsyncIterable<Buffer | string>): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += b.length;
    if (size > READ_LIMIT) throw new Error(`the value is larger than ${SECRET_MAX_VALUE_BYTES} bytes`);
    parts.push(b);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  let value = '';
  return new Promise((resolve, reject) => {
    const finish = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * The secret value: from `--from-file`, else stdin (a hidden prompt on a terminal). Never an
 * argument: argv is visible to every user through `ps` and lands in shell history.
 */
async function readValue(fromFile: string | undefined): Promise<string> {
  let text: string;
  if (fromFile) {
    const file = await open(fromFile, 'r');
    try {
      text = await readLimited(file.createReadStream({ autoClose: false }));
    } finally {
      await file.close();
    }
  } else if (process.stdin.isTTY) {
    text = await promptHidden('Secret value (input hidden): ');
  } else {
    text = await readLimited(process.stdin);
  }
  const value = chomp(text);
  if (value.length === 0) throw new Error('the value is empty');
  return value;
}

const path = (name: string): string => `/v1/secrets/${encodeURIComponent(name)}`;

export function secretCommands(program: Command, g: CliGlobals): void {
  const secret = program
    .command('secret')
    .description('upstream credentials Warden injects; values are read from stdin or a file, never printed');

  secret
    .command('set <name>')
    .description('store a new version from stdin; earlier versions stop being live at once')
    .option('--from-file <file>', 'read the value from this file instead of stdin')
    .action(async (name: string, o: { fromFile?: string }) => {
      const value = await readValue(o.fromFile);
      const { secret: c } = await g.client().call<{ secret: SecretChange }>('PUT', path(name), { value });
      if (g.json()) return printJson(c);
      process.stdout.write(
        `Secret ${c.name} is at version ${c.version}${c.previousVersion ? `; earlier versions are no longer live` : ''}.\n`,
      );
    });

  secret
    .command('rotate <name>')
    .description('store a new version from stdin; the previous one stays live for the overlap')
    .option('--overlap <duration>', 'how long the previous version stays live (e.g. 90s, 15m, 1h, 2d)', '1h')
    .option('--from-file <file>', 'read the value from this file instead of stdin')
    .action(async (name: string, o: { overlap: string; fromFile?: string }) => {
      const overlapSec = parseDurationSec(o.overlap);
      const value = await readValue(o.fromFile);
      const { secret: c } = await g.client().call<{ secret: SecretChange }>('POST', `${path(name)}/rotate`, { value, overlapSec });
      if (g.json()) return printJson(c);
      process.stdout.write(`Secret ${c.name} is at version ${c.version}; version ${c.previousVersion} stays live until ${isoTime(c.previousLiveUntil)}.\n`);
    });

  secret
    .command('list')
    .description('secrets with their live versions (never values)')
    .action(async () => {
      const { secrets } = await g.client().call<{ secrets: SecretSummary[] }>('GET', '/v1/secrets');
      if (g.json()) return printJson(secrets);
      printTable(
        secrets.map((s) => {
          const ends = s.live.map((v) => v.notAfter).filter((t): t is number => t !== null);
          return {
            name: s.name,
            version: s.version,
            live: s.live.map((v) => v.version),
            created: isoTime(s.createdAt),
            'previous live until': ends.length ? isoTime(Math.max(...ends)) : null,
          };
        }),
        ['name', 'version', 'live', 'created', 'previous live until'],
      );
    });
}
