import type { CatalogTool } from '../config/schema.js';
import { ToolDefinitionSchema, UpstreamToolNameSchema, type PersonId, type ToolDefinition, type ToolPin } from '../domain/index.js';
import { WardenError } from '../errors/warden-error.js';
import { SYSTEM, type EventLog } from '../events/event-log.js';
import type { ReloadResult } from '../policy/policy-service.js';
import type { Store } from '../store/store.js';
import { canonicalDigest } from '../util/canonical-digest.js';
import type { Clock } from '../util/clock.js';

type Risk = CatalogTool['risk'];
type Labels = CatalogTool['labels'];

/** What the config says about an upstream's tools: defaults, and per-tool overrides. */
export interface ServerToolSettings {
  readonly name: string;
  readonly defaults: { readonly risk: Risk; readonly tags: readonly string[]; readonly labels: Labels };
  readonly tools: Readonly<Record<string, { readonly risk?: Risk | undefined; readonly tags?: readonly string[] | undefined; readonly labels?: Partial<Labels> | undefined; readonly hidden?: boolean | undefined; readonly secretArgs?: readonly string[] | undefined }>>;
}

/** A tool as an upstream lists it (already shape-checked by the upstream client). */
export interface ListedTool extends ToolDefinition {
  readonly name: string;
}

/** A tool Warden offers: `server.tool`, its pinned definition, and its policy metadata. */
export interface GatewayTool {
  readonly qualified: string;
  readonly server: string;
  readonly tool: string;
  readonly definition: ToolDefinition;
  readonly risk: Risk;
  readonly tags: readonly string[];
  readonly labels: Labels;
  /** Arguments that carry a credential by design (config `secretArgs`). */
  readonly secretArgs: readonly string[];
}

/** The digest a tool definition is pinned by: base64url SHA-256 of its JCS form. */
export function definitionDigest(def: ToolDefinition): string {
  return canonicalDigest(def);
}

