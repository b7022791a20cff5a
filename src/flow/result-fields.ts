/** Deeper nesting than this is not split: real tool results are far shallower. */
const MAX_DEPTH = 64;
// Parsing JSON held in a string costs memory proportional to it; larger ones stay text.
const MAX_EMBEDDED_JSON = 4 * 1024 * 1024;
/** A `name: value` line of YAML-like text (`- subject: rent`, `  subject: rent`). */
export const FIELD_LINE = /^\s*(?:-\s+)?([A-Za-z_][\w.-]{0,63})\s*:\s?(.*)$/;
/** A list item of YAML-like text: `- value`. */
const ITEM_LINE = /^\s*-\s+(.*)$/;
/**
 * From this many words on, a value is prose: someone's writing, not an identifier, a number or
 * a name (`External_0`, `Spotify Premium`, `2022-03-01`), which is what a directory or a ledger
 * itself vouches for.
 */
export const PROSE_WORDS = 4;

/** What to take out of a result: named fields, and (`prose`) any value that reads as prose. */
export interface FieldRule {
  readonly fields: ReadonlySet<string>;
  readonly prose?: boolean;
  /**
   * Fail closed where the structure is unclear: a unit of text that is not one of the fields yet
   * holds a line that reads as one (`subject: …` under a first line the splitter could not read
   * as a record, such as `<<- amount: 10`) goes out whole. For the side that goes out as
   * untrusted (`untrustedFields`), never for the side that goes out trusted.
   */
  readonly takeAmbiguous?: boolean;
}


/**
 * Splits a tool result in two: the values of the named fields (and, with `prose`, every value
 * that reads as prose) go out as strings; the rest keeps its shape, the values taken blanked, so
 * party fields stay recognisable. The flow tracker reads the two parts with different trust:
 * `untrustedFields` of a trusted tool (the subject a payer typed) and `untrustedProse` go out as
 * outside text; `trustedFields` of an untrusted tool (the sender the platform recorded) go out as
 * vouched for.
 *
 * Fields are found as JSON properties anywhere in the value, in JSON held in a string, and as
 * `name: value` lines of YAML-like text, with the lines such a value continues on.
 */
export function splitFields(content: unknown, rule: FieldRule): { inside: unknown; outside: string[] } {
  const outside: string[] = [];
  const visit = (node: unknown, key: string | undefined, depth: number): unknown => {
    if (depth > MAX_DEPTH) return null;
    if (key !== undefined && rule.fields.has(key) && (typeof node === 'string' || typeof node === 'number')) {
      outside.push(String(node));
      return '';
    }
    if (typeof node === 'string') {
      const parsed = depth < 4 ? embeddedJson(node) : undefined;
      if (parsed !== undefined) return visit(parsed, key, depth + 1);
      // A text block (the whole result, an MCP `text`) may be a YAML-like document; the string
      // value of any other property is that property's value, whatever lines it holds.
      if (key === undefined || key === 'text') return splitLines(node, rule, outside);
      if (rule.prose === true && isProse(node)) {
        outside.push(node);
        return '';
      }
      return node;
    }
    if (Array.isArray(node)) return node.map((n) => visit(n, key, depth + 1));
    if (typeof node === 'object' && node !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = visit(v, k, depth + 1);
      return out;
    }
    return node;
  };
  return { inside: visit(content, undefined, 0), outside };
}

export const indentOf = (line: string): number => line.length - line.trimStart().length;

/**
 * YAML-like text, a unit at a time. A unit is a `name: value` line, a `- value` item or a plain
 * line, with the lines after it that are blank or indented deeper than where it starts (a long
 * value folded over several lines, a quoted or block scalar: in YAML a blank line inside one is a
 * line break of the value, so it does not end it). A unit whose head has no value and whose next
 * line is a field is a nested map, not a value: its lines are read as units of their own.
 */
function splitLines(text: string, rule: FieldRule, outside: string[]): string {
  if (!rule.prose && !text.includes(':')) return text;
  const lines = text.split('\n');
  const n = lines.length;
  let changed = false;
  // Linear in the text: every line is a unit's head once, or (skipped past) a value's line once.
  for (let i = 0; i < n; ) {
    const line = lines[i]!;
    if (line.trim() === '') {
      i++;
      continue;
    }
    const field = FIELD_LINE.exec(line);
    const item = field ? null : ITEM_LINE.exec(line);
    const head = field ? field[2]! : item ? item[1]! : line.trim();
    const column = field ? line.indexOf(field[1]!) : indentOf(line);
    if (head.trim() === '') {
      let next = i + 1;
      while (next < n && lines[next]!.trim() === '') next++;
      if (next < n && indentOf(lines[next]!) > column && FIELD_LINE.test(lines[next]!)) {
        // A nested map, not a value: its lines are units of their own.
        i++;
        continue;
      }
    }
    let end = i + 1;
    while (end < n && (lines[end]!.trim() === '' || indentOf(lines[end]!) > column)) end++;
    while (end > i + 1 && lines[end - 1]!.trim() === '') end--;
    const takes =
      (field !== null && rule.fields.has(field[1]!)) ||
      (rule.prose === true && isProse(head, ...lines.slice(i + 1, end))) ||
      (rule.takeAmbiguous === true && holdsField(lines, i + 1, end, rule.fields));
    if (takes) {
      for (const part of [head, ...lines.slice(i + 1, end)]) if (part.trim() !== '') outside.push(part.trim());
      lines[i] = line.slice(0, line.length - head.length);
      for (let j = i + 1; j < end; j++) lines[j] = '';
      changed = true;
    }
    // A value kept stays whole: lines it continues on are its text, never fields of their own
    // (a body cannot make itself a sender).
    i = end;
  }
  return changed ? lines.join('\n') : text;
}

/** Whether one of the lines from `start` to `end` reads as a `name: value` line of one of the fields. */
function holdsField(lines: readonly string[], start: number, end: number, fields: ReadonlySet<string>): boolean {
  for (let j = start; j < end; j++) {
    const f = FIELD_LINE.exec(lines[j]!);
    if (f && fields.has(f[1]!)) return true;
  }
  return false;
}

/** Whether the texts hold {@link PROSE_WORDS} words together; stops as soon as they do. */
function isProse(...texts: readonly string[]): boolean {
  let words = 0;
  for (const text of texts) for (const w of text.split(/\s+/)) if (w !== '' && ++words >= PROSE_WORDS) return true;
  return false;
}

/** A JSON object or array held in a string (an MCP text block), parsed; undefined when it is not one. */
export function embeddedJson(s: string): unknown {
  if (s.length < 2 || s.length > MAX_EMBEDDED_JSON) return undefined;
  const t = s.trim();
  if (!((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']')))) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}
