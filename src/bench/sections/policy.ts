import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { CatalogToolSchema } from '../../config/schema.js';
import type { Agent } from '../../domain/index.js';
import { PolicyEngine, type CallRequest } from '../../policy/engine.js';
import type { BenchContext, Row, Section } from '../section.js';
import { Samples } from '../stats.js';

const tool = CatalogToolSchema.parse({
  name: 'github.create_issue',
  risk: 'medium',
  inputSchema: { type: 'object', properties: { repo: { type: 'string' }, title: { type: 'string' }, labels: { type: 'array', items: { type: 'string' } } } },
});

/** `n` policies: one permit that decides, the rest forbids whose conditions must all be tried. */
function policyText(n: number): string {
  const lines = ['@id("writes") permit(principal, action == Warden::Action::"github.create_issue", resource) when { context.tool.risk == "medium" };'];
  for (let i = 1; i < n; i++) {
    lines.push(`@id("f${i}") forbid(principal, action == Warden::Action::"github.create_issue", resource) when { context.args has repo && context.args.repo == "acme/repo-${i}" };`);
  }
  return lines.join('\n');
}

const agent: Agent = {
  id: 'agt_000000000000000000000bench' as Agent['id'],
  name: 'bench',
  owner: 'bench@example.com',
  purpose: 'bench',
  riskCategory: 'limited',
  status: 'active',
  capabilities: ['**'],
  maxTaskLifetimeSec: 3600,
  createdAt: 0,
  updatedAt: 0,
};

function time(ms: number, fn: () => void): { rate: number; ops: number; seconds: number; latency: ReturnType<Samples['summarize']> } {
  for (let i = 0; i < 200; i++) fn();
  const samples = new Samples();
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    const t0 = performance.now();
    fn();
    now = performance.now();
    samples.push(now - t0);
  }
  const seconds = (now - start) / 1000;
  return { rate: samples.count / seconds, ops: samples.count, seconds, latency: samples.summarize() };
}

/**
 * Policy decision latency and rate with 10 and with 1,000 policies: Warden's `decideCall`
 * (context building, argument shaping, decision rules) against raw cedar-wasm evaluating the
 * same request on the same pre-parsed set in the same run — the difference is Warden's overhead.
 */
export const policy: Section = {
  name: 'policy',
  title: 'Policy decisions (Cedar)',
  notes: [
    'Warden rows build the Cedar request from the call each time; raw rows evaluate a request built once.',
    'Decisions are cached by request (Cedar is deterministic): "every call new" never hits the cache, "a repeated call" always does.',
    'Both use pre-parsed policy sets (parsed once, evaluated many times).',
  ],
  async run(ctx: BenchContext): Promise<Row[]> {
    const rows: Row[] = [];
    for (const n of [10, 1000]) {
      ctx.progress.status(`policy: ${n} policies`);
      const engine = new PolicyEngine([tool], `bench-${n}`);
      const installed = engine.install([{ name: 'bench.cedar', text: policyText(n) }]);
      if (!installed.ok) throw new Error(`bench policies do not load: ${installed.problems[0]?.message}`);
      const call: CallRequest = {
        agent,
        task: { id: 'tsk_000000000000000000000bench', purpose: 'bench', scope: ['**'], createdAt: Date.now(), ticket: null },
        person: null,
        tool: tool.name,
        args: { repo: 'acme/web', title: 'Flaky test', labels: ['ci'] },
        nowMs: Date.now(),
      };
      const prepared = engine.callRequest(call)!;
      const rawId = `bench-raw-${n}`;
      const parsed = cedar.preparsePolicySet(rawId, { staticPolicies: installed.set.staticPolicies });
      if (parsed.type === 'failure') throw new Error('raw pre-parse failed');
      const raw = () => {
        const a = cedar.statefulIsAuthorized({ ...prepared, preparsedPolicySetId: rawId, preparsedSchemaName: `bench-${n}-schema`, validateRequest: false });
        if (a.type !== 'success' || a.response.decision !== 'allow') throw new Error('raw decision is not allow');
      };
      // Every call a new title: no two requests alike, so no decision comes from the cache.
      let nth = 0;
      const warden = () => {
        if (engine.decideCall({ ...call, args: { ...call.args, title: `Flaky test ${nth++}` } }).kind !== 'allow') throw new Error('Warden decision is not allow');
      };
      const repeated = () => {
        if (engine.decideCall(call).kind !== 'allow') throw new Error('Warden decision is not allow');
      };
      const r = time(ctx.durations.microMs, raw);
      const w = time(ctx.durations.microMs, warden);
      const c = time(ctx.durations.microMs, repeated);
      rows.push(
        { id: `raw.cedar.${n}`, label: `raw cedar-wasm statefulIsAuthorized, ${n} policies`, kind: 'baseline', unit: 'decisions/s', rate: r.rate, ops: r.ops, seconds: r.seconds, latencyMs: r.latency },
        { id: `warden.decide.${n}`, label: `PolicyEngine.decideCall, ${n} policies, every call new`, kind: 'measured', unit: 'decisions/s', rate: w.rate, ops: w.ops, seconds: w.seconds, latencyMs: w.latency, vs: [`raw.cedar.${n}`] },
        { id: `warden.cached.${n}`, label: `PolicyEngine.decideCall, ${n} policies, a repeated call (decision cache)`, kind: 'measured', unit: 'decisions/s', rate: c.rate, ops: c.ops, seconds: c.seconds, latencyMs: c.latency, vs: [`raw.cedar.${n}`] },
      );
    }
    return rows;
  },
};
