import type { Detector } from './detectors.js';
import { KeywordIndex } from './keyword-index.js';
import type { KnownValueEncoding, KnownValues } from './known-values.js';

/** The detector id of exact matches of values Warden injected. */
export const KNOWN_VALUE_DETECTOR = 'known-value';

/** The detector id of a value the scanner refused to finish: too deep, too many nodes, too long. */
export const SCAN_LIMIT_DETECTOR = 'scan-limit';

/** One secret in one string: `[start, end)` in UTF-16 code units. */
export interface Span {
  readonly detector: string;
  readonly start: number;
  readonly end: number;
  /** Set for known values: how the value was spelled. */
  readonly encoding?: KnownValueEncoding;
  /** Lower wins when spans merge. */
  readonly rank: number;
  /** From a low-confidence detector: yields to any specific finding it overlaps. */
  readonly weak?: boolean;
}

/** What to look for in a string, ranked: known values first, then detectors in order. */
export interface SearchPlan {
  readonly detectors: readonly Detector[];
  readonly knownValues: KnownValues | undefined;
}

/** Every secret in `text`, overlapping findings merged, in order of start. */
export function findSecrets(text: string, plan: SearchPlan, extra: readonly Span[] = []): Span[] {
  const spans: Span[] = [...extra];
  if (plan.knownValues) {
    for (const m of plan.knownValues.find(text)) spans.push({ detector: KNOWN_VALUE_DETECTOR, start: m.start, end: m.end, encoding: m.encoding, rank: 0 });
  }
  const may = keywordIndex(plan.detectors).mayMatch(text);
  plan.detectors.forEach((d, i) => {
    if (may[i] === 1) runDetector(d, i + 1, text, spans);
  });
  return mergeSpans(spans);
}

/** One keyword index per detector list (a scanner's plan keeps its list for its life). */
const indexes = new WeakMap<readonly Detector[], KeywordIndex>();
function keywordIndex(detectors: readonly Detector[]): KeywordIndex {
  let index = indexes.get(detectors);
  if (!index) indexes.set(detectors, (index = new KeywordIndex(detectors)));
  return index;
}

function runDetector(d: Detector, rank: number, text: string, out: Span[]): void {
  const re = d.regex;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    let start = m.index;
    let end = start + m[0].length;
    if (re.hasIndices) {
      const group = m.indices?.groups?.['secret'];
      if (!group) {
        re.lastIndex = m.index + 1;
        continue;
      }
      [start, end] = group;
    }
    if (end === start || (d.validate && !d.validate(text.slice(start, end), { text, start, end }))) {
      // Look again inside the rejected candidate, not past it: a decoy in front of a real token
      // must not hide it. From its `secret` group on, since the context before the group (a
      // name, `scheme://user:`) cannot hold the start of another match.
      re.lastIndex = Math.max(m.index + 1, start);
      continue;
    }
    out.push({ detector: d.id, start, end, rank, ...(d.confidence === 'low' ? { weak: true } : {}) });
  }
}

/**
 * Overlapping spans become one, covering both, named after the higher-ranked detector.
 * Spans that only touch stay apart: they are two secrets side by side. A weak (guessed) span
 * that overlaps a specific one is dropped instead: the specific detector knows where its
 * credential ends, while a guess like `access-token:<value>` inside
 * `https://x-access-token:<password>@host/path` would swallow the host and path.
 */
export function mergeSpans(spans: Span[]): Span[] {
  if (spans.length < 2) return spans;
  const strong = union(spans.filter((s) => !s.weak));
  if (strong.length === spans.length) return strong;
  const weak = union(spans.filter((s) => s.weak));
  // Both lists are sorted and free of overlaps within themselves: one pass keeps the weak
  // spans that touch no strong one.
  const kept: Span[] = [];
  let j = 0;
  for (const w of weak) {
    while (j < strong.length && strong[j]!.end <= w.start) j++;
    if (j === strong.length || strong[j]!.start >= w.end) kept.push(w);
  }
  return kept.length === 0 ? strong : [...strong, ...kept].sort((a, b) => a.start - b.start);
}

function union(spans: Span[]): Span[] {
  if (spans.length < 2) return spans;
  spans.sort((a, b) => a.start - b.start || b.end - a.end || a.rank - b.rank);
  const out: Span[] = [];
  let cur = spans[0]!;
  for (let i = 1; i < spans.length; i++) {
    const s = spans[i]!;
    if (s.start < cur.end) {
      const winner = s.rank < cur.rank ? s : cur;
      cur = { ...winner, start: cur.start, end: Math.max(cur.end, s.end) };
    } else {
      out.push(cur);
      cur = s;
    }
  }
  out.push(cur);
  return out;
}

/** The marker a secret is replaced with. */
export function redactionMarker(detector: string): string {
  return `[REDACTED:${detector}]`;
}

/** `text` with each span (merged, in order) replaced by its marker. */
export function redactSpans(text: string, spans: readonly Span[]): string {
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + redactionMarker(s.detector);
    at = s.end;
  }
  return out + text.slice(at);
}
