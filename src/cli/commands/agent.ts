import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { generateAgentKey, saveAgentKey } from '../../sdk/keys.js';
import type { CliGlobals } from '../admin-client.js';
import { isoTime, printJson, printRecord, printTable } from '../output.js';


const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/** A public key from a file, or a freshly generated pair whose private half goes to `keyOut`. */
async function obtainPublicKey(opts: { publicKey?: string; keyOut?: string; alg: string }): Promise<{ jwk: Record<string, unknown>; wrote?: string }> {
  if (opts.publicKey) {
    const jwk = JSON.parse(await readFile(opts.publicKey, 'utf8')) as Record<string, unknown>;
    return { jwk };
  }
  if (!opts.keyOut) throw new Error('give --key-out <file> (a key pair is generated) or --public-key <file>');
  if (opts.alg !== 'ES256' && opts.alg !== 'EdDSA') throw new Error('--alg must be ES256 or EdDSA');
  const pair = await generateAgentKey(opts.alg);
  // The private key is written before registration: if the file cannot be written, nothing
  // is registered that no one could ever use.
  await saveAgentKey(pair, opts.keyOut);
  return { jwk: { ...pair.publicJwk }, wrote: opts.keyOut };
}

function showAgent(view: { agent: Record<string, unknown>; keys: Record<string, unknown>[] }): void {
  const a = view.agent;
  printRecord({
    id: a.id,
    name: a.name,
    status: a.status,
    owner: a.owner,
    purpose: a.purpose,
    risk: a.riskCategory,
    capabilities: (a.capabilities as string[]).join(' '),
    'max task': `${a.maxTaskLifetimeSec}s`,
    created: isoTime(a.createdAt),
  });
  process.stdout.write('\nkeys:\n');
  printTable(
    view.keys.map((k) => ({ ...k, created: isoTime(k.createdAt), retired: k.retiredAt ? isoTime(k.retiredAt) : null })),
    ['jkt', 'alg', 'status', 'created', 'retired'],
  );
}

export function agentCommands(program: Command, g: CliGlobals): void {
  const agent = program.command('agent').description('agent identities');

  agent
    .command('add')
    .description('register an agent; generates its key pair unless --public-key is given')
    .requiredOption('--name <name>', 'short unique name (lowercase, digits, -)')
    .requiredOption('--owner <person>', 'the person accountable for the agent')
    .requiredOption('--purpose <text>', 'what the agent is for')
    .requiredOption('--risk <category>', 'EU AI Act risk category: minimal | limited | high')
    .requiredOption('--capability <pattern>', 'tool/endpoint it may ever ask for (repeatable, or comma-separated)', collect)
    .option('--max-task-lifetime <seconds>', 'longest task it may be given', '3600')
    .option('--key-out <file>', 'write the generated private key here (mode 0600)')
    .option('--public-key <file>', 'register this public JWK instead of generating a pair')
    .option('--alg <alg>', 'algorithm of a generated key: ES256 | EdDSA', 'ES256')
    .action(async (o) => {
      const key = await obtainPublicKey(o);
      const view = await g.client().call<{ agent: Record<string, unknown>; keys: Record<string, unknown>[] }>('POST', '/v1/agents', {
        name: o.name,
        owner: o.owner,
        purpose: o.purpose,
        riskCategory: o.risk,
        capabilities: o.capability,
        maxTaskLifetimeSec: Number(o.maxTaskLifetime),
        publicKeys: [key.jwk],
      });
      if (g.json()) return printJson(view);
      showAgent(view);
      if (key.wrote) process.stdout.write(`\nPrivate key written to ${key.wrote} (mode 0600). Warden keeps only the public key.\n`);
    });

  agent
    .command('list')
    .option('--status <status>', 'active | suspended | retired')
    .action(async (o) => {
      const { agents } = await g.client().call<{ agents: Record<string, unknown>[] }>('GET', `/v1/agents${o.status ? `?status=${encodeURIComponent(o.status)}` : ''}`);
      if (g.json()) return printJson(agents);
      printTable(
        agents.map((a) => ({ ...a, risk: a.riskCategory, created: isoTime(a.createdAt) })),
        ['id', 'name', 'status', 'owner', 'risk', 'created'],
      );
    });

  agent
    .command('show <agent>')
    .description('an agent by id or name, with its keys')
    .action(async (ref: string) => {
      const view = await g.client().call<{ agent: Record<string, unknown>; keys: Record<string, unknown>[] }>('GET', `/v1/agents/${encodeURIComponent(ref)}`);
      if (g.json()) return printJson(view);
      showAgent(view);
    });

  for (const [verb, help] of [
    ['suspend', 'stop every token of the agent at once (reversible with resume)'],
    ['resume', 'lift a suspension'],
    ['retire', 'end the agent for good (kept for history)'],
  ] as const) {
    const cmd = agent.command(`${verb} <agent>`).description(help);
    if (verb !== 'resume') cmd.option('--reason <text>', 'why, for the record');
    cmd.action(async (ref: string, o: { reason?: string }) => {
      const res = await g.client().call<{ agent: Record<string, unknown> }>('POST', `/v1/agents/${encodeURIComponent(ref)}/${verb}`, o.reason ? { reason: o.reason } : {});
      if (g.json()) return printJson(res);
      process.stdout.write(`${res.agent.name} (${res.agent.id}) is now ${res.agent.status}\n`);
    });
  }

  const key = agent.command('key').description('rotate agent keys');
  key
    .command('add <agent>')
    .description('add a second key (at most two are live); generate one with --key-out')
    .option('--key-out <file>', 'write the generated private key here (mode 0600)')
    .option('--public-key <file>', 'register this public JWK')
    .option('--alg <alg>', 'ES256 | EdDSA', 'ES256')
    .action(async (ref: string, o) => {
      const k = await obtainPublicKey(o);
      const res = await g.client().call<{ key: Record<string, unknown> }>('POST', `/v1/agents/${encodeURIComponent(ref)}/keys`, { jwk: k.jwk });
      if (g.json()) return printJson(res);
      process.stdout.write(`Added key ${res.key.jkt} (${res.key.alg})${k.wrote ? `; private key in ${k.wrote}` : ''}\n`);
    });
  key
    .command('retire <agent> <jkt>')
    .description('retire a key: tokens bound to it stop working')
    .action(async (ref: string, jkt: string) => {
      const res = await g.client().call<{ key: Record<string, unknown> }>('POST', `/v1/agents/${encodeURIComponent(ref)}/keys/${encodeURIComponent(jkt)}/retire`, {});
      if (g.json()) return printJson(res);
      process.stdout.write(`Key ${res.key.jkt} retired\n`);
    });
}
