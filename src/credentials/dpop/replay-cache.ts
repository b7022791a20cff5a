/**
 * DPoP proof `jti`s seen within their acceptance window (RFC 9449 §11.1). Two generations of
 * sets rotate every window, so memory stays bounded by the proofs of two windows and lookups
 * are O(1). A proof is only remembered once it verified: unsigned junk cannot fill it.
 */
export class ReplayCache {
  private current = new Set<string>();
  private previous = new Set<string>();
  private rotatedAt: number;

  constructor(
    private readonly windowMs: number,
    now: number,
    private readonly maxEntries = 2_000_000,
  ) {
    this.rotatedAt = now;
  }

  /** Remembers `key`; returns false when it was already seen within the window. */
  useOnce(key: string, now: number): boolean {
    if (now - this.rotatedAt >= this.windowMs) {
      // Entries older than one window move to `previous`; older than two are dropped.
      this.previous = now - this.rotatedAt >= 2 * this.windowMs ? new Set() : this.current;
      this.current = new Set();
      this.rotatedAt = now;
    }
    if (this.current.has(key) || this.previous.has(key)) return false;
    // Fail closed under a flood: refuse rather than forget entries still inside the window.
    if (this.current.size + this.previous.size >= this.maxEntries) return false;
    this.current.add(key);
    return true;
  }
}
