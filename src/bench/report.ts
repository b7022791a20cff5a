import type { Durations, Row } from './section.js';

export interface Environment {
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly mode: 'default' | 'quick';
  readonly concurrency: number;
  readonly durations: Durations;
  /** 1-minute load average when the run began and ended: other processes share the CPU. */
  readonly loadAverage: { readonly start: number; readonly end: number };
}

export interface SectionResult {
  readonly name: string;
  readonly title: string;
  readonly notes: readonly string[];
  readonly seconds: number;
  readonly rows: readonly Row[];
  /** Set when the section failed; its rows are then empty. */
  readonly error?: string;
}

export interface Comparison {
  readonly baseline: string;
  readonly label: string;
  /** This row's rate ÷ the baseline's rate. */
  readonly ratio: number;
}

/** Printed once, above the tables and in the JSON: the reading depends on it. */
export const SHARED_PROCESS_NOTE =
  'The load generator runs in the same process and event loop as Warden: client and server share one JS thread (and the machine’s cores).';

/**
 * The ratio of every row to each baseline it names. A measured row must name at least one:
 * that is the project's rule (a figure without a baseline of the same run is not printed).
 */
export function compare(rows: readonly Row[]): Map<string, Comparison[]> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  if (byId.size !== rows.length) throw new TypeError('row ids must be unique within a section');
  const out = new Map<string, Comparison[]>();
  for (const row of rows) {
    if (row.kind === 'measured' && (row.vs ?? []).length === 0) throw new TypeError(`measured row ${row.id} names no baseline`);
    out.set(
      row.id,
      (row.vs ?? []).map((id) => {
        const base = byId.get(id);
        if (!base) throw new TypeError(`row ${row.id} compares with unknown row ${id}`);
        return { baseline: id, label: base.label, ratio: row.rate / base.rate };
      }),
    );
  }
  return out;
}

export function formatRate(rate: number): string {
  return rate >= 100 ? Math.round(rate).toLocaleString('en-US') : rate.toFixed(1);
}

export function formatRatio(ratio: number): string {
  return `${ratio >= 100 ? ratio.toFixed(0) : ratio.toPrecision(3)}×`;
}

function ms(v: number | undefined): string {
  return v === undefined ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(1);
}

/** Above this, a baseline's two halves disagree enough to say so under the table. */
export const DRIFT_WARNING = 0.1;

type Align = 'left' | 'right';
const COLUMNS: readonly { title: string; align: Align }[] = [
  { title: '', align: 'left' },
  { title: 'measure', align: 'left' },
  { title: 'rate', align: 'right' },
  { title: 'unit', align: 'left' },
  { title: 'p50 ms', align: 'right' },
  { title: 'p99 ms', align: 'right' },
  { title: 'cores', align: 'right' },
  { title: 'drift', align: 'right' },
  { title: 'ratio', align: 'right' },
  { title: 'vs', align: 'left' },
];

function pad(text: string, width: number, align: Align): string {
  return align === 'right' ? text.padStart(width) : text.padEnd(width);
}

function renderSection(result: SectionResult): string[] {
  const lines = [`${result.name} · ${result.title} (${result.seconds.toFixed(1)} s)`];
  if (result.error !== undefined) return [...lines, `  FAILED: ${result.error}`, ''];
  const ratios = compare(result.rows);
  // Each cell row; a row with several baselines continues on lines with only ratio and vs.
  const cells: { cells: string[]; note?: string }[] = [];
  for (const r of result.rows) {
    const cmp = ratios.get(r.id) ?? [];
    const head = [
      r.kind === 'baseline' ? 'base' : 'meas',
      r.label,
      formatRate(r.rate),
      r.unit,
      ms(r.latencyMs?.p50),
      ms(r.latencyMs?.p99),
      r.cpuCores === undefined ? '-' : r.cpuCores.toFixed(2),
      r.drift === undefined ? '-' : `${(r.drift * 100).toFixed(0)}%`,
      cmp[0] ? formatRatio(cmp[0].ratio) : '',
      cmp[0] ? cmp[0].label : r.derivedFrom ? '(derived)' : '(baseline)',
    ];
    cells.push({ cells: head });
    for (const c of cmp.slice(1)) cells.push({ cells: ['', '', '', '', '', '', '', '', formatRatio(c.ratio), c.label] });
    if (r.note) cells.push({ cells: [], note: r.note });
  }
  const widths = COLUMNS.map((col, i) => Math.max(col.title.length, ...cells.map((c) => c.cells[i]?.length ?? 0)));
  const fmt = (row: string[]): string =>
    `  ${row.map((text, i) => pad(text, widths[i]!, COLUMNS[i]!.align)).join('  ')}`.trimEnd();
  const rule = `  ${widths.map((w) => '─'.repeat(w)).join('  ')}`;
  lines.push(fmt(COLUMNS.map((c) => c.title)), rule);
  const noteIndent = ' '.repeat(2 + widths[0]! + 2);
  for (const c of cells) lines.push(c.note === undefined ? fmt(c.cells) : `${noteIndent}↳ ${c.note}`);
  const drift = Math.max(0, ...result.rows.map((r) => r.drift ?? 0));
  if (drift > DRIFT_WARNING) {
    lines.push(`  ! baselines moved by up to ${(drift * 100).toFixed(0)}% between before and after: the machine's load changed, read the ratios loosely`);
  }
  for (const n of result.notes) lines.push(`  · ${n}`);
  lines.push('');
  return lines;
}

/** The human report: one table per section, ratios next to every measured figure. */
export function renderText(env: Environment, results: readonly SectionResult[]): string {
  const lines = [
    `Warden bench · Node ${env.node} · ${env.platform} ${env.arch} · ${env.cpus} CPUs (${env.cpuModel}) · ${env.mode} durations · ${env.concurrency} in flight`,
    SHARED_PROCESS_NOTE,
    `1-minute load average ${env.loadAverage.start.toFixed(2)} at start, ${env.loadAverage.end.toFixed(2)} at end${env.loadAverage.start > 0.5 || env.loadAverage.end > 0.5 ? ': other processes were using the CPU' : ''}.`,
    'ratio = this rate ÷ the rate of the row named in "vs", both measured in this run; cores = process CPU time ÷ wall time;',
    'drift = how far a raw baseline timed before the section\'s rows differs from the same baseline timed after them.',
    '',
  ];
  for (const r of results) lines.push(...renderSection(r));
  return `${lines.join('\n')}\n`;
}

/** The `--json` report: versioned, one object per section, ratios computed. */
export function toJson(env: Environment, results: readonly SectionResult[], startedAt: Date, seconds: number): unknown {
  return {
    schema: 'warden-bench/1',
    startedAt: startedAt.toISOString(),
    seconds,
    env,
    notes: [SHARED_PROCESS_NOTE],
    sections: results.map((s) => {
      const ratios = s.error === undefined ? compare(s.rows) : new Map<string, Comparison[]>();
      return {
        name: s.name,
        title: s.title,
        seconds: s.seconds,
        notes: s.notes,
        ...(s.error !== undefined ? { error: s.error } : {}),
        rows: s.rows.map((r) => ({ ...r, comparisons: ratios.get(r.id) ?? [] })),
      };
    }),
  };
}
