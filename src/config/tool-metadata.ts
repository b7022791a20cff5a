import { z } from 'zod';

export const RISK_TIERS = ['low', 'medium', 'high', 'critical'] as const;
export const RiskTierSchema = z.enum(RISK_TIERS);

/** An argument name (a top-level key of the call's arguments, or the HTTP `path`/`query`). */
export const ArgNameSchema = z.string().min(1).max(128);

/**
 * Flow labels of a tool (DESIGN.md "Flow control", docs/flow.md):
 * - `source`: does its result carry outside content (`untrusted`: web pages, inboxes, files and
 *   messages others wrote) or only what the organisation controls (`trusted`)?
 * - `data`: how sensitive is what it returns?
 * - `sink`: does it send or change something (`internal`: inside the organisation; `external`:
 *   to the outside world), or nothing (`none`)?
 * - `sinkArgs`: the arguments naming where the data goes (recipients, URLs). When given, the
 *   sink depends on them: `external` unless every address or URL in them is on one of the
 *   organisation's domains (`flow.internalDomains`), and an `internal` sink becomes `external`
 *   when one of them points outside.
 * - `untrustedFields`: fields of a trusted tool's result that others wrote (the subject a payer
 *   typed on a transfer, a message body in a record): the values in them count as untrusted for
 *   argument provenance. The tool's `source` still decides whether the task read untrusted
 *   content.
 * - `untrustedProse`: in a trusted tool's result, any value that reads as prose (four words or
 *   more) was written by someone, not vouched for by the tool: a directory vouches for the names
 *   it lists, not for a paragraph someone typed as a channel name. Values in prose count as
 *   untrusted.
 * - `trustedFields`: fields of an untrusted tool's result that the system itself records (who
 *   sent a message, where it was posted): the values in them count as trusted; the rest of the
 *   result stays outside content.
 * - `anchorFields`: fields of an untrusted tool's records that the system records and that say who
 *   wrote a record or where it was posted (`sender`, `channel`). When the person's request names
 *   the value of one ("the notes Ana posted", "the links posted to releases"), the record is what
 *   the person sent the agent to read: all of its values count as trusted. They are trusted
 *   fields too. Give them only where naming the author or the place is vouching for the record.
 */
export const FlowLabelsSchema = z
  .object({
    source: z.enum(['trusted', 'untrusted']).default('trusted'),
    data: z.enum(['public', 'internal', 'confidential']).default('internal'),
    sink: z.enum(['none', 'internal', 'external']).default('none'),
    sinkArgs: z.array(ArgNameSchema).max(20).optional(),
    untrustedFields: z.array(ArgNameSchema).max(50).optional(),
    untrustedProse: z.boolean().optional(),
    trustedFields: z.array(ArgNameSchema).max(50).optional(),
    anchorFields: z.array(ArgNameSchema).max(20).optional(),
  })
  .strict();
export type FlowLabels = z.infer<typeof FlowLabelsSchema>;

/**
 * The per-field labels that cannot apply to a tool of this `source`, each with why: a label that
 * does nothing is a misunderstanding of what it does, and one about trust, so it is refused
 * rather than ignored. `untrustedFields` and `untrustedProse` carve outside text out of a trusted
 * result; `trustedFields` and `anchorFields` carve vouched-for values out of an untrusted one.
 */
export function labelMisfits(labels: Pick<FlowLabels, 'source' | 'untrustedFields' | 'untrustedProse' | 'trustedFields' | 'anchorFields'>): { label: string; message: string }[] {
  const out: { label: string; message: string }[] = [];
  if (labels.source === 'untrusted') {
    if (labels.untrustedFields?.length) out.push({ label: 'untrustedFields', message: 'applies to a trusted source only: all of an untrusted result is outside content already' });
    if (labels.untrustedProse) out.push({ label: 'untrustedProse', message: 'applies to a trusted source only: all of an untrusted result is outside content already' });
  } else {
    if (labels.trustedFields?.length) out.push({ label: 'trustedFields', message: 'applies to an untrusted source only: all of a trusted result is trusted already' });
    if (labels.anchorFields?.length) out.push({ label: 'anchorFields', message: 'applies to an untrusted source only: all of a trusted result is trusted already' });
  }
  return out;
}
