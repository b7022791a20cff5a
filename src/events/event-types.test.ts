import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EventInputSchema } from '../domain/event.js';
import { EVENT_TYPES } from './event-types.js';

const types = Object.keys(EVENT_TYPES);

/** The types listed in the table of docs/events.md. */
function documentedTypes(): Set<string> {
  // dist/src/events/ → repository root.
  const text = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
  const found = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^\|\s*`([^`]+)`\s*\|/.exec(line)?.[1];
    if (type) found.add(type);
  }
  return found;
}

describe('EVENT_TYPES', () => {
  it('registers only types the event schema accepts', () => {
    const bad = types.filter((type) => !EventInputSchema.shape.type.safeParse(type).success);
    assert.deepEqual(bad, []);
  });

  it('describes every type', () => {
    const bad = Object.entries(EVENT_TYPES)
      .filter(([, meaning]) => meaning.trim().length === 0)
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
      [...documented].filter((type) => !Object.hasOwn(EVENT_TYPES, type)),
      [],
    );
  });
});
