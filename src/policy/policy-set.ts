import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

/** A problem in a policy file, located for people: `file:line: reason`. */
export interface PolicyProblem {
  readonly file: string;
  readonly line: number;
  readonly policy?: string;
  readonly message: string;
}

/** One policy of the set with what Warden reads from its annotations. */
export interface LoadedPolicy {
  readonly id: string;
  readonly file: string;
  readonly line: number;
  readonly effect: 'permit' | 'forbid';
  readonly text: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** `@approval("N")`: allowed once N approvers accept the exact call. */
  readonly approvals: number;
  /** `@approval_self("true")`: the person the task is for counts as an approver. */
  readonly selfApproval: boolean;
}

/** A parsed, validated policy set ready to be made current. */
export interface CompiledPolicySet {
  readonly policies: ReadonlyMap<string, LoadedPolicy>;
  /** SHA-256 over the files: names the revision that made each decision. */
  readonly revision: string;
  readonly staticPolicies: Record<string, string>;
}

export type CompileResult = { ok: true; set: CompiledPolicySet } | { ok: false; problems: PolicyProblem[] };

const lineAt = (text: string, offset: number): number => text.slice(0, Math.max(0, offset)).split('\n').length;

function errorsOf(file: string, text: string, errors: readonly cedar.DetailedError[], base = 0, policy?: string): PolicyProblem[] {
  return errors.map((e) => ({
    file,
    line: lineAt(text, base + (e.sourceLocations?.[0]?.start ?? 0)),
    ...(policy ? { policy } : {}),
    message: [e.message, e.sourceLocations?.[0]?.label, e.help].filter(Boolean).join(': '),
  }));
}

/** Reads every `.cedar` file of a directory (sorted, so ids and revisions are stable). */
export async function readPolicyDir(dir: string): Promise<{ name: string; text: string }[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.cedar')).sort();
  return Promise.all(names.map(async (name) => ({ name, text: await readFile(join(dir, name), 'utf8') })));
}

/**
 * Parses policy files and validates them against the schema (strict mode). Each policy is
 * named by its `@id("…")` annotation, else `<file>#<n>`. Nothing is made current here: the
 * caller swaps the set in only when this succeeds.
 */
export function compilePolicySet(files: readonly { name: string; text: string }[], schema: Record<string, unknown>): CompileResult {
  const problems: PolicyProblem[] = [];
  const policies = new Map<string, LoadedPolicy>();
  for (const { name, text } of files) {
    const parts = cedar.policySetTextToParts(text);
    if (parts.type === 'failure') {
      problems.push(...errorsOf(name, text, parts.errors));
      continue;
    }
    if (parts.policy_templates.length > 0) problems.push({ file: name, line: 1, message: 'policy templates are not supported' });
    let cursor = 0;
    parts.policies.forEach((policyText, i) => {
      const at = text.indexOf(policyText, cursor);
      const offset = at >= 0 ? at : cursor;
      cursor = offset + policyText.length;
      const json = cedar.policyToJson(policyText);
      if (json.type === 'failure') {
        problems.push(...errorsOf(name, text, json.errors, offset));
        return;
      }
      const annotations = (json.json.annotations ?? {}) as Record<string, string>;
      const id = annotations.id ?? `${name}#${i + 1}`;
      const line = lineAt(text, offset);
      if (policies.has(id)) {
        problems.push({ file: name, line, policy: id, message: `duplicate policy id "${id}"` });
        return;
      }
      const approvalText = annotations.approval;
      let approvals = 0;
      if (approvalText !== undefined) {
        approvals = /^[1-9]$/.test(approvalText) ? Number(approvalText) : NaN;
        if (Number.isNaN(approvals)) problems.push({ file: name, line, policy: id, message: '@approval takes a number of approvers from 1 to 9' });
        if (json.json.effect === 'forbid') problems.push({ file: name, line, policy: id, message: '@approval belongs on a permit policy' });
      }
      policies.set(id, {
        id,
        file: name,
        line,
        effect: json.json.effect,
        text: policyText,
        annotations,
        approvals: Number.isNaN(approvals) ? 0 : approvals,
        selfApproval: annotations.approval_self === 'true',
      });
    });
  }
  if (problems.length > 0) return { ok: false, problems };

  const staticPolicies = Object.fromEntries([...policies.values()].map((p) => [p.id, p.text]));
  const validation = cedar.validate({ schema: schema as cedar.Schema, policies: { staticPolicies }, validationSettings: { mode: 'strict' } });
  if (validation.type === 'failure') {
    return { ok: false, problems: validation.errors.map((e) => ({ file: '(schema)', line: 0, message: e.message })) };
  }
  for (const v of validation.validationErrors) {
    const p = policies.get(v.policyId);
    const file = files.find((f) => f.name === p?.file);
    const base = file && p ? file.text.indexOf(p.text) : 0;
    problems.push(...errorsOf(p?.file ?? '(unknown)', file?.text ?? '', [v.error], Math.max(0, base), v.policyId));
  }
  if (problems.length > 0) return { ok: false, problems };

  const revision = createHash('sha256')
    .update(JSON.stringify(files.map((f) => [f.name, f.text])))
    .digest('hex')
    .slice(0, 16);
  return { ok: true, set: { policies, revision, staticPolicies } };
}
