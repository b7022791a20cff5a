/**
 * Records the person pointed at. An untrusted tool's result is often a list of records (messages,
 * comments, tickets), each with fields the system itself records: who wrote it, where it was
 * posted. When the person's request names the value of such a field ("summarize the notes
 * Ana posted", "the links posted to #releases"), that record is what the person sent the
 * agent to read, and what it says counts as the person's, not as outside text an injection
 * slipped in: the person vouched for it by naming its author or its place.
 *
 * {@link splitAnchoredRecords} takes those records out of a result; the flow tracker reads them
 * as trusted and the rest as before. Only fields the label names (`anchorFields`) anchor a
 * record, and only the record's own fields: a field written inside another value (a body
 * that says `sender: Ana`) is the value's text, not a field.
 */

import { FIELD_LINE, embeddedJson, indentOf } from './result-fields.js';

/** Deeper nesting than this is not looked into: real tool results are far shallower. */
const MAX_DEPTH = 64;
/** The head of a list item of YAML-like text. */
const ITEM_LINE = /^(\s*)-(?:\s|$)/;

/** What anchors a record: the fields to look at, and whether the person named a value. */
export interface AnchorRule {
  readonly fields: ReadonlySet<string>;
  readonly named: (value: string) => boolean;
}

/**
 * Splits a result in two: the records anchored by the rule (JSON objects in an array, items of a
 * YAML-like list), as they were, and the rest, with those records blanked out (`null` in an
 * array, empty lines in text). A record whose anchor field appears twice is ambiguous and is
 * not anchored.
 */
export function splitAnchoredRecords(content: unknown, rule: AnchorRule): { anchored: unknown[]; rest: unknown } {
  const anchored: unknown[] = [];
  const visit = (node: unknown, key: string | undefined, depth: number): unknown => {
    if (depth > MAX_DEPTH) return node;
    if (typeof node === 'string') {
      const parsed = depth < 4 ? embeddedJson(node) : undefined;
      if (parsed !== undefined) {
        const before = anchored.length;
        const rest = visit(parsed, key, depth + 1);
        return anchored.length === before ? node : JSON.stringify(rest);
      }
      // A text block (the whole result, an MCP `text`) may be a YAML-like list of records.
      if (key === undefined || key === 'text') return splitTextRecords(node, rule, anchored);
      return node;
    }
    if (Array.isArray(node)) {
      return node.map((item) => {
        if (isRecord(item) && anchors(item, rule)) {
          anchored.push(item);
          return null;
        }
        return visit(item, key, depth + 1);
      });
    }
    if (isRecord(node)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = visit(v, k, depth + 1);
      return out;
    }
    return node;
  };
  const rest = visit(content, undefined, 0);
  return { anchored, rest: anchored.length === 0 ? content : rest };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function anchors(record: Record<string, unknown>, rule: AnchorRule): boolean {
  for (const field of rule.fields) {
    if (!Object.hasOwn(record, field)) continue;
    const v = record[field];
    if ((typeof v === 'string' || typeof v === 'number') && rule.named(String(v))) return true;
  }
  return false;
}

/**
 * The items of a YAML-like list that the rule anchors: an item is a `- ` line and the lines
 * after it that are blank or indented deeper; its own fields are the `name: value` lines at the
 * column of its first field (the head's, `- sender: Ana`, or the first line under a bare `-`).
 * Lines deeper than that continue a value. Items inside an item are part of it. Linear in the
 * text: each line is read once as part of one item or skipped past.
 */
function splitTextRecords(text: string, rule: AnchorRule, anchored: unknown[]): string {
  if (!text.includes('-') || !text.includes(':')) return text;
  const lines = text.split('\n');
  const n = lines.length;
  let changed = false;
  for (let i = 0; i < n; ) {
    const item = ITEM_LINE.exec(lines[i]!);
    if (!item) {
      i++;
      continue;
    }
    const column = item[1]!.length;
    let end = i + 1;
    while (end < n && (lines[end]!.trim() === '' || indentOf(lines[end]!) > column)) end++;
    while (end > i + 1 && lines[end - 1]!.trim() === '') end--;
    if (itemAnchors(lines, i, end, rule)) {
      anchored.push(lines.slice(i, end).join('\n'));
      for (let j = i; j < end; j++) lines[j] = '';
      changed = true;
    }
    i = end;
  }
  return changed ? lines.join('\n') : text;
}

function itemAnchors(lines: readonly string[], start: number, end: number, rule: AnchorRule): boolean {
  // The column of the item's fields: where the head's field name starts, or the first line under it.
  let fieldColumn = -1;
  const head = FIELD_LINE.exec(lines[start]!);
  // Only blanks and `- ` come before the name, so its first occurrence is where it starts.
  if (head) fieldColumn = lines[start]!.indexOf(head[1]!);
  else if (lines[start]!.trim() !== '-') return false; // `- a plain value`: not a record
  const seen = new Map<string, string>();
  let ambiguous = false;
  const take = (name: string, value: string) => {
    if (!rule.fields.has(name)) return;
    if (seen.has(name)) ambiguous = true;
    seen.set(name, unquote(value.trim()));
  };
  if (head) take(head[1]!, head[2]!);
  for (let j = start + 1; j < end; j++) {
    const line = lines[j]!;
    if (line.trim() === '') continue;
    const col = indentOf(line);
    if (fieldColumn === -1) fieldColumn = col;
    if (col !== fieldColumn) continue; // deeper: a value's continuation or a nested structure
    if (line.trimStart().startsWith('-')) continue; // a list under one of its fields
    const field = FIELD_LINE.exec(line);
    if (!field) return false; // text where a field should be: not a record
    take(field[1]!, field[2]!);
  }
  if (ambiguous) return false;
  for (const value of seen.values()) if (value !== '' && rule.named(value)) return true;
  return false;
}

function unquote(v: string): string {
  if (v.length >= 2 && ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"')))) return v.slice(1, -1);
  return v;
}
