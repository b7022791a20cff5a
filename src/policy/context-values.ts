/**
 * Shapes call arguments into Cedar values the way the generated schema typed them: integers
 * stay Long, `number` becomes `decimal`, sets and records follow their schema, and values the
 * schema has no type for are left out (policies cannot refer to them anyway).
 */
export function argsToCedar(value: unknown, schema: unknown, depth = 0): unknown {
  if (depth > 8 || typeof schema !== 'object' || schema === null) return undefined;
  const s = schema as Record<string, unknown>;
  const types = Array.isArray(s.type) ? s.type.filter((t) => t !== 'null') : [s.type];
  const type = types.length === 1 ? types[0] : undefined;
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'integer':
      // Cedar Longs are 64-bit; JS safe integers fit.
      return Number.isSafeInteger(value) ? value : undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 9e14
        ? { __extn: { fn: 'decimal', arg: value.toFixed(4) } }
        : undefined;
    case 'array': {
      if (!Array.isArray(value)) return undefined;
      const items = value.map((v) => argsToCedar(v, s.items, depth + 1));
      // A set with an item that does not fit is left out whole: a partial set would let a
      // policy's `contains` miss the very item it looks for.
      return items.every((i) => i !== undefined) ? items : undefined;
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      const props = typeof s.properties === 'object' && s.properties !== null ? (s.properties as Record<string, unknown>) : {};
      const out: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(props)) {
        if (!Object.hasOwn(value, name)) continue;
        const v = argsToCedar((value as Record<string, unknown>)[name], sub, depth + 1);
        if (v !== undefined) out[name] = v;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** Time facts for policies, in UTC. */
export function timeContext(nowMs: number): { unix: number; hour: number; weekday: number } {
  const d = new Date(nowMs);
  return { unix: Math.floor(nowMs / 1000), hour: d.getUTCHours(), weekday: d.getUTCDay() };
}
