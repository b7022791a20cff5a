import { parse as parseYaml, stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../config/load.js';
import type { ConfigFile } from '../../config/schema.js';

/** The config Warden runs the eval under: the person's file with the replay wired in. */
export interface EvalConfig {
  /** `warden.yaml` text for the eval's throwaway data directory. */
  readonly text: string;
  /** The same, validated. */
  readonly config: ConfigFile;
}

/** Rate limits far above what one sequential replay reaches: the eval measures policy, not limits. */
const EVAL_AGENT_LIMITS = { ratePerSec: 100_000, burst: 1_000_000 };

/** How an MCP upstream is reached (stdio or HTTP): replaced by the replay's URL. */
const CONNECTION_FIELDS = new Set(['transport', 'url', 'headers', 'command', 'args', 'env', 'cwd', 'inheritEnv', 'sandbox', 'server', 'exec']);

type Raw = Record<string, unknown>;
const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Overlays the replay on a Warden config (`--config`). What the file says about tools — each
 * suite upstream's `defaults` (risk, tags, flow labels) and per-tool `tools` overrides, the
 * catalog, `flow`, `scanning`, `limits.task`, `audit` — is what the eval measures, so it is kept
 * as written. Only what connects Warden to the world is replaced:
 *
 * - each suite's upstream (an MCP upstream named after the suite MUST exist) is reached over
 *   HTTP at `urlOf(suite)`; its `transport`, `url`/`headers` or `command`/`args`/`env`/`cwd`/
 *   `inheritEnv` are dropped, so the file may name the real server;
 * - MCP upstreams named after no suite are left out (Warden would start them);
 * - `approvals.waitSec` is 0, so a held call answers APPROVAL_PENDING at once, and no webhook
 *   tells anyone of it; `audit.export` is dropped (no SIEM hears of replayed calls);
 * - the agent rate limit is lifted; `server`, `database` and `policy` are Warden's defaults in
 *   the throwaway data directory (policies: the shipped set, or `--policies`).
 */
export function evalConfig(text: string, file: string, suites: readonly string[], urlOf: (suite: string) => string): EvalConfig {
  // Validate the file as written first, so that its problems are reported against it.
  parseConfig(text, file);
  const raw = parseYaml(text, { maxAliasCount: 50 }) as unknown;
  const doc: Raw = isRecord(raw) ? structuredClone(raw) : {};

  const upstreams: Raw = isRecord(doc.upstreams) ? doc.upstreams : {};
  const mcp = Array.isArray(upstreams.mcp) ? (upstreams.mcp as unknown[]).filter(isRecord) : [];
  const missing = suites.filter((s) => !mcp.some((u) => u.name === s));
  if (missing.length > 0) {
    throw new ConfigError(file, missing.map((s) => `upstreams.mcp: no upstream named "${s}" (each suite is replayed as the MCP upstream of its name)`));
  }
  upstreams.mcp = mcp
    .filter((u) => typeof u.name === 'string' && suites.includes(u.name))
    .map((u) => ({
      ...Object.fromEntries(Object.entries(u).filter(([key]) => !CONNECTION_FIELDS.has(key))),
      transport: 'http',
      url: urlOf(String(u.name)),
    }));
  doc.upstreams = upstreams;

  const approvals: Raw = isRecord(doc.approvals) ? doc.approvals : {};
  doc.approvals = { ...approvals, waitSec: 0, webhooks: [] };
  const limits: Raw = isRecord(doc.limits) ? doc.limits : {};
  doc.limits = { ...limits, agent: EVAL_AGENT_LIMITS };
  if (isRecord(doc.audit)) delete doc.audit.export;
  delete doc.server;
  delete doc.database;
  doc.policy = { watch: false };

  const out = `# Written by \`warden eval agentdojo\` from ${JSON.stringify(file)}: the replay wired in.\n${stringify(doc)}`;
  return { text: out, config: parseConfig(out, `${file} (as overlaid for the eval)`) };
}