/** The pinned parts of a listed tool, with absent fields left out (so `{}` and none agree). */
export function definitionOf(listed: ListedTool): ToolDefinition {
  const { name: _name, ...rest } = listed;
  return ToolDefinitionSchema.parse(Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
}

/**
 * The gateway's tool catalog: every upstream tool under `server.tool`, pinned at first sight.
 *
 * A tool is offered only while the upstream's current definition is the pinned one. When an
 * upstream changes a tool's description, schemas or annotations, the change is recorded once
 * (`tool.change`) and kept aside, and the tool is withheld (`TOOL_WITHHELD`) until an admin
 * accepts exactly that change — a tool server cannot re-word what a reviewed tool does (tool
 * poisoning) or widen its input behind the reviewers' backs. An upstream that reverts to the
 * pinned definition is offered again.
 *
 * Policies are validated against a schema generated from the accepted definitions, so the
 * catalog tells the policy engine whenever a tool is pinned or a change accepted.
 */
export class ToolCatalog {
  private readonly settings: ReadonlyMap<string, ServerToolSettings>;
  private readonly pins = new Map<string, ToolPin>();
  /** Per server: tool → digest of the definition the upstream listed last. */
  private readonly listed = new Map<string, Map<string, string>>();

  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly clock: Clock,
    servers: readonly ServerToolSettings[],
    private readonly staticTools: readonly CatalogTool[],
    private readonly onCatalogChange: (tools: CatalogTool[]) => Promise<ReloadResult>,
  ) {
    this.settings = new Map(servers.map((s) => [s.name, s]));
  }

  /** Reads the pins of the configured servers from the store. */
  async load(): Promise<void> {
    for (const pin of await this.store.listToolPins()) {
      if (this.settings.has(pin.server)) this.pins.set(`${pin.server}.${pin.tool}`, pin);
    }
  }

  /**
   * Takes an upstream's current tool list: pins new tools, flags changed ones, and tells the
   * policy engine when the set of accepted definitions grew. Tools with names Warden cannot
   * offer are skipped and returned.
   */
  async reconcile(server: string, tools: readonly ListedTool[]): Promise<{ skipped: string[] }> {
    if (!this.settings.has(server)) throw new TypeError(`reconcile() for unconfigured server ${server}`);
    const now = this.clock.now();
    const current = new Map<string, string>();
    const skipped: string[] = [];
    let grew = false;
    for (const listedTool of tools) {
      if (!UpstreamToolNameSchema.safeParse(listedTool.name).success || current.has(listedTool.name)) {
        skipped.push(listedTool.name.slice(0, 130));
        continue;
      }
      const definition = definitionOf(listedTool);
      const digest = definitionDigest(definition);
      current.set(listedTool.name, digest);
      const key = `${server}.${listedTool.name}`;
      const known = this.pins.get(key);
      if (known && known.digest === digest && known.status === 'accepted') continue;
      if (!known) {
        const { pin, created } = await this.store.pinTool({
          server,
          tool: listedTool.name,
          digest,
          definition,
          status: 'accepted',
          pendingDigest: null,
          pendingDefinition: null,
          firstSeenAt: now,
          changedAt: null,
          acceptedAt: now,
          acceptedBy: null,
        });
        this.pins.set(key, pin);
        grew = true;
        if (created) {
          await this.events.record({ type: 'tool.pin', outcome: 'success', actor: SYSTEM, subject: key, data: { server, tool: listedTool.name, digest } });
        }
        if (pin.digest === digest) continue;
      }
      const pin = this.pins.get(key)!;
      if (pin.digest === digest) continue;
      const flagged = await this.store.flagToolChange(server, listedTool.name, digest, definition, now);
      if (!flagged) continue;
      this.pins.set(key, flagged.pin);
      if (flagged.flagged) {
        await this.events.record({
          type: 'tool.change',
          outcome: 'denied',
          actor: SYSTEM,
          subject: key,
          data: { server, tool: listedTool.name, pinned: pin.digest, offered: digest, changed: changedFields(pin.definition, definition) },
        });
      }
    }
    // The policy engine learns of new tools before they are offered.
    if (grew) await this.onCatalogChange(this.catalogTools());
    this.listed.set(server, current);
    return { skipped };
  }

  /** The tool `qualified` if offered now; TOOL_WITHHELD or TOOL_NOT_FOUND otherwise. */
  resolve(qualified: string): GatewayTool {
    const dot = qualified.indexOf('.');
    const server = dot > 0 ? qualified.slice(0, dot) : '';
    const tool = qualified.slice(dot + 1);
    const settings = this.settings.get(server);
    const pin = this.pins.get(qualified);
    const listedDigest = this.listed.get(server)?.get(tool);
    if (!settings || !pin || listedDigest === undefined || settings.tools[tool]?.hidden) throw new WardenError('TOOL_NOT_FOUND', { tool: qualified.slice(0, 200) });
    if (listedDigest !== pin.digest) throw new WardenError('TOOL_WITHHELD', { tool: qualified, pendingDigest: pin.pendingDigest ?? listedDigest });
    return this.toGatewayTool(pin, settings);
  }

  /** Every tool offered now (listed by its upstream, definition as pinned, not hidden). */
  offered(): GatewayTool[] {
    const out: GatewayTool[] = [];
    for (const [server, current] of this.listed) {
      const settings = this.settings.get(server)!;
      for (const [tool, digest] of current) {
        const pin = this.pins.get(`${server}.${tool}`);
        if (pin && pin.digest === digest && !settings.tools[tool]?.hidden) out.push(this.toGatewayTool(pin, settings));
      }
    }
    return out.sort((a, b) => (a.qualified < b.qualified ? -1 : 1));
  }

  /** The catalog policies are validated against: the config's own tools and every pinned one. */
  catalogTools(pins: ReadonlyMap<string, ToolPin> = this.pins): CatalogTool[] {
    const out = new Map<string, CatalogTool>(this.staticTools.map((t) => [t.name, t]));
    for (const pin of pins.values()) {
      const settings = this.settings.get(pin.server);
      if (!settings) continue;
      const t = this.toGatewayTool(pin, settings);
      out.set(t.qualified, {
        name: t.qualified,
        ...(t.definition.description !== undefined ? { description: t.definition.description.slice(0, 2000) } : {}),
        risk: t.risk,
        tags: [...t.tags],
        labels: t.labels,
        inputSchema: t.definition.inputSchema,
      });
    }
    return [...out.values()];
  }

  /** Every pin with whether the upstream currently offers its definition (for `warden tools`). */
  pinsWithState(): { pin: ToolPin; listed: 'same' | 'changed' | 'absent' | 'unknown' }[] {
    return [...this.pins.values()]
      .sort((a, b) => (`${a.server}.${a.tool}` < `${b.server}.${b.tool}` ? -1 : 1))
      .map((pin) => {
        const current = this.listed.get(pin.server);
        const digest = current?.get(pin.tool);
        return { pin, listed: !current ? 'unknown' : digest === undefined ? 'absent' : digest === pin.digest ? 'same' : 'changed' };
      });
  }

  /**
   * Accepts the pending change of `qualified` — only the one whose digest the admin reviewed.
   * The policy engine is given the new definition first: when the policies no longer validate
   * against it (a policy reads an argument the change retyped), nothing is accepted.
   */
  async accept(qualified: string, pendingDigest: string, by: PersonId): Promise<ToolPin> {
    const pin = this.pins.get(qualified);
    if (!pin) throw new WardenError('TOOL_NOT_FOUND', { tool: qualified.slice(0, 200) });
    if (pin.status !== 'changed' || pin.pendingDigest !== pendingDigest || !pin.pendingDefinition) {
      // Another replica may have seen a newer change: re-read before refusing.
      const fresh = (await this.store.listToolPins(pin.server)).find((p) => p.tool === pin.tool);
      if (!fresh || fresh.status !== 'changed' || fresh.pendingDigest !== pendingDigest || !fresh.pendingDefinition) {
        throw new WardenError('TOOL_NOT_CHANGED', { tool: qualified, pendingDigest: fresh?.pendingDigest ?? null });
      }
      this.pins.set(qualified, fresh);
      return this.accept(qualified, pendingDigest, by);
    }
    const proposed: ToolPin = { ...pin, digest: pendingDigest, definition: pin.pendingDefinition, status: 'accepted', pendingDigest: null, pendingDefinition: null };
    const trial = new Map(this.pins).set(qualified, proposed);
    const tools = this.catalogTools(trial);
    const check = await this.onCatalogChange(tools);
    if (!check.ok) throw new WardenError('POLICY_INVALID', { problems: check.problems.slice(0, 20).map((p) => `${p.file}:${p.line}: ${p.message}`) });
    const accepted = await this.store.acceptToolChange(pin.server, pin.tool, pendingDigest, by, this.clock.now());
    if (!accepted) throw new WardenError('TOOL_NOT_CHANGED', { tool: qualified, pendingDigest: null });
    this.pins.set(qualified, accepted);
    await this.events.record({
      type: 'tool.accept',
      outcome: 'success',
      actor: { kind: 'person', id: by },
      subject: qualified,
      data: { server: pin.server, tool: pin.tool, previous: pin.digest, digest: accepted.digest, changed: changedFields(pin.definition, accepted.definition) },
    });
    return accepted;
  }

  private toGatewayTool(pin: ToolPin, settings: ServerToolSettings): GatewayTool {
    const o = settings.tools[pin.tool] ?? {};
    return {
      qualified: `${pin.server}.${pin.tool}`,
      server: pin.server,
      tool: pin.tool,
      definition: pin.definition,
      risk: o.risk ?? settings.defaults.risk,
      tags: o.tags ?? settings.defaults.tags,
      labels: { ...settings.defaults.labels, ...(o.labels ?? {}) },
      secretArgs: o.secretArgs ?? [],
    };
  }
}

/** Which parts of a definition differ, for events and `tools diff` (never the text itself). */
export function changedFields(a: ToolDefinition, b: ToolDefinition): string[] {
  const keys = ['title', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;
  return keys.filter((k) => canonicalDigest(a[k] ?? null) !== canonicalDigest(b[k] ?? null));
}
