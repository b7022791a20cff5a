import { DETECTORS, DETECTOR_IDS, type Detector } from './detectors.js';
import {
  findSecrets,
  redactSpans,
  redactionMarker,
  SCAN_LIMIT_DETECTOR,
  type SearchPlan,
  type Span,
} from './find-secrets.js';
import { compileKnownValues, isKnownValues, type KnownValueEncoding, type KnownValues } from './known-values.js';
import { extraPatternDetector, type ExtraPattern, type ScanMode, type ScanningConfig } from './scanning-config.js';
import { layOut, LayoutLimitReached, type Layout, type Segment } from './value-layout.js';

/**
 * One secret found. It never holds the secret nor any part or digest of it, so findings can go
 * to the audit log as they are: where (JSON pointer and offsets) and what kind (detector).
 */
export interface Finding {
  /** A built-in detector id, a configured pattern id, `known-value` or `scan-limit`. */
  readonly detector: string;
  /**
   * RFC 6901 JSON pointer to the string holding the secret (`''` for `scanText`). Built from
   * the redacted member names, so a secret used as a key does not reappear here.
   */
  readonly path: string;
  /** `key` when the secret is in the member name at `path`, not in its value. */
  readonly part: 'value' | 'key';
  /** UTF-16 offsets in that string; both 0 for a `scan-limit` finding. */
  readonly start: number;
  readonly end: number;
  /** For `known-value`: how the value was spelled where it was found. */
  readonly encoding?: KnownValueEncoding;
}

/**
 * `pass`: nothing found (or mode `off`) — `redacted` is the input itself.
 * `redact`: forward `redacted`. `block`: refuse the whole message (mode `block`, or a limit was
 * hit, which blocks in every mode but `off`: unscanned content must not pass).
 */
export type ScanAction = 'pass' | 'redact' | 'block';

/**
 * The outcome of a scan. The input is never changed; `redacted` shares every subtree that
 * held no secret with the input (copy-on-write), so treat both as read-only. After a limit
 * was hit `redacted` is just the `scan-limit` marker: nothing partial is handed out.
 */
export type ScanResult<T> =
  | { readonly action: 'pass' | 'redact'; readonly findings: readonly Finding[]; readonly redacted: T }
  | { readonly action: 'block'; readonly findings: readonly Finding[]; readonly redacted: unknown };

/** The outcome of scanning one string. */
export interface TextScanResult {
  readonly action: ScanAction;
  readonly findings: readonly Finding[];
  readonly redacted: string;
}

