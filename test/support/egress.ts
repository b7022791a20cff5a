import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach } from 'node:test';
import type { EgressRequest } from '../../src/egress/forward.js';

/** A request as the upstream saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The address the connection arrived on, and the peer's port (same port = same connection). */
  readonly localAddress: string;
  readonly remotePort: number;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export interface TestUpstream {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  /** Replaces how the next requests are answered. */
  handle(handler: UpstreamHandler): void;
  close(): Promise<void>;
}

/** Answers with the request it saw, as JSON. */
export const echo: UpstreamHandler = (req, res, body) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') }));
};

/** A real HTTP server on 127.0.0.1:0 that records every request; echoes unless told otherwise. */
export async function startUpstream(handler: UpstreamHandler = echo): Promise<TestUpstream> {
  let current = handler;
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        localAddress: req.socket.localAddress ?? '',
        remotePort: req.socket.remotePort ?? 0,
      });
      current(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    seen,
    handle: (h) => {
      current = h;
    },
    close: async () => {
      // Hanging handlers leave sockets open on purpose; close them, or close() would wait.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}


/** The secret store of the tests. */
export const SECRETS: Readonly<Record<string, string>> = {
  'api-token': 'tok-SECRET-0123456789',
  'maps-key': 'key SECRET/+&=',
  'crlf-token': 'tok\r\nX-Evil: 1',
};

export const resolveSecret = async (name: string): Promise<string> => {
  const value = SECRETS[name];
  if (value === undefined) throw new Error(`no secret named ${name}`);
  return value;
};

/**
 * One test upstream for a test file: started before its tests and closed after; before each
 * test its record of requests is cleared and, with `reset`, its handler put back.
 */
export function useUpstream(reset?: UpstreamHandler): () => TestUpstream {
  let server: TestUpstream | undefined;
  before(async () => {
    server = await startUpstream();
  });
  after(() => server?.close());
  beforeEach(() => {
    server!.seen.length = 0;
    if (reset) server!.handle(reset);
  });
  return () => server!;
}

/** A GET of `path` as the egress forwarder takes it. */
export const get = (path: string, patch: Partial<EgressRequest> = {}): EgressRequest => ({ method: 'GET', path, headers: {}, ...patch });
