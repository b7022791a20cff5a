/**
 * Visits the leaves of a JSON value: strings and numbers, with the name of the property they
 * sit under (an array element inherits its array's name) and their path. Object keys are not
 * leaves: they are the tool's vocabulary, not content. A string that holds a JSON document
 * (an MCP text block wrapping a JSON result) is parsed and walked too, so its structure — who
 * is the `sender` — is not lost; its leaves keep the path of that string, which is what the
 * caller can address.
 */

/** Deeper nesting than this is not walked: real tool results are far shallower. */
export const MAX_DEPTH = 64;

// Parsing JSON held in a string costs memory proportional to it; larger ones are scanned as text.
const MAX_EMBEDDED_JSON = 4 * 1024 * 1024;

/**
 * @returns false to stop the walk
 */
export type LeafVisitor = (leaf: string | number, key: string | undefined, path: string) => boolean;

/** Walks `input`; stops early when `visit` returns false. */
export function walkLeaves(input: unknown, visit: LeafVisitor): void {
  walk(input, undefined, '', 0, true, visit);
}

function walk(node: unknown, key: string | undefined, path: string, depth: number, parseStrings: boolean, visit: LeafVisitor): boolean {
  if (depth > MAX_DEPTH) return true;
  if (typeof node === 'string') {
    // Only the outermost string is parsed: JSON inside JSON inside a string is not worth the cost.
    const parsed = parseStrings ? embeddedJson(node) : undefined;
    if (parsed !== undefined) return walk(parsed, key, path, depth + 1, false, visit);
    return visit(node, key, path);
  }
  if (typeof node === 'number') return Number.isFinite(node) ? visit(node, key, path) : true;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      if (!walk(node[i], key, parseStrings ? `${path}[${i}]` : path, depth + 1, parseStrings, visit)) return false;
    }
    return true;
  }
  if (isPlainObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (!walk(v, k, parseStrings ? joinPath(path, k) : path, depth + 1, parseStrings, visit)) return false;
    }
  }
  return true;
}

/** `a.b`, `a["odd key"]`: identifier-like names dotted, others quoted. */
export function joinPath(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

function embeddedJson(s: string): unknown {
  if (s.length < 2 || s.length > MAX_EMBEDDED_JSON) return undefined;
  const first = s.trimStart()[0];
  const last = s.trimEnd().at(-1);
  if (!((first === '{' && last === '}') || (first === '[' && last === ']'))) return undefined;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
