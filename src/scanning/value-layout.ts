/**
 * Lays every string of a JSON value out as one text, so the detectors run once over the whole
 * value rather than once per string: a tool result holds hundreds of short strings, and
 * starting 30 regexes on each costs more than the scan itself.
 *
 * Members are written `name: value`, one per line, the way a config file or a log would show
 * them. That gives the detectors the context they have in text: `{"SecretAccessKey": "…"}`,
 * `{"Authorization": "Bearer …"}` and `{"password": "…"}` read as the assignments they are.
 */

/** Where one string (a member name or a string value) sits in the laid-out text. */
export interface Segment {
  readonly start: number;
  readonly end: number;
}

export interface LayoutLimits {
  readonly maxDepth: number;
  readonly maxNodes: number;
  readonly maxChars: number;
}

/** A limit was reached; `at` is the trail of member names and indexes leading there. */
export class LayoutLimitReached {
  constructor(readonly at: readonly (string | number)[]) {}
}

export interface Layout {
  readonly text: string;
  /** One per member name and string value, in walk order (names before their values). */
  readonly segments: readonly Segment[];
}

/**
 * Walks `value` depth-first — arrays in order, object members in `Object.keys` order — and
 * returns the text and its segments. The walk that later rebuilds the value visits the strings
 * in this same order, which is how segments find their way back to their strings.
 */
export function layOut(value: unknown, limits: LayoutLimits): Layout {
  const parts: string[] = [];
  const segments: Segment[] = [];
  const trail: (string | number)[] = [];
  let length = 0;
  let nodes = 0;

  const put = (s: string): void => {
    parts.push(s);
    length += s.length;
    if (length > limits.maxChars) throw new LayoutLimitReached([...trail]);
  };
  const putSegment = (s: string): void => {
    const start = length;
    put(s);
    segments.push({ start, end: length });
  };

  const walk = (v: unknown, depth: number): void => {
    if (++nodes > limits.maxNodes) throw new LayoutLimitReached([...trail]);
    switch (typeof v) {
      case 'string':
        putSegment(v);
        put('\n');
        return;
      case 'number':
      case 'boolean':
      case 'undefined': // absent optional members of objects built in code (JSON.stringify drops them)
        put('\n');
        return;
      case 'object':
        break;
      default:
        throw new TypeError(`scanValue takes JSON values, not ${typeof v}`);
    }
    if (v === null) {
      put('\n');
      return;
    }
    // Checked before descending, so recursion — and the stack — stays within maxDepth.
    if (depth >= limits.maxDepth) throw new LayoutLimitReached([...trail]);
    if (Array.isArray(v)) {
      put('\n');
      for (let i = 0; i < v.length; i++) {
        trail.push(i);
        walk(v[i], depth + 1);
        trail.pop();
      }
      return;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError('scanValue takes JSON values: plain objects, arrays, strings, numbers, booleans, null');
    }
    put('\n');
    const o = v as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      trail.push(key);
      putSegment(key);
      put(': ');
      walk(o[key], depth + 1);
      trail.pop();
    }
  };

  walk(value, 0);
  return { text: parts.join(''), segments };
}
