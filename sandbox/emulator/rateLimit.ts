/** A sliding-window counter per key (tenant): at most `limit` accepted hits in any `windowMs`. */
export class SlidingWindow {
  private readonly hits = new Map<string, number[]>();

  /** Records a hit if allowed; otherwise says after how many seconds the oldest hit leaves the window. */
  take(
    key: string,
    limit: number,
    windowMs: number,
    now = Date.now(),
  ): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - windowMs);
    if (recent.length >= limit) {
      this.hits.set(key, recent);
      const oldest = recent[recent.length - limit] ?? now;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)) };
    }
    recent.push(now);
    this.hits.set(key, recent);
    return { ok: true };
  }

  /** Whether a hit would be allowed, without recording one. */
  peek(
    key: string,
    limit: number,
    windowMs: number,
    now = Date.now(),
  ): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - windowMs);
    if (recent.length < limit) return { ok: true };
    const oldest = recent[recent.length - limit] ?? now;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)) };
  }

  clear(): void {
    this.hits.clear();
  }
}
