import type { Command } from 'commander';
import type { CliGlobals } from '../admin-client.js';
import { isoTime, printJson, printTable } from '../output.js';


export function adminCommands(program: Command, g: CliGlobals): void {
  const keys = program.command('keys').description("Warden's token-signing keys");
  keys.command('list').action(async () => {
    const res = await g.client().call<{ keys: Record<string, unknown>[]; active: string }>('GET', '/v1/signing-keys');
    if (g.json()) return printJson(res);
    printTable(
      res.keys.map((k) => ({ ...k, state: k.kid === res.active ? 'signing' : k.retiredAt ? 'verify-only' : 'idle', created: isoTime(k.createdAt), 'verify until': k.verifyUntil ? isoTime(k.verifyUntil) : null })),
      ['kid', 'state', 'created', 'verify until'],
    );
  });
  keys
    .command('rotate')
    .description('sign with a new key; the old one verifies until its tokens expire')
    .action(async () => {
      const res = await g.client().call<{ active: string; previous: string; previousVerifiesUntil: number }>('POST', '/v1/signing-keys/rotate', {});
      if (g.json()) return printJson(res);
      process.stdout.write(`Signing with ${res.active}; ${res.previous} verifies until ${isoTime(res.previousVerifiesUntil)}\n`);
    });

  const person = program.command('person').description('people: admins, approvers, auditors, viewers');
  person
    .command('add')
    .requiredOption('--name <name>')
    .option('--email <email>')
    .requiredOption('--role <role>', 'admin | approver | auditor | viewer (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .action(async (o) => {
      const res = await g.client().call<{ person: Record<string, unknown>; apiKey: string }>('POST', '/v1/persons', {
        name: o.name,
        ...(o.email ? { email: o.email } : {}),
        roles: o.role,
      });
      if (g.json()) return printJson(res);
      process.stdout.write(`Created ${res.person.name} (${res.person.id}), roles ${(res.person.roles as string[]).join(', ')}\n`);
      process.stdout.write(`API key (shown once, stored only as a hash):\n\n    ${res.apiKey}\n\n`);
    });
  person.command('list').action(async () => {
    const { persons } = await g.client().call<{ persons: Record<string, unknown>[] }>('GET', '/v1/persons');
    if (g.json()) return printJson(persons);
    printTable(persons.map((p) => ({ ...p, created: isoTime(p.createdAt) })), ['id', 'name', 'email', 'roles', 'status', 'created']);
  });

  program
    .command('events')
    .description('the identity event record')
    .option('--type <type>', 'e.g. agent.suspend')
    .option('--subject <id>', 'agent, task or token id')
    .option('--after <seq>', 'only events after this sequence number')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (o) => {
      const q = new URLSearchParams({ limit: o.limit });
      if (o.type) q.set('type', o.type);
      if (o.subject) q.set('subject', o.subject);
      if (o.after) q.set('after', o.after);
      const { events } = await g.client().call<{ events: Record<string, unknown>[] }>('GET', `/v1/events?${q}`);
      if (g.json()) return printJson(events);
      printTable(
        events.map((e) => ({ ...e, time: isoTime(e.time), actor: `${(e.actor as { kind: string }).kind}:${(e.actor as { id: string }).id}` })),
        ['seq', 'time', 'type', 'outcome', 'actor', 'subject'],
      );
    });
}
