import { Command, CommanderError } from 'commander';
import { ApiError, AdminClient } from './admin-client.js';
import { adminCommands } from './commands/admin.js';
import { agentCommands } from './commands/agent.js';
import { approvalCommands } from './commands/approvals.js';
import { policyCommands } from './commands/policy.js';
import { auditCommands } from './commands/audit.js';
import { secretCommands } from './commands/secret.js';
import { serveCommands } from './commands/serve.js';
import { taskCommands } from './commands/task.js';
import { toolCommands } from './commands/tools.js';
import { upstreamCommands } from './commands/upstreams.js';
import { mcpCommands } from './commands/mcp.js';
import { demoCommands } from './commands/demo.js';
import { evalCommands } from './commands/eval.js';
import { defaultServerUrl } from './env.js';

const program = new Command()
  .name('warden')
  .description('Zero-trust control plane and gateway for AI agents')
  .option('--url <url>', 'Warden server for admin commands (WARDEN_URL, default http://127.0.0.1:7070)')
  .option('--admin-key <key>', 'API key for admin commands (WARDEN_ADMIN_KEY)')
  .option('--json', 'machine-readable output')
  .showHelpAfterError()
  .exitOverride();

const globals = {
  client: () => {
    const o = program.opts<{ url?: string; adminKey?: string }>();
    return new AdminClient({ url: o.url ?? defaultServerUrl(), adminKey: o.adminKey ?? process.env.WARDEN_ADMIN_KEY });
  },
  json: () => Boolean(program.opts<{ json?: boolean }>().json),
  serverUrl: () => program.opts<{ url?: string }>().url ?? defaultServerUrl(),
};

serveCommands(program);
agentCommands(program, globals);
taskCommands(program, globals);
adminCommands(program, globals);
approvalCommands(program, globals);
toolCommands(program, globals);
upstreamCommands(program, globals);
mcpCommands(program, globals);
demoCommands(program);
evalCommands(program, globals);
policyCommands(program, globals);
secretCommands(program, globals);
auditCommands(program, globals);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof ApiError) {
    process.stderr.write(`warden: ${err.code}${err.status ? ` (HTTP ${err.status})` : ''}${err.details ? `: ${typeof err.details === 'string' ? err.details : JSON.stringify(err.details)}` : ''}\n`);
    process.exit(1);
  }
  process.stderr.write(`warden: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
