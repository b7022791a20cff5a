import { Agent, request, type OutgoingHttpHeaders } from 'node:http';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * The load generator's client: node:http over keep-alive sockets, one per request in flight.
 * Lighter than `fetch` (undici's WHATWG layer), which matters because it shares the process,
 * and so the CPU, with the server it measures.
 */
export class HttpClient {
  private readonly agent: Agent;

  constructor(
    private readonly base: URL,
    sockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  send(method: string, path: string, headers: OutgoingHttpHeaders, body?: string): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.agent,
          headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Warden's stable code from an error body (both shapes); never the body itself, which may echo input. */
export function errorCodeOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; warden_code?: unknown };
    if (typeof parsed.warden_code === 'string') return parsed.warden_code;
    if (typeof parsed.error === 'object' && parsed.error !== null && 'code' in parsed.error) return String(parsed.error.code);
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON
  }
  return 'UNKNOWN';
}

/** Throws, naming the request and Warden's code, unless the answer has the expected status. */
export function expectStatus(answer: HttpAnswer, status: number, what: string): void {
  if (answer.status !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${answer.status} (${errorCodeOf(answer.body)})`);
  }
}
