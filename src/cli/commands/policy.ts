import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile } from '../../config/load.js';
import { PolicyEngine } from '../../policy/engine.js';
import { explain } from '../../policy/explain.js';
import { readPolicyDir, type PolicyProblem } from '../../policy/policy-set.js';
import { PolicyRequestSchema, runPolicyTestFile, toCedarRequest, type CaseResult } from '../../policy/policy-tests.js';
import { parseInput } from '../../util/parse-input.js';
import { CONFIG_FILE } from '../../warden.js';
import type { CliGlobals } from '../admin-client.js';
import { printJson, printTable } from '../output.js';


interface Where {
  dataDir?: string;
  dir?: string;
}

/** The policy directory and catalog a command works on: a data directory, or a bare folder. */
async function locate(o: Where) {
  const dataDir = resolve(o.dataDir ?? process.env.WARDEN_DATA_DIR ?? '.warden');
  const config = await loadConfigFile(join(dataDir, CONFIG_FILE));
  const dir = resolve(o.dir ?? join(dataDir, config.policy.dir));
  return { dir, tools: config.tools, files: await readPolicyDir(dir) };
}

function printProblems(problems: readonly PolicyProblem[]): void {
  for (const p of problems) process.stderr.write(`${p.file}:${p.line}: ${p.policy ? `[${p.policy}] ` : ''}${p.message}\n`);
}

export function policyCommands(program: Command, g: CliGlobals): void {
  const policy = program.command('policy').description('Cedar policies: validate, test, explain, reload');
  const where = (cmd: Command) =>
    cmd.option('--data-dir <dir>', 'state directory (WARDEN_DATA_DIR, default ./.warden)').option('--dir <dir>', 'policy directory (default: <data-dir>/policies)');

  where(policy.command('validate').description('parse and validate every .cedar file against the catalog schema')).action(async (o: Where) => {
    const { dir, tools, files } = await locate(o);
    const engine = new PolicyEngine(tools);
    const result = engine.install(files);
    if (g.json()) printJson(result.ok ? { ok: true, revision: result.set.revision, policies: result.set.policies.size } : result);
    else if (result.ok) process.stdout.write(`${dir}: ${result.set.policies.size} policies in ${files.length} files are valid (revision ${result.set.revision})\n`);
    else printProblems(result.problems);
    if (!result.ok) process.exitCode = 1;
  });

  where(policy.command('test [files...]').description('run policy test files (default: <policy dir>/*.test.yaml)')).action(async (paths: string[], o: Where) => {
    const { dir, tools, files } = await locate(o);
    const testFiles = paths.length ? paths.map((p) => resolve(p)) : (await readdir(dir)).filter((n) => n.endsWith('.test.yaml')).sort().map((n) => join(dir, n));
    const results: CaseResult[] = [];
    const problems: PolicyProblem[] = [];
    for (const file of testFiles) {
      const run = runPolicyTestFile(file, await readFile(file, 'utf8'), files, tools);
      results.push(...run.results);
      problems.push(...run.problems);
    }
    const failed = results.filter((r) => !r.passed);
    if (g.json()) printJson({ passed: results.length - failed.length, failed: failed.length, results, problems });
    else {
      printProblems(problems);
      printTable(results.map((r) => ({ ...r, result: r.passed ? 'pass' : 'FAIL', case: r.name })), ['result', 'case', 'expected', 'actual']);
      process.stdout.write(`\n${results.length - failed.length} passed, ${failed.length} failed\n`);
    }
    if (failed.length > 0 || problems.length > 0 || testFiles.length === 0) process.exitCode = 1;
  });

  where(
    policy
      .command('explain')
      .description('show, for one request, the decision and how every policy stood')
      .option('--request <file>', 'a YAML/JSON request (action, args, agent, person, task, flow, time)')
      .option('--action <name>', 'server.tool or start_task')
      .option('--args <json>', 'the call arguments as JSON', '{}'),
  ).action(async (o: Where & { request?: string; action?: string; args: string }) => {
    const { tools, files } = await locate(o);
    const raw = o.request ? parseYaml(await readFile(o.request, 'utf8')) : { action: o.action, args: JSON.parse(o.args) };
    const request = parseInput(PolicyRequestSchema, raw);
    const engine = new PolicyEngine(tools);
    const installed = engine.install(files);
    if (!installed.ok) {
      printProblems(installed.problems);
      process.exitCode = 1;
      return;
    }
    const cedarRequest = toCedarRequest(engine, request);
    if (!cedarRequest) {
      process.stdout.write(`deny: ${request.action} is not in the catalog\n`);
      return;
    }
    const x = explain(engine, cedarRequest);
    if (g.json()) return printJson(x);
    const d = x.decision;
    process.stdout.write(`${request.action}: ${d.kind}${d.kind === 'approval' ? ` by ${d.approvals} approver(s)` : ''}${d.reason ? ` (${d.reason})` : ''} — revision ${d.revision}\n\n`);
    printTable(
      x.policies.map((p) => ({ ...p, where: `${p.file}:${p.line}`, approval: p.approvals || null, note: p.error ?? null })),
      ['id', 'effect', 'standing', 'approval', 'where', 'note'],
    );
  });

  policy
    .command('reload')
    .description('make the running server load its policy directory now')
    .action(async () => {
      const res = await g.client().call<{ ok: boolean; revision: string; policies: number }>('POST', '/v1/policy/reload', {});
      if (g.json()) return printJson(res);
      process.stdout.write(`Policy set ${res.revision} (${res.policies} policies) is deciding\n`);
    });
}
