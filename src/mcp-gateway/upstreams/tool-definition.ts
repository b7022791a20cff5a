/**
 * Edge validation of the tool definitions an upstream lists (MCP 2025-06-18 "Tools", `Tool`).
 * The upstream is untrusted: a definition of the wrong shape is skipped, an over-long text is
 * truncated, and each such decision is reported as a {@link ToolIssue} instead of failing the
 * whole listing. Nothing here throws on upstream data.
 */

/** A JSON object as parsed from the wire. */
export type JsonObject = { readonly [key: string]: unknown };

/** The hints MCP defines in `ToolAnnotations`; other keys are dropped. */
export interface ToolAnnotations {
  readonly title?: string;
  readonly readOnlyHint?: boolean;
  readonly destructiveHint?: boolean;
  readonly idempotentHint?: boolean;
  readonly openWorldHint?: boolean;
}

/** One tool as the upstream defines it, after validation. Names are the upstream's own (no prefix). */
export interface UpstreamTool {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly inputSchema: JsonObject;
  readonly outputSchema?: JsonObject;
  readonly annotations?: ToolAnnotations;
}

/** Why a definition was skipped, or a field truncated or dropped. Never carries upstream text but a valid name. */
export interface ToolIssue {
  /** Position in the upstream's listing (over all pages). */
  readonly index: number;
  /** The tool's name, when it was a valid one. */
  readonly name?: string;
  readonly action: 'skipped' | 'truncated' | 'dropped';
  readonly field?: 'title' | 'description' | 'outputSchema' | 'annotations';
  readonly reason: ToolIssueReason;
}

export type ToolIssueReason =
  | 'not-an-object'
  | 'invalid-name'
  | 'duplicate-name'
  | 'invalid-input-schema'
  | 'schema-too-large'
  | 'invalid-output-schema'
  | 'invalid-annotations'
  | 'not-a-string'
  | 'too-long'
  | 'too-many-tools'
  | 'too-many-pages'
  | 'cursor-loop';

/** Bounds on what one definition may hold. */
export const TOOL_LIMITS = {
  /** MCP's tool-name guidance (SEP-986): 1–128 of `A-Z a-z 0-9 _ - .`; these become Cedar action ids. */
  name: /^[A-Za-z0-9_.-]{1,128}$/,
  titleChars: 256,
  /** Matches `CatalogToolSchema.description`, so a definition fits the catalog as is. */
  descriptionChars: 2000,
  schemaBytes: 64 * 1024,
} as const;

export type ToolResult = { kind: 'tool'; tool: UpstreamTool; issues: ToolIssue[] } | { kind: 'skipped'; issue: ToolIssue };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates one raw definition at position `index`. */
export function validateToolDefinition(raw: unknown, index: number): ToolResult {
  const skip = (reason: ToolIssueReason, name?: string): ToolResult => ({
    kind: 'skipped',
    issue: { index, ...(name === undefined ? {} : { name }), action: 'skipped', reason },
  });
  if (!isObject(raw)) return skip('not-an-object');
  const name = raw.name;
  if (typeof name !== 'string' || !TOOL_LIMITS.name.test(name)) return skip('invalid-name');

  const input = checkSchema(raw.inputSchema);
  if (input !== 'ok') return skip(input === 'too-large' ? 'schema-too-large' : 'invalid-input-schema', name);

  const issues: ToolIssue[] = [];
  const note = (action: ToolIssue['action'], field: NonNullable<ToolIssue['field']>, reason: ToolIssueReason) =>
    issues.push({ index, name, action, field, reason });

  const text = (field: 'title' | 'description', max: number): string | undefined => {
    const value = raw[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      note('dropped', field, 'not-a-string');
      return undefined;
    }
    if (value.length <= max) return value;
    note('truncated', field, 'too-long');
    return truncate(value, max);
  };
  const title = text('title', TOOL_LIMITS.titleChars);
  const description = text('description', TOOL_LIMITS.descriptionChars);

  let outputSchema: JsonObject | undefined;
  if (raw.outputSchema !== undefined) {
    const output = checkSchema(raw.outputSchema);
    if (output === 'ok') outputSchema = raw.outputSchema as JsonObject;
    else note('dropped', 'outputSchema', output === 'too-large' ? 'schema-too-large' : 'invalid-output-schema');
  }

  let annotations: ToolAnnotations | undefined;
  if (raw.annotations !== undefined) {
    annotations = readAnnotations(raw.annotations);
    if (annotations === undefined) note('dropped', 'annotations', 'invalid-annotations');
  }

  const tool: UpstreamTool = {
    name,
    ...(title === undefined ? {} : { title }),
    ...(description === undefined ? {} : { description }),
    inputSchema: raw.inputSchema as JsonObject,
    ...(outputSchema === undefined ? {} : { outputSchema }),
    ...(annotations === undefined ? {} : { annotations }),
  };
  return { kind: 'tool', tool, issues };
}

/** MCP requires tool schemas to be JSON Schema objects of `type: "object"`. */
function checkSchema(value: unknown): 'ok' | 'invalid' | 'too-large' {
  if (!isObject(value) || value.type !== 'object') return 'invalid';
  // The value came from JSON.parse, so it is a finite tree and serializes.
  return Buffer.byteLength(JSON.stringify(value)) > TOOL_LIMITS.schemaBytes ? 'too-large' : 'ok';
}

function readAnnotations(value: unknown): ToolAnnotations | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string | boolean> = {};
  for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
    const v = value[hint];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') return undefined;
    out[hint] = v;
  }
  if (value.title !== undefined) {
    if (typeof value.title !== 'string') return undefined;
    out.title = truncate(value.title, TOOL_LIMITS.titleChars);
  }
  return out as ToolAnnotations;
}

/** Cuts to at most `max` UTF-16 units without splitting a surrogate pair. */
function truncate(value: string, max: number): string {
  let cut = value.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}
