import { randomBytes } from 'node:crypto';
import { BracketedBaseline, timeSync } from '../measure.js';
import type { BenchContext, Row, Section } from '../section.js';
import { compileKnownValues } from '../../scanning/known-values.js';
import { createScanner, type Scanner } from '../../scanning/scanner.js';

const TARGET_BYTES = 64 * 1024;

/** Deterministic pseudo-random numbers (mulberry32): the same tool result in every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  'the build fails when the cache is cold and retries time out after the deploy step so we pin the version add a test and document the flag in the readme error handler returns undefined for empty input'.split(' ');

/**
 * A realistic 64 KiB MCP tool result: a GitHub-style issue list as a JSON text block (what
 * most servers send) plus the same issues as structuredContent — prose, code, URLs, ids,
 * dates, hashes. `leak` plants one injected secret in one issue body, as an echo would.
 */
export function toolResult(leak?: string): unknown {
  const rand = prng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const sentence = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
  const issues: unknown[] = [];
  let size = 0;
  for (let n = 1; size < TARGET_BYTES / 2; n++) {
    const body = `${sentence(40)}.\n\n\`\`\`ts\nconst res = await fetch('https://api.example.com/v1/items/${n}?page=2');\nif (!res.ok) throw new Error(\`status \${res.status}\`);\n\`\`\`\n\nSeen at commit ${hex(40)} on https://ci.example.com/runs/${Math.floor(rand() * 1e6)}.${n === 7 && leak ? `\nheader was: Bearer ${leak}` : ''}`;
    const issue = {
      number: n,
      title: sentence(8),
      state: pick(['open', 'closed']),
      user: { login: `dev${Math.floor(rand() * 100)}`, id: Math.floor(rand() * 1e7), html_url: `https://github.com/dev${n}` },
      labels: [pick(['bug', 'ci', 'docs', 'enhancement'])],
      comments: Math.floor(rand() * 20),
      created_at: new Date(1_700_000_000_000 + n * 3_600_000).toISOString(),
      html_url: `https://github.com/acme/app/issues/${n}`,
      node_id: `I_kwDO${hex(16)}`,
      body,
    };
    issues.push(issue);
    size += JSON.stringify(issue).length;
  }
  return { content: [{ type: 'text', text: JSON.stringify(issues) }], structuredContent: { issues }, isError: false };
}

function scanRow(ctx: BenchContext, id: string, label: string, scanner: Scanner, value: unknown, mb: number, vs: string[]): Row {
  const t = timeSync(ctx, label, ctx.durations.microMs, () => scanner.scanValue(value));
  return { id, label, kind: 'measured', unit: 'MB/s', rate: t.rate * mb, ops: t.ops, seconds: t.seconds, vs };
}

/**
 * Secret scanning throughput on a tool result of 64 KiB, in MB/s of its JSON text, against a
 * JSON.stringify + JSON.parse round trip of the same value in the same run: the least any
 * inspection of a response costs.
 */
export const scanning: Section = {
  name: 'scanning',
  title: 'Secret scanning of a 64 KiB MCP tool result',
  notes: [
    'MB = 10^6 bytes of the result as JSON text (UTF-8); the result is a GitHub-style issue list, as text and as structuredContent.',
    'Known values: 50 random 32-byte secrets, compiled once; each is searched for in raw, JSON, URL, hex and base64 spellings.',
    '"with one leak": one of them echoed in one issue body, so the scan also copies and redacts.',
  ],
  async run(ctx: BenchContext): Promise<Row[]> {
    const secrets = Array.from({ length: 50 }, () => randomBytes(32).toString('base64url'));
    const clean = toolResult();
    const leaky = toolResult(secrets[3]);
    const mb = Buffer.byteLength(JSON.stringify(clean)) / 1e6;
    const plain = createScanner();
    const known = createScanner({ knownValues: compileKnownValues(secrets) });
    // Time only the paths meant: the clean result passes, the leak is found and redacted.
    if (plain.scanValue(clean).action !== 'pass' || known.scanValue(clean).action !== 'pass') throw new Error('the clean bench result has findings');
    if (known.scanValue(leaky).findings[0]?.detector !== 'known-value') throw new Error('the planted secret was not found');

    const baseline = new BracketedBaseline(ctx, { id: 'json.roundtrip', label: 'JSON.stringify + JSON.parse', kind: 'baseline' }, () =>
      JSON.parse(JSON.stringify(clean)),
    ).before();
    const rows = [
      scanRow(ctx, 'scan.detectors', 'scanValue, detectors only', plain, clean, mb, ['json.roundtrip']),
      scanRow(ctx, 'scan.known50', 'scanValue, detectors + 50 known values', known, clean, mb, ['json.roundtrip', 'scan.detectors']),
      scanRow(ctx, 'scan.known50.leak', 'scanValue, 50 known values, with one leak', known, leaky, mb, ['json.roundtrip']),
    ];
    const base = baseline.after();
    return [{ ...base, unit: 'MB/s', rate: base.rate * mb }, ...rows];
  },
};
