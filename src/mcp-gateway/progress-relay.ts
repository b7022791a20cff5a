/** What of an upstream's `notifications/progress` reaches the agent: numbers only. */
export interface Progress {
  readonly progress: number;
  readonly total?: number;
}

/** The closest two relayed reports of one call may follow each other. */
export const PROGRESS_MIN_INTERVAL_MS = 50;

/** Told of each progress the upstream reports for a call (see {@link progressRelay}). */
export type ProgressListener = (p: Progress) => void;

/** The agent's progress token of a request, if it asked for progress (MCP: a string or an integer). */
export function progressTokenOf(meta: unknown): string | number | undefined {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return undefined;
  const token = (meta as { progressToken?: unknown }).progressToken;
  if (typeof token === 'string' && token.length > 0 && token.length <= 256) return token;
  if (typeof token === 'number' && Number.isSafeInteger(token)) return token;
  return undefined;
}

/**
 * The listener a call hands its upstream when the agent asked for progress: what the upstream
 * reports goes to `send` as MCP `notifications/progress` params under the agent's own token,
 * until `stop()` (the call answered, failed or was cancelled: nothing follows an answer).
 *
 * Only the numbers are relayed. A progress `message` is upstream text that would reach the agent
 * before the result's secret scan and flow tracking ran on anything: it is dropped. So is a
 * report that is not a finite number, does not increase (MCP: progress MUST increase with each
 * notification) or claims a total below itself: a strict client would take it for an error.
 * At most one report per {@link PROGRESS_MIN_INTERVAL_MS} goes out.
 */
export function progressRelay(
  token: string | number,
  send: (params: { progressToken: string | number } & Progress) => void,
  opts: { minIntervalMs?: number; now?: () => number } = {},
): { listener: ProgressListener; stop(): void } {
  const minIntervalMs = opts.minIntervalMs ?? PROGRESS_MIN_INTERVAL_MS;
  const now = opts.now ?? (() => performance.now());
  let last = -Infinity;
  let sentAt = -Infinity;
  let stopped = false;
  return {
    listener: (p) => {
      if (stopped || !Number.isFinite(p.progress) || p.progress <= last) return;
      // An upstream that reports thousands of times a second must not make Warden write as
      // many events to an agent that may not be reading: reports closer together are dropped
      // (the next one carries the newer figure).
      const t = now();
      if (t - sentAt < minIntervalMs) return;
      const total = p.total !== undefined && Number.isFinite(p.total) && p.total >= p.progress ? p.total : undefined;
      last = p.progress;
      sentAt = t;
      send({ progressToken: token, progress: p.progress, ...(total !== undefined ? { total } : {}) });
    },
    stop: () => {
      stopped = true;
    },
  };
}
