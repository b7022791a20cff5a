import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../config/load.js';
import type { ConfigFile } from '../config/schema.js';
import type { Approval } from '../domain/index.js';
import { SYSTEM, type EventLog } from '../events/event-log.js';
import type { Clock } from '../util/clock.js';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';

export type Webhook = ConfigFile['approvals']['webhooks'][number];
export type WebhookEvent = Webhook['events'][number];

/** Tells people about approvals. `notify` returns at once and never throws. */
export interface ApprovalNotifier {
  notify(event: WebhookEvent, approval: Approval): void;
  close?(): Promise<void>;
}

export const NO_NOTIFIER: ApprovalNotifier = { notify: () => {} };

/** What a webhook receives: `JSON.parse` of the POST body. */
export interface WebhookPayload {
  readonly type: WebhookEvent;
  readonly approval: Approval;
  /** The approval in the admin API, when Warden knows its public URL. */
  readonly url?: string;
}

export interface WebhookOptions {
  readonly events: EventLog;
  readonly clock: Clock;
  /** Where secrets are read from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Per attempt, connection to last byte (default 5 s). */
  readonly timeoutMs?: number;
  /** Waits before each retry; their count + 1 is the number of attempts (default 1 s, 5 s, 25 s). */
  readonly retryDelaysMs?: readonly number[];
  /** Warden's public URL, to link each approval in the payload. */
  readonly baseUrl?: string;
  /** Named in the startup error when a secret is missing. */
  readonly configFile?: string;
  readonly logger?: { warn(obj: object, msg: string): void };
}

interface Target {
  readonly url: URL;
  /** The URL without query or fragment: what logs and events may show. */
  readonly label: string;
  readonly secret: string;
  readonly events: ReadonlySet<WebhookEvent>;
}

type Attempt = { ok: true } | { ok: false; retryable: boolean; reason: string };

/**
 * Approval webhooks: a JSON POST per event and subscribed URL, signed with HMAC-SHA256 (see
 * `webhook-signature.ts`), delivered in the background so a slow or dead receiver never holds
 * up or fails a call. Each attempt has a deadline; network errors, timeouts, 408, 429 and 5xx
 * are retried with growing delays under the same `x-warden-delivery` id (receivers dedupe on
 * it); other answers are final. A delivery that never succeeds is recorded as `webhook.fail`.
 * Secrets and payloads never reach logs or events.
 */
export class WebhookNotifier implements ApprovalNotifier {
  private readonly targets: readonly Target[];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private readonly timeoutMs: number;
  private readonly delays: readonly number[];

  /** Throws `ConfigError` naming the variable (never its value) when a secret is not set. */
  constructor(
    webhooks: readonly Webhook[],
    private readonly opts: WebhookOptions,
  ) {
    const env = opts.env ?? process.env;
    const file = opts.configFile ?? 'warden.yaml';
    this.targets = webhooks.map((w, i) => {
      const secret = env[w.secretEnv];
      if (!secret) throw new ConfigError(file, [`approvals.webhooks.${i}.secretEnv: environment variable ${w.secretEnv} is not set`]);
      const url = new URL(w.url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new ConfigError(file, [`approvals.webhooks.${i}.url: must be http or https`]);
      }
      // fetch refuses such URLs anyway; say so at startup rather than at the first approval.
      if (url.username || url.password) {
        throw new ConfigError(file, [`approvals.webhooks.${i}.url: must not carry credentials (the HMAC secret authenticates)`]);
      }
      return { url, label: `${url.origin}${url.pathname}`, secret, events: new Set(w.events) };
    });
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.delays = opts.retryDelaysMs ?? [1000, 5000, 25_000];
  }

  notify(event: WebhookEvent, approval: Approval): void {
    if (this.stop.signal.aborted) return;
    const targets = this.targets.filter((t) => t.events.has(event));
    if (targets.length === 0) return;
    const payload: WebhookPayload = {
      type: event,
      approval,
      ...(this.opts.baseUrl ? { url: `${this.opts.baseUrl}/v1/approvals/${approval.id}` } : {}),
    };
    const body = JSON.stringify(payload);
    for (const target of targets) {
      const delivery = this.deliver(target, event, approval.id, body).catch((err: unknown) => {
        this.opts.logger?.warn({ webhook: target.label, err: err instanceof Error ? err.name : 'error' }, 'webhook delivery crashed');
      });
      this.inFlight.add(delivery);
      void delivery.finally(() => this.inFlight.delete(delivery));
    }
  }

  /** Resolves once every delivery started so far has succeeded or given up (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Starts no more deliveries and abandons the ones under way (their retries included). */
  async close(): Promise<void> {
    this.stop.abort();
    await this.idle();
  }

  private async deliver(target: Target, event: WebhookEvent, approvalId: string, body: string): Promise<void> {
    const delivery = randomUUID();
    const attempts = this.delays.length + 1;
    let reason = '';
    let made = 0;
    while (made < attempts) {
      if (made > 0) {
        const waited = await sleep(this.delays[made - 1] ?? 0, true, { signal: this.stop.signal }).catch(() => false);
        if (!waited) return;
      }
      made++;
      const result = await this.attempt(target, event, delivery, body);
      if (result.ok) return;
      if (this.stop.signal.aborted) return;
      reason = result.reason;
      this.opts.logger?.warn({ webhook: target.label, event, delivery, attempt: made, reason }, 'webhook delivery failed');
      if (!result.retryable) break;
    }
    await this.opts.events.record({
      type: 'webhook.fail',
      outcome: 'failure',
      actor: SYSTEM,
      subject: approvalId,
      data: { url: target.label, event, delivery, attempts: made, reason },
    });
  }

  private async attempt(target: Target, event: WebhookEvent, delivery: string, body: string): Promise<Attempt> {
    const signature = signWebhook(target.secret, body, Math.floor(this.opts.clock.now() / 1000));
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'warden-webhooks',
          'x-warden-event': event,
          'x-warden-delivery': delivery,
          [SIGNATURE_HEADER]: signature,
        },
        body,
        // A redirect would send the signed approval somewhere nobody configured.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.stop.signal]),
      });
      // The answer's body is of no interest, but reading it frees the connection.
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true };
      return { ok: false, retryable: res.status >= 500 || res.status === 408 || res.status === 429, reason: `HTTP ${res.status}` };
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return { ok: false, retryable: true, reason: timedOut ? 'timeout' : 'network error' };
    }
  }
}
