import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CatalogToolSchema } from '../config/schema.js';
import { explain } from './explain.js';
import { PolicyEngine } from './engine.js';
import { decide, toCedarRequest, PolicyRequestSchema } from './policy-tests.js';

const tools = [
  CatalogToolSchema.parse({ name: 'bank.transfer', risk: 'high', inputSchema: { type: 'object', properties: { amount: { type: 'number' }, iban: { type: 'string' }, count: { type: 'integer' } }, required: ['amount'] } }),
  CatalogToolSchema.parse({ name: 'docs.read', risk: 'low', inputSchema: { type: 'object', properties: { path: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } } } }),
];
const req = (r: Record<string, unknown>) => PolicyRequestSchema.parse(r);

function engineWith(text: string): PolicyEngine {
  const e = new PolicyEngine(tools);
  const r = e.install([{ name: 'p.cedar', text }]);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return e;
}

/** A corpus in Cedar's style: request → expected decision and deciding policies. */
const CORPUS: { name: string; policies: string; request: Record<string, unknown>; expect: string; deciding: string[] }[] = [
  {
    name: 'no permit means deny',
    policies: '@id("other") permit(principal, action == Warden::Action::"docs.read", resource);',
    request: { action: 'bank.transfer', args: { amount: 1 } },
    expect: 'deny',
    deciding: [],
  },
  {
    name: 'a forbid overrides a permit and is named',
    policies: '@id("all") permit(principal, action, resource);\n@id("big") forbid(principal, action == Warden::Action::"bank.transfer", resource) when { context.args.amount.greaterThan(decimal("1000.0")) };',
    request: { action: 'bank.transfer', args: { amount: 1000.01 } },
    expect: 'deny',
    deciding: ['big'],
  },
  {
    name: 'decimal arguments compare as numbers',
    policies: '@id("all") permit(principal, action, resource);\n@id("big") forbid(principal, action == Warden::Action::"bank.transfer", resource) when { context.args.amount.greaterThan(decimal("1000.0")) };',
    request: { action: 'bank.transfer', args: { amount: 999.5 } },
    expect: 'allow',
    deciding: ['all'],
  },
  {
    name: 'set arguments support containsAny',
    policies: '@id("public") permit(principal, action == Warden::Action::"docs.read", resource) when { context.args has tags && context.args.tags.contains("public") };',
    request: { action: 'docs.read', args: { tags: ['public', 'x'] } },
    expect: 'allow',
    deciding: ['public'],
  },
  {
    name: 'agent attributes decide',
    policies: '@id("minimal-only") permit(principal, action, resource) when { principal.riskCategory == "minimal" };',
    request: { action: 'docs.read', agent: { riskCategory: 'high' } },
    expect: 'deny',
    deciding: [],
  },
  {
    name: 'time of day is in the context',
    policies: '@id("office-hours") permit(principal, action, resource) when { context.time.hour >= 9 && context.time.hour < 17 };',
    request: { action: 'docs.read', time: '2026-11-23T20:00:00Z' },
    expect: 'deny',
    deciding: [],
  },
];

