import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TraceRunSchema, type TraceRun } from './trace.js';

/** A line that is not a run: where, and why (paths and messages only, never the line's text). */
export interface BadLine {
  /** 1-based line number in the (decompressed) file. */
  readonly line: number;
  readonly problems: readonly string[];
}

/** A trace file read whole: the runs that validated, and the lines that did not. */
export interface TraceFile {
  readonly runs: TraceRun[];
  readonly bad: BadLine[];
  /** Non-blank lines read. */
  readonly lines: number;
}

export type TraceLine = { readonly line: number; readonly run: TraceRun } | { readonly line: number; readonly problems: readonly string[] };

const GZIP_MAGIC = [0x1f, 0x8b] as const;
const MAX_PROBLEMS = 5;

/** Gzip is told by its magic bytes (RFC 1952 §2.3.1), not by the file name. */
async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    await fh.close();
  }
}

/**
 * The lines of an AgentDojo trace file (JSON Lines, plain or gzipped), each validated at this
 * edge: a run, or the problems that make it none. Streams: the file is never held whole.
 */
export async function* traceLines(path: string): AsyncGenerator<TraceLine> {
  const gzip = await isGzip(path);
  const file = createReadStream(path);
  const input: Readable = gzip ? file.pipe(createGunzip()) : file;
  // A corrupt gzip stream errors on the gunzip side; pass a read error on the file side too.
  if (gzip) file.on('error', (err) => input.destroy(err));
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      n += 1;
      if (text.trim() === '') continue;
      yield parseTraceLine(text, n);
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/** One line: a run, or why it is not one. */
export function parseTraceLine(text: string, line: number): TraceLine {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { line, problems: ['not JSON'] };
  }
  const parsed = TraceRunSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, MAX_PROBLEMS).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    return { line, problems };
  }
  return { line, run: parsed.data };
}

/**
 * Reads a whole trace file. Lines that are not valid runs are counted and reported, not fatal;
 * a second run with an id already seen is a bad line too (runs are scored by id).
 */
export async function readTraces(path: string): Promise<TraceFile> {
  const runs: TraceRun[] = [];
  const bad: BadLine[] = [];
  const ids = new Set<string>();
  let lines = 0;
  for await (const l of traceLines(path)) {
    lines += 1;
    if (!('run' in l)) {
      bad.push(l);
    } else if (ids.has(l.run.id)) {
      bad.push({ line: l.line, problems: ['id: a run with this id came earlier'] });
    } else {
      ids.add(l.run.id);
      runs.push(l.run);
    }
  }
  return { runs, bad, lines };
}
