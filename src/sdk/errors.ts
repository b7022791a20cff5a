/** An error Warden answered with: its stable code, HTTP status and (for held calls) details. */
export class WardenRequestError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly details: Record<string, unknown> | undefined,
  ) {
    super(`Warden refused the request: ${code} (HTTP ${status})`);
    this.name = 'WardenRequestError';
  }

  static async from(res: Response): Promise<WardenRequestError> {
    let body: Record<string, unknown> = {};
    try {
      body = (await res.json()) as Record<string, unknown>;
    } catch {
      // not JSON: keep the status alone
    }
    const err = body.error;
    if (typeof err === 'object' && err !== null) {
      const e = err as { code?: unknown; details?: unknown };
      return new WardenRequestError(String(e.code ?? 'UNKNOWN'), res.status, e.details as Record<string, unknown> | undefined);
    }
    // OAuth shape (RFC 6749 §5.2) from the token endpoint.
    return new WardenRequestError(String(body.warden_code ?? body.error ?? 'UNKNOWN'), res.status, body.details as Record<string, unknown> | undefined);
  }
}
