import type { ServerResponse } from 'node:http';

/** How long the headers of a POST's SSE answer may wait for its first event. */
export const SSE_HEADER_HOLD_MS = 20;

/**
 * The SDK answers each POST as an SSE stream and flushes the headers as soon as the request is
 * taken, before the tool has run; the event and the end follow in a second write. Every socket
 * write that wakes the agent's side is among the costliest steps of a call on a small host, so
 * the headers are held until the first event (Node then sends both in one write), and flushed
 * after `holdMs` when none has come, so the client of a slow tool still sees its stream open
 * within that time.
 */
export function holdSseHeaders(res: ServerResponse, holdMs = SSE_HEADER_HOLD_MS): void {
  const flush = res.flushHeaders.bind(res);
  let timer: NodeJS.Timeout | undefined;
  res.flushHeaders = () => {
    if (timer) return;
    // (`headersSent` turns true at writeHead, before anything is written: no use here.) A
    // response still open when the hold ends is flushed; if an event already carried the
    // headers, that writes nothing.
    timer = setTimeout(() => {
      if (!res.writableEnded && !res.destroyed) flush();
    }, holdMs);
  };
  res.once('close', () => clearTimeout(timer));
}
