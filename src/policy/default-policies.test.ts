import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SHIPPED_POLICY_DIR } from './policy-service.js';
import { runPolicyTestFile } from './policy-tests.js';
import { readPolicyDir } from './policy-set.js';

describe('the shipped policy set', () => {
  it('passes every case of its own test file', async () => {
    const files = await readPolicyDir(SHIPPED_POLICY_DIR);
    const text = readFileSync(join(SHIPPED_POLICY_DIR, 'default.test.yaml'), 'utf8');
    const { results, problems } = runPolicyTestFile('default.test.yaml', text, files, []);
    assert.deepEqual(problems, []);
    assert.ok(results.length >= 10);
    for (const r of results) assert.ok(r.passed, `${r.name}: expected ${r.expected}, got ${r.actual}`);
  });

  it('reports a case whose expectation is wrong as failed, with what happened', async () => {
    const files = await readPolicyDir(SHIPPED_POLICY_DIR);
    const text = `tools:\n  - { name: a.read, risk: low }\ncases:\n  - { name: wrong, action: a.read, expect: deny }\n`;
    const { results } = runPolicyTestFile('wrong.yaml', text, files, []);
    assert.equal(results[0]?.passed, false);
    assert.equal(results[0]?.actual, 'allow by low-risk-runs');
  });
});
