import { createHash } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { EventLog } from '../events/event-log.js';
import type { BuiltinUpstream } from '../mcp-gateway/upstreams/upstream-config.js';
import { credentialChain } from '../pipeline/credential-chain.js';
import { VERSION } from '../version.js';
import type { InFlightCalls } from './in-flight-calls.js';
import { SandboxHost, type RunOutcome } from './sandbox-host.js';

/** The `_meta` key naming the in-flight call an exec request runs for (in-process only, never on a wire). */
export const CALL_META = 'warden/call';

/** argv, stdin: bounded so the audit entry that carries the exact argv stays an entry. */
const MAX_ARGV_BYTES = 64 * 1024;

/** The one tool of the exec upstream, as pinned and as Cedar sees its input (`context.args.command`, `.args`). */
export const EXEC_TOOL = {
  name: 'exec',
  title: 'Run a command in a sandbox',
  description:
    'Runs one command (no shell unless you run one) in a sandbox with no network but Warden, a read-only system and a private scratch directory ' +
    '(the working directory, kept for the task). Returns the exit code, stdout and stderr (each cut at a limit) and their SHA-256 digests.',
  inputSchema: {
    type: 'object',
    properties: {
      command: { type: 'string', description: 'A program name (looked up on PATH inside the sandbox) or an absolute path.' },
      args: { type: 'array', items: { type: 'string' }, description: 'Arguments, passed as they are.' },
      stdin: { type: 'string', description: 'Written to the command\'s standard input, which is then closed.' },
      timeoutSec: { type: 'integer', description: 'Kill the command after this many seconds (capped by the upstream).' },
    },
    required: ['command'],
  },
  annotations: { title: 'Run a command in a sandbox', readOnlyHint: false, destructiveHint: true, openWorldHint: false },
} as const;

const ExecArgsSchema = z
  .object({
    command: z.string().min(1).max(4096).refine((c) => !c.includes('\0'), 'no NUL'),
    args: z.array(z.string().max(32 * 1024).refine((a) => !a.includes('\0'), 'no NUL')).max(256).default([]),
    stdin: z.string().optional(),
    timeoutSec: z.number().int().min(1).max(24 * 3600).optional(),
  })
  .strict()
  .refine((a) => Buffer.byteLength(a.command) + a.args.reduce((n, s) => n + Buffer.byteLength(s), 0) <= MAX_ARGV_BYTES, `argv at most ${MAX_ARGV_BYTES} bytes`);

const TASK_ID = /^tsk_[A-Za-z0-9_-]{1,100}$/;

export interface ExecServerDeps {
  readonly host: SandboxHost;
  readonly calls: InFlightCalls;
  readonly events?: EventLog;
  /** `<state-dir>/<upstream>`: each task's scratch directory is under it. */
  readonly stateDir: string;
}

/**
 * The built-in `exec` upstream: an MCP server in Warden's own process whose one tool runs a
 * command in a fresh sandbox (the same one as stdio servers: namespaces, no network but the
 * egress proxy, limits). Each call's command runs for exactly that call: its egress is
 * attributed to the call's task, its scratch directory is the task's own, and a `sandbox.exec`
 * entry records the exact argv, exit code and SHA-256 of the whole stdout and stderr.
 */
export function createExecServer(upstream: BuiltinUpstream, env: Readonly<Record<string, string>>, deps: ExecServerDeps): Server {
  const server = new Server({ name: 'warden-exec', version: VERSION }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [EXEC_TOOL] }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    if (req.params.name !== EXEC_TOOL.name) throw new McpError(ErrorCode.InvalidParams, 'no such tool');
    const parsed = ExecArgsSchema.safeParse(req.params.arguments ?? {});
    if (!parsed.success) throw new McpError(ErrorCode.InvalidParams, 'invalid arguments');
    const a = parsed.data;
    const callId = req.params._meta?.[CALL_META];
    const cred = typeof callId === 'string' ? deps.calls.credential(callId) : undefined;
    // Only a call that came through the gateway's pipeline runs anything.
    if (!cred || !TASK_ID.test(cred.taskId)) throw new McpError(ErrorCode.InvalidRequest, 'exec runs only for a call in flight');
    const argv = [a.command, ...a.args];
    const record = (outcome: 'success' | 'denied' | 'failure', data: Record<string, unknown>, error?: string) =>
      deps.events?.record({
        type: 'sandbox.exec',
        outcome,
        ...(error ? { error } : {}),
        actor: { kind: 'agent', id: cred.agentId },
        subject: cred.taskId,
        chain: credentialChain(cred, `${upstream.name}.${EXEC_TOOL.name}`),
        data: { upstream: upstream.name, argv, ...data },
      });

    if (upstream.exec.commands && !upstream.exec.commands.includes(a.command)) {
      await record('denied', {}, 'EXEC_COMMAND_NOT_ALLOWED');
      const error = { code: 'EXEC_COMMAND_NOT_ALLOWED', details: { command: a.command.slice(0, 200) } };
      return { isError: true, content: [{ type: 'text', text: `refused: EXEC_COMMAND_NOT_ALLOWED ${JSON.stringify(error.details)}` }], structuredContent: { error } };
    }
    const stdin = Buffer.from(a.stdin ?? '', 'utf8');
    if (stdin.length > upstream.exec.maxStdinBytes) throw new McpError(ErrorCode.InvalidParams, 'stdin too large');
    const cap = SandboxHost.execWallTimeSec(upstream.sandbox);
    const timeoutSec = Math.min(a.timeoutSec ?? upstream.exec.defaultTimeoutSec, cap);

    let out: RunOutcome;
    try {
      out = await deps.host.run({
        upstream: upstream.name,
        sandbox: upstream.sandbox,
        scratch: `${deps.stateDir}/tasks/${cred.taskId}`,
        env,
        command: a.command,
        args: a.args,
        wallTimeSec: timeoutSec,
        callId: callId as string,
        stdin,
        maxOutputBytes: upstream.exec.maxOutputBytes,
        signal: extra.signal,
      });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      await record('failure', {}, typeof code === 'string' && /^[A-Z_]+$/.test(code) ? code : 'INTERNAL');
      throw err;
    }
    const facts = {
      exitCode: out.exitCode,
      signal: out.signal,
      timedOut: out.timedOut,
      ...(out.limit ? { limit: out.limit } : {}),
      durationMs: out.durationMs,
      stdoutBytes: out.stdout.bytes,
      stderrBytes: out.stderr.bytes,
      stdoutSha256: out.stdout.sha256,
      stderrSha256: out.stderr.sha256,
    };
    await record(out.exitCode === 0 ? 'success' : 'failure', { ...facts, stdinBytes: stdin.length, stdinSha256: createHash('sha256').update(stdin).digest('hex'), timeoutSec });
    const stdout = out.stdout.kept.toString('utf8');
    const stderr = out.stderr.kept.toString('utf8');
    const ended = out.timedOut ? `killed after ${timeoutSec} s` : out.limit ? `killed at its ${out.limit} limit` : out.signal ? `killed by ${out.signal}` : `exit ${out.exitCode}`;
    return {
      isError: out.exitCode !== 0,
      content: [{ type: 'text', text: `${ended}\n--- stdout${out.stdout.truncated ? ' (cut)' : ''} ---\n${stdout}\n--- stderr${out.stderr.truncated ? ' (cut)' : ''} ---\n${stderr}` }],
      structuredContent: { argv, ...facts, stdout, stderr, stdoutTruncated: out.stdout.truncated, stderrTruncated: out.stderr.truncated },
    };
  });
  return server;
}
