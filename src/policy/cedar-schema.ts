import type { CatalogTool } from '../config/schema.js';

/**
 * The Cedar schema Warden's policies are validated against, generated from the tool catalog
 * in the cedar-for-agents convention: one action per tool (`Warden::Action::"github.create_issue"`),
 * all members of the `call_tool` group, the tool's input as `context.args`.
 */
export const NS = 'Warden';
export const START_TASK = 'start_task';
export const CALL_TOOL = 'call_tool';

type CedarType = Record<string, unknown>;

const str = { type: 'String' } as const;
const long = { type: 'Long' } as const;
const bool = { type: 'Boolean' } as const;
const setOf = (element: CedarType) => ({ type: 'Set', element });
const rec = (attributes: Record<string, CedarType>) => ({ type: 'Record', attributes });
const opt = (t: CedarType) => ({ ...t, required: false });

/**
 * A JSON Schema fragment as a Cedar type, or null when Cedar cannot represent it (the value is
 * then left out of the context, and no policy can refer to it: validation would reject that).
 * `number` becomes `decimal` (Cedar has no floats; four fractional digits).
 */
export function jsonSchemaToCedar(schema: unknown, depth = 0): CedarType | null {
  if (depth > 8 || typeof schema !== 'object' || schema === null) return null;
  const s = schema as Record<string, unknown>;
  const type = Array.isArray(s.type) ? s.type.filter((t) => t !== 'null') : [s.type];
  if (type.length !== 1) return null;
  switch (type[0]) {
    case 'string':
      return str;
    case 'integer':
      return long;
    case 'boolean':
      return bool;
    case 'number':
      return { type: 'Extension', name: 'decimal' };
    case 'array': {
      const item = jsonSchemaToCedar(s.items, depth + 1);
      return item ? setOf(item) : null;
    }
    case 'object': {
      const props = typeof s.properties === 'object' && s.properties !== null ? (s.properties as Record<string, unknown>) : {};
      const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
      const attributes: Record<string, CedarType> = {};
      for (const [name, sub] of Object.entries(props)) {
        const t = jsonSchemaToCedar(sub, depth + 1);
        if (t) attributes[name] = required.has(name) ? t : opt(t);
      }
      return rec(attributes);
    }
    default:
      return null;
  }
}

/** Facts about the task every call is made under; room is left for flow labels and anomalies. */
const TASK_CONTEXT = rec({
  id: str,
  purpose: str,
  scope: setOf(str),
  ageSec: long,
  ticket: opt(str),
});
/** The person a task acts for: an entity, so policies read `context.person.roles` and the like. */
const PERSON = { type: 'Entity', name: 'Person' } as const;
const TIME = rec({ unix: long, hour: long, weekday: long });
/** What the task has seen (flow/flow-tracker.ts); `onViolation` is `approve` or `deny` (config `flow`). */
const FLOW = rec({ untrustedRead: bool, confidentialRead: bool, argsFromUntrusted: setOf(str), onViolation: str });
const ANOMALY = rec({ score: long });

const TOOL_CONTEXT = rec({
  name: str,
  server: str,
  risk: str,
  tags: setOf(str),
  labels: rec({ source: str, data: str, sink: str }),
});

export function generateCedarSchema(tools: readonly CatalogTool[]): Record<string, unknown> {
  const actions: Record<string, unknown> = {
    [CALL_TOOL]: {},
    [START_TASK]: {
      appliesTo: {
        principalTypes: ['Agent'],
        resourceTypes: ['Task'],
        context: rec({
          purpose: str,
          scope: setOf(str),
          lifetimeSec: long,
          ticket: opt(str),
          person: opt(PERSON),
          time: TIME,
        }),
      },
    },
  };
  for (const tool of tools) {
    actions[tool.name] = {
      memberOf: [{ id: CALL_TOOL }],
      appliesTo: {
        principalTypes: ['Agent'],
        resourceTypes: ['Tool'],
        context: rec({
          args: jsonSchemaToCedar(tool.inputSchema) ?? rec({}),
          tool: TOOL_CONTEXT,
          task: TASK_CONTEXT,
          person: opt(PERSON),
          time: TIME,
          flow: FLOW,
          anomaly: ANOMALY,
        }),
      },
    };
  }
  return {
    [NS]: {
      entityTypes: {
        Agent: { shape: rec({ name: str, owner: str, riskCategory: str, status: str }) },
        // Warden's own people carry their roles as at the grant; people of an OIDC issuer have none.
        Person: { shape: rec({ sub: str, iss: str, name: opt(str), email: opt(str), roles: setOf(str) }) },
        Task: { shape: rec({ purpose: str, person: opt(PERSON) }) },
        Tool: { shape: rec({ server: str, risk: str }) },
      },
      actions,
    },
  };
}
