import type { FlowLabels } from '../config/tool-metadata.js';
import { extractValues } from './provenance/index.js';

/** Whether `host` is one of `domains` or under one of them. */
function inside(host: string, domains: readonly string[]): boolean {
  return domains.some((d) => host === d || host.endsWith(`.${d}`));
}

/**
 * The sink of this call, when the tool's sink depends on its arguments (`labels.sinkArgs`):
 * `external` if any address or URL in those arguments is outside the organisation's domains,
 * or if they name a bank account or a phone number (no organisation owns those: they reach
 * the outside world); `internal` when every address is inside. When the call names no address
 * in them (the argument is absent, or holds only names), the labelled sink stands. A tool
 * without `sinkArgs` keeps its labelled sink.
 */
export function effectiveSink(labels: FlowLabels, args: Record<string, unknown>, internalDomains: readonly string[]): FlowLabels['sink'] {
  if (!labels.sinkArgs || labels.sinkArgs.length === 0 || labels.sink === 'none') return labels.sink;
  const hosts: string[] = [];
  for (const name of labels.sinkArgs) {
    if (!Object.hasOwn(args, name)) continue;
    for (const v of extractValues(args[name])) {
      if (v.kind === 'email') hosts.push(v.value.slice(v.value.lastIndexOf('@') + 1));
      else if (v.kind === 'domain') hosts.push(v.value);
      else if (v.kind === 'url') hosts.push(v.value.split('/')[0]!.split(':')[0]!);
      else if (v.kind === 'iban' || v.kind === 'account' || v.kind === 'phone') return 'external';
    }
  }
  if (hosts.length === 0) return labels.sink;
  return hosts.every((h) => inside(h, internalDomains)) ? 'internal' : 'external';
}