describe('policy engine', () => {
  for (const c of CORPUS) {
    it(`decides: ${c.name}`, () => {
      const d = decide(engineWith(c.policies), req(c.request));
      assert.equal(d.kind, c.expect);
      assert.deepEqual([...d.policies].sort(), c.deciding);
    });
  }

  it('keeps the running set deciding when a reload brings a file that does not parse', () => {
    const e = engineWith('@id("reads") permit(principal, action == Warden::Action::"docs.read", resource);');
    const before = e.revision;
    const bad = e.install([{ name: 'broken.cedar', text: 'permit(principal, action, resource)\nwhen { context.args.amount > };' }]);
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.problems[0]!.file === 'broken.cedar' && bad.problems[0]!.line === 2, JSON.stringify(!bad.ok && bad.problems));
    assert.equal(e.revision, before);
    assert.equal(decide(e, req({ action: 'docs.read' })).kind, 'allow');
  });

  it('refuses a set that does not validate against the catalog schema, naming file, line and policy', () => {
    const e = new PolicyEngine(tools);
    const r = e.install([{ name: 'typo.cedar', text: '\n\n@id("typo") permit(principal, action == Warden::Action::"docs.read", resource) when { context.args.pathh == "x" };' }]);
    assert.equal(r.ok, false);
    const p = !r.ok ? r.problems[0]! : undefined;
    assert.equal(p?.file, 'typo.cedar');
    assert.equal(p?.line, 3);
    assert.equal(p?.policy, 'typo');
    assert.match(p?.message ?? '', /pathh/);
  });

  it('refuses a bad @approval annotation and an approval on a forbid', () => {
    const e = new PolicyEngine(tools);
    const r = e.install([{ name: 'a.cedar', text: '@approval("many") permit(principal, action, resource);\n@approval("1") forbid(principal, action, resource);' }]);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.problems.length, 2);
  });

  it('answers "could not evaluate" when a policy errors, and that denies', () => {
    // Passes validation, overflows at run time for large counts.
    const e = engineWith('@id("all") permit(principal, action, resource);\n@id("overflow") forbid(principal, action == Warden::Action::"bank.transfer", resource) when { context.args has count && context.args.count * 9223372036854775807 > 0 };');
    const d = decide(e, req({ action: 'bank.transfer', args: { amount: 1, count: 2 } }));
    assert.equal(d.kind, 'failed');
    assert.deepEqual(d.errors.map((x) => x.policy), ['overflow']);
    assert.equal(decide(e, req({ action: 'bank.transfer', args: { amount: 1 } })).kind, 'allow');
  });

  it('takes the strictest approval among the permits that hold', () => {
    const e = engineWith('@id("open") permit(principal, action, resource);\n@id("two") @approval("2") permit(principal, action == Warden::Action::"bank.transfer", resource);\n@id("one") @approval("1") @approval_self("true") permit(principal, action == Warden::Action::"bank.transfer", resource);');
    const d = decide(e, req({ action: 'bank.transfer', args: { amount: 5 } }));
    assert.equal(d.kind, 'approval');
    assert.equal(d.approvals, 2);
    assert.deepEqual([...d.policies].sort(), ['one', 'two']);
    assert.equal(d.selfApproval, false, 'self-approval only when every asking policy allows it');
  });

  it('caches decisions under a fixed-size key, whatever the arguments weigh, and keeps different calls apart', () => {
    const e = engineWith('@id("all") permit(principal, action, resource);\n@id("big") forbid(principal, action == Warden::Action::"bank.transfer", resource) when { context.args.amount.greaterThan(decimal("1000.0")) };');
    const heavy = 'x'.repeat(512 * 1024);
    assert.equal(decide(e, req({ action: 'bank.transfer', args: { amount: 1, iban: heavy } })).kind, 'allow');
    assert.equal(decide(e, req({ action: 'bank.transfer', args: { amount: 2000, iban: heavy } })).kind, 'deny');
    assert.equal(decide(e, req({ action: 'bank.transfer', args: { amount: 1, iban: heavy } })).kind, 'allow', 'the cached decision of the first call');
    assert.equal(decide(e, req({ action: 'bank.transfer', args: { amount: 1, iban: `${heavy}y` } })).kind, 'allow');
    const keys = [...(e as unknown as { decisions: Map<string, unknown> }).decisions.keys()];
    assert.equal(keys.length, 3);
    for (const k of keys) assert.equal(k.length, 43);
  });

  it('denies a tool the catalog does not know', () => {
    const d = decide(engineWith('permit(principal, action, resource);'), req({ action: 'shell.exec' }));
    assert.equal(d.kind, 'deny');
    assert.equal(d.reason, 'unknown tool');
  });

  it('explains which policies decided, held, failed their conditions or did not apply', () => {
    const e = engineWith(
      '@id("reads") permit(principal, action == Warden::Action::"docs.read", resource);\n' +
        '@id("no-secrets") forbid(principal, action == Warden::Action::"docs.read", resource) when { context.args has path && context.args.path like "/secrets/*" };\n' +
        '@id("transfers") permit(principal, action == Warden::Action::"bank.transfer", resource);',
    );
    const x = explain(e, toCedarRequest(e, req({ action: 'docs.read', args: { path: '/public/a' } }))!);
    const standing = Object.fromEntries(x.policies.map((p) => [p.id, p.standing]));
    assert.equal(x.decision.kind, 'allow');
    assert.deepEqual(standing, { reads: 'decided', 'no-secrets': 'condition-false', transfers: 'not-applicable' });
    const y = explain(e, toCedarRequest(e, req({ action: 'docs.read', args: { path: '/secrets/k' } }))!);
    assert.deepEqual(Object.fromEntries(y.policies.map((p) => [p.id, p.standing])), { reads: 'held-overridden', 'no-secrets': 'decided', transfers: 'not-applicable' });
  });
});
