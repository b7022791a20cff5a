/** Deeper nesting than this is not split: real tool results are far shallower. */
const MAX_DEPTH = 64;
// Parsing JSON held in a string costs memory proportional to it; larger ones stay text.
const MAX_EMBEDDED_JSON = 4 * 1024 * 1024;
/** A `name: value` line of YAML-like text (`- subject: rent`, `  subject: rent`). */
const FIELD_LINE = /^\s*(?:-\s+)?([A-Za-z_][\w.-]{0,63})\s*:\s?(.*)$/;

/**
 * Splits a result of a trusted tool into what the tool itself vouches for and the text of the
 * fields others wrote (`labels.untrustedFields`: the subject a payer typed, a message body).
 * Fields are found as JSON properties anywhere in the value, in JSON held in a string, and as
 * `name: value` lines of YAML-like text. What is split out is returned as strings; the rest
 * keeps its shape (the split-out values blanked), so party fields stay recognisable.
 */
export function splitUntrustedFields(content: unknown, fields: ReadonlySet<string>): { inside: unknown; outside: string[] } {
  const outside: string[] = [];
  const visit = (node: unknown, key: string | undefined, depth: number): unknown => {
    if (depth > MAX_DEPTH) return null;
    if (key !== undefined && fields.has(key) && (typeof node === 'string' || typeof node === 'number')) {
      outside.push(String(node));
      return '';
    }
    if (typeof node === 'string') {
      const parsed = depth < 4 ? embeddedJson(node) : undefined;
      return parsed !== undefined ? visit(parsed, key, depth + 1) : splitLines(node, fields, outside);
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

/**
 * YAML-like text: a matching `name: value` line goes out, and so do the lines after it indented
 * deeper than its name (a long value folded over several lines, or a block scalar).
 */
function splitLines(text: string, fields: ReadonlySet<string>, outside: string[]): string {
  if (!text.includes(':')) return text;
  let changed = false;
  let within = -1; // column of the current field's name, while its value continues
  const lines = text.split('\n').map((line) => {
    const indent = line.length - line.trimStart().length;
    if (within >= 0 && line.trim() !== '' && indent > within) {
      outside.push(line.trim());
      return '';
    }
    within = -1;
    const m = FIELD_LINE.exec(line);
    if (!m || !fields.has(m[1]!)) return line;
    outside.push(m[2]!);
    changed = true;
    within = line.indexOf(m[1]!);
    return line.slice(0, line.length - m[2]!.length);
  });
  return changed ? lines.join('\n') : text;
}

function embeddedJson(s: string): unknown {
  if (s.length < 2 || s.length > MAX_EMBEDDED_JSON) return undefined;
  const t = s.trim();
  if (!((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']')))) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}
