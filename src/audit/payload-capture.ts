import type { AuditConfig } from '../config/audit-config.js';
import type { PayloadCapture } from '../pipeline/call-pipeline.js';

/**
 * Payload capture as configured (`audit.capture`): which tools keep their arguments and results
 * in the entries, and a clip to `maxBytes` of JSON. What it is given has already passed secret
 * scanning (arguments carrying a credential never get this far; results are redacted).
 */
export function payloadCapture(config: AuditConfig['capture']): PayloadCapture | undefined {
  if (config.tools.length === 0) return undefined;
  const exact = new Set(config.tools.filter((t) => !t.endsWith('*')));
  const prefixes = config.tools.filter((t) => t.endsWith('*')).map((t) => t.slice(0, -1));
  return {
    wants: (tool) => exact.has(tool) || prefixes.some((p) => tool.startsWith(p)),
    clip: (value) => {
      const text = JSON.stringify(value) ?? 'null';
      if (Buffer.byteLength(text, 'utf8') <= config.maxBytes) return value;
      return { clipped: true, bytes: Buffer.byteLength(text, 'utf8'), head: Buffer.from(text, 'utf8').subarray(0, config.maxBytes).toString('utf8') };
    },
  };
}