/** Bounds on one scan, so a hostile message costs bounded time and stack. */
export interface ScanLimits {
  /** Nesting of arrays and objects below the root. */
  readonly maxDepth: number;
  /** Values visited (strings, numbers, containers …). */
  readonly maxNodes: number;
  /** UTF-16 code units scanned in total: strings, member names and the layout's separators. */
  readonly maxChars: number;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = { maxDepth: 64, maxNodes: 200_000, maxChars: 32 * 1024 * 1024 };

export interface ScannerOptions {
  /** Default `redact`. */
  readonly mode?: ScanMode;
  /** Built-in detector ids not to run. */
  readonly disabled?: readonly string[];
  /** Validated by {@link ScanningConfigSchema}; run after the built-ins. */
  readonly extraPatterns?: readonly ExtraPattern[];
  /** The secrets Warden injected: a compiled set (reuse it), or the values to compile now. */
  readonly knownValues?: KnownValues | Iterable<string>;
  readonly limits?: Partial<ScanLimits>;
}

export interface Scanner {
  readonly mode: ScanMode;
  /** Scans one string (an HTTP body, a log line). */
  scanText(text: string): TextScanResult;
  /**
   * Walks a JSON value — an MCP tool result `{ content: [{ type: 'text', text }], structuredContent }`,
   * tool arguments, a parsed HTTP body — and scans every string and every member name.
   * Throws `TypeError` for values JSON cannot hold (functions, Maps, Dates, bigints …).
   */
  scanValue<T>(value: T): ScanResult<T>;
}

const LIMIT_MARKER = redactionMarker(SCAN_LIMIT_DETECTOR);

/**
 * Makes a scanner. Detectors compile once, here; build one scanner per configuration and set
 * of known values and reuse it — scans are synchronous and keep no state between calls.
 */
export function createScanner(options: ScannerOptions = {}): Scanner {
  const mode = options.mode ?? 'redact';
  const disabled = new Set(options.disabled ?? []);
  for (const id of disabled) if (!DETECTOR_IDS.includes(id)) throw new TypeError(`unknown detector id in disabled: ${id}`);
  const builtIns = DETECTORS.filter((d) => !disabled.has(d.id));
  const extras = (options.extraPatterns ?? []).map(extraPatternDetector);
  // Priority when findings overlap: known values, specific built-ins, configured patterns,
  // and the low-confidence guesses last.
  const detectors: Detector[] = [...builtIns.filter((d) => d.confidence !== 'low'), ...extras, ...builtIns.filter((d) => d.confidence === 'low')];
  const known = options.knownValues === undefined ? undefined : isKnownValues(options.knownValues) ? options.knownValues : compileKnownValues(options.knownValues);
  const plan: SearchPlan = { detectors, knownValues: known };
  const limits: ScanLimits = { ...DEFAULT_SCAN_LIMITS, ...options.limits };

  const decide = (findings: readonly Finding[]): ScanAction => (findings.length === 0 ? 'pass' : mode === 'block' ? 'block' : 'redact');

  return {
    mode,
    scanText(text: string): TextScanResult {
      if (typeof text !== 'string') throw new TypeError('scanText takes a string');
      if (mode === 'off') return { action: 'pass', findings: [], redacted: text };
      if (text.length > limits.maxChars) return { action: 'block', findings: [limitFinding('')], redacted: LIMIT_MARKER };
      const spans = findSecrets(text, plan);
      const findings = spans.map((s) => toFinding(s, '', 'value'));
      return { action: decide(findings), findings, redacted: spans.length === 0 ? text : redactSpans(text, spans) };
    },
    scanValue<T>(value: T): ScanResult<T> {
      if (mode === 'off') return { action: 'pass', findings: [], redacted: value };
      let layout: Layout;
      try {
        layout = layOut(value, limits);
      } catch (err) {
        if (!(err instanceof LayoutLimitReached)) throw err;
        return { action: 'block', findings: [limitFinding(limitPath(err.at, plan))], redacted: LIMIT_MARKER };
      }
      const spans = findSecrets(layout.text, plan);
      if (spans.length === 0) return { action: 'pass', findings: [], redacted: value };
      const rebuild = new Rebuild(layout.segments, spans);
      const redacted = rebuild.value(value) as T;
      return { action: decide(rebuild.findings), findings: rebuild.findings, redacted } as ScanResult<T>;
    },
  };
}

/** A results scanner and an arguments scanner for one configuration and one set of known values. */
export function createScanners(config: ScanningConfig, knownValues?: KnownValues | Iterable<string>): { results: Scanner; arguments: Scanner } {
  const known = knownValues === undefined || isKnownValues(knownValues) ? knownValues : compileKnownValues(knownValues);
  const common = { disabled: config.disabled, extraPatterns: config.extraPatterns, ...(known ? { knownValues: known } : {}) };
  return { results: createScanner({ ...common, mode: config.results }), arguments: createScanner({ ...common, mode: config.arguments }) };
}

function toFinding(s: Span, path: string, part: Finding['part']): Finding {
  return { detector: s.detector, path, part, start: s.start, end: s.end, ...(s.encoding ? { encoding: s.encoding } : {}) };
}

function limitFinding(path: string): Finding {
  return { detector: SCAN_LIMIT_DETECTOR, path, part: 'value', start: 0, end: 0 };
}

/** RFC 6901 §3: `~` is written `~0` and `/` is written `~1` in a reference token. */
function pointer(trail: readonly (string | number)[]): string {
  let out = '';
  for (const t of trail) out += `/${typeof t === 'number' ? t : t.replaceAll('~', '~0').replaceAll('/', '~1')}`;
  return out;
}

/** The pointer to where a limit was hit, with any secret in the member names on the way redacted. */
function limitPath(trail: readonly (string | number)[], plan: SearchPlan): string {
  return pointer(trail.map((t) => (typeof t === 'number' ? t : redactSpans(t, findSecrets(t, plan)))));
}

/**
 * Rebuilds a value with its secrets redacted, walking it in the order {@link layOut} did so
 * that the n-th string visited is the n-th segment. Copy-on-write: a container is copied only
 * when something inside it changed.
 */
class Rebuild {
  readonly findings: Finding[] = [];
  private next = 0;
  /** First span that may still reach the current segment (spans are sorted, disjoint). */
  private first = 0;
  /** Redacted member names and indexes from the root to here, for pointers. */
  private readonly trail: (string | number)[] = [];

