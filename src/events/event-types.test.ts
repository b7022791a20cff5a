import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EventInputSchema } from '../domain/event.js';
import { EVENT_TYPES, eventCode } from './event-types.js';

const types = Object.keys(EVENT_TYPES);

/** The types listed in the table of docs/events.md, with the number each row gives. */
function documentedTypes(): Map<string, number> {
  // dist/src/events/ → repository root.
  const text = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const row = /^\|\s*`([^`]+)`\s*\|\s*(\d+)\s*\|/.exec(line);
    if (row) found.set(row[1]!, Number(row[2]));
  }
  return found;
}

describe('EVENT_TYPES', () => {
  it('registers only types the event schema accepts', () => {
    const bad = types.filter((type) => !EventInputSchema.shape.type.safeParse(type).success);
    assert.deepEqual(bad, []);
  });

  it('gives every type its own stable number', () => {
    const numbers = Object.values(EVENT_TYPES).map((t) => t.code);
    assert.equal(new Set(numbers).size, numbers.length);
    assert.ok(numbers.every((n) => Number.isInteger(n) && n >= 1000 && n <= 9999));
  });

  it('codes an entry by type number and outcome', () => {
    assert.equal(eventCode('tool.call', 'success'), 'W4003I');
    assert.equal(eventCode('tool.deny', 'denied'), 'W4005W');
    assert.equal(eventCode('upstream.fail', 'failure'), 'W4006E');
    assert.throws(() => eventCode('tool.nope', 'success'), TypeError);
  });

  it('describes every type', () => {
    const bad = Object.entries(EVENT_TYPES)
      .filter(([, meaning]) => meaning.description.trim().length === 0)
      .map(([type]) => type);
    assert.deepEqual(bad, []);
  });
});

describe('docs/events.md', () => {
  const documented = documentedTypes();

  it('documents every registered event type', () => {
    assert.deepEqual(
      types.filter((type) => !documented.has(type)),
      [],
    );
  });

  it('documents no type that is not registered', () => {
    assert.deepEqual(
      [...documented.keys()].filter((type) => !Object.hasOwn(EVENT_TYPES, type)),
      [],
    );
  });

  it('documents each type with its registered number', () => {
    assert.deepEqual(
      Object.entries(EVENT_TYPES).filter(([type, t]) => documented.get(type) !== t.code).map(([type]) => type),
      [],
    );
  });
});
