import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { closeAllBenchWardens } from './fixture.js';
import { Progress } from './progress.js';
import { renderText, toJson, type Environment, type SectionResult } from './report.js';
import type { BenchContext, Durations, Section } from './section.js';
import { SECTIONS } from './sections/index.js';

// Default durations keep the whole bench at a few minutes (three of them the soak); --quick (a
// smoke test that the bench still runs) under about a minute. Quick figures are noisy: do not compare them.
const DEFAULT_DURATIONS: Durations = { microMs: 1000, inProcessMs: 2000, httpMs: 6000, warmupOps: 200, soakMs: 180_000, auditEntries: 1_000_000 };
const QUICK_DURATIONS: Durations = { microMs: 200, inProcessMs: 400, httpMs: 1200, warmupOps: 50, soakMs: 15_000, auditEntries: 100_000 };
const DEFAULT_CONCURRENCY = 8;

const USAGE = `Usage: npm run bench -- [options]   (or: node dist/src/bench/main.js [options])

Measures Warden against baselines taken in the same run and prints each figure with its ratio.

Options:
  --only <section>     run only these sections (repeat, or separate with commas)
  --quick              short runs, for a smoke test; the figures are noisy
  --json               print machine-readable results on stdout instead of the table
  --concurrency <n>    HTTP requests in flight (default ${DEFAULT_CONCURRENCY})
  --soak-seconds <n>   how long the soak runs (default ${DEFAULT_DURATIONS.soakMs / 1000}; --quick ${QUICK_DURATIONS.soakMs / 1000})
  -h, --help           show this help

Sections: ${SECTIONS.map((s) => s.name).join(', ')}
Progress goes to stderr; results to stdout.
`;

interface Cli {
  readonly sections: readonly Section[];
  readonly soakSeconds?: number;
  readonly quick: boolean;
  readonly json: boolean;
  readonly concurrency: number;
}

class UsageError extends Error {}

/** Set on SIGINT/SIGTERM: the section then fails because its Warden was closed under it. */
let interrupted = false;

function parseCli(argv: readonly string[]): Cli | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        only: { type: 'string', multiple: true },
        quick: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        'soak-seconds': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const names = (values.only ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const unknown = names.filter((n) => !SECTIONS.some((s) => s.name === n));
  if (unknown.length > 0) throw new UsageError(`unknown section ${unknown.join(', ')}; sections: ${SECTIONS.map((s) => s.name).join(', ')}`);
  const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) throw new UsageError('--concurrency must be a whole number from 1 to 1024');
  const soak = values['soak-seconds'] === undefined ? undefined : Number(values['soak-seconds']);
  if (soak !== undefined && (!Number.isInteger(soak) || soak < 5 || soak > 86_400)) throw new UsageError('--soak-seconds must be a whole number from 5 to 86400');
  return {
    sections: names.length === 0 ? SECTIONS : SECTIONS.filter((s) => names.includes(s.name)),
    ...(soak !== undefined ? { soakSeconds: soak } : {}),
    quick: values.quick === true,
    json: values.json === true,
    concurrency,
  };
}

function environment(cli: Cli, durations: Durations, loadAtStart: number): Environment {
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    mode: cli.quick ? 'quick' : 'default',
    concurrency: cli.concurrency,
    durations,
    loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 },
  };
}

async function runSection(section: Section, ctx: BenchContext): Promise<SectionResult> {
  ctx.progress.enter(section.name);
  const t0 = performance.now();
  const base = { name: section.name, title: section.title, notes: section.notes };
  try {
    const rows = await section.run(ctx);
    return { ...base, seconds: (performance.now() - t0) / 1000, rows };
  } catch (err) {
    // Interrupted: the signal handler is closing this Warden and will exit; say nothing more.
    if (interrupted) return new Promise<never>(() => undefined);
    // One broken section must not hide the others' results; the exit code still says it failed.
    const message = err instanceof Error ? err.message : String(err);
    ctx.progress.log(`[${section.name}] FAILED: ${message}`);
    if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return { ...base, seconds: (performance.now() - t0) / 1000, rows: [], error: message };
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let cli: Cli | 'help';
  try {
    cli = parseCli(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (cli === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }

  const progress = new Progress();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      progress.clear();
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      void closeAllBenchWardens().finally(() => process.exit(130));
    });
  }

  const base = cli.quick ? QUICK_DURATIONS : DEFAULT_DURATIONS;
  const durations = cli.soakSeconds === undefined ? base : { ...base, soakMs: cli.soakSeconds * 1000 };
  const loadAtStart = loadavg()[0] ?? 0;
  const ctx: BenchContext = { durations, concurrency: cli.concurrency, progress };
  const startedAt = new Date();
  const t0 = performance.now();
  const results: SectionResult[] = [];
  for (const section of cli.sections) results.push(await runSection(section, ctx));
  ctx.progress.clear();
  const seconds = (performance.now() - t0) / 1000;
  const env = environment(cli, durations, loadAtStart);
  process.stdout.write(cli.json ? `${JSON.stringify(toJson(env, results, startedAt, seconds), null, 2)}\n` : renderText(env, results));
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