  constructor(
    private readonly segments: readonly Segment[],
    private readonly spans: readonly Span[],
  ) {}

  value(v: unknown): unknown {
    if (typeof v === 'string') return this.string(v);
    if (typeof v !== 'object' || v === null) return v;
    return Array.isArray(v) ? this.array(v) : this.object(v as Record<string, unknown>);
  }

  /** The spans over the next segment, clipped to it and made relative to its start. */
  private nextSpans(): Span[] {
    const seg = this.segments[this.next++];
    if (!seg) throw new TypeError('the value changed while it was being scanned');
    const { spans } = this;
    while (this.first < spans.length && spans[this.first]!.end <= seg.start) this.first++;
    const out: Span[] = [];
    for (let j = this.first; j < spans.length && spans[j]!.start < seg.end; j++) {
      const s = spans[j]!;
      const start = Math.max(s.start, seg.start);
      const end = Math.min(s.end, seg.end);
      if (end > start) out.push({ ...s, start: start - seg.start, end: end - seg.start });
    }
    return out;
  }

  private string(s: string): string {
    const spans = this.nextSpans();
    if (spans.length === 0) return s;
    const path = pointer(this.trail);
    for (const span of spans) this.findings.push(toFinding(span, path, 'value'));
    return redactSpans(s, spans);
  }

  private array(a: readonly unknown[]): unknown[] {
    let out: unknown[] | undefined;
    for (let i = 0; i < a.length; i++) {
      this.trail.push(i);
      const r = this.value(a[i]);
      this.trail.pop();
      if (out === undefined && !Object.is(r, a[i])) out = a.slice(0, i);
      out?.push(r);
    }
    return out ?? (a as unknown[]);
  }

  private object(o: Record<string, unknown>): Record<string, unknown> {
    let changed = false;
    const entries: [string, unknown][] = [];
    const names = new Set<string>();
    for (const key of Object.keys(o)) {
      // A secret can be smuggled out as a member name as easily as in a value.
      const keySpans = this.nextSpans();
      let name = key;
      if (keySpans.length > 0) {
        changed = true;
        const redacted = redactSpans(key, keySpans);
        // Two members may redact to the same name: number the later ones rather than drop them.
        name = redacted;
        for (let n = 2; names.has(name) || Object.hasOwn(o, name); n++) name = `${redacted}#${n}`;
        const path = pointer([...this.trail, name]);
        for (const span of keySpans) this.findings.push(toFinding(span, path, 'key'));
      }
      names.add(name);
      const v = o[key];
      this.trail.push(name);
      const r = this.value(v);
      this.trail.pop();
      if (!Object.is(r, v)) changed = true;
      entries.push([name, r]);
    }
    if (!changed) return o;
    const out: Record<string, unknown> = {};
    // defineProperty, not assignment: a member named __proto__ must stay a member.
    for (const [name, r] of entries) Object.defineProperty(out, name, { value: r, enumerable: true, writable: true, configurable: true });
    return out;
  }
}
