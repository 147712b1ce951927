// Fixed-window rate limits shared by every process of the deployment (the user's pages count hits here).
import type { StoreContext } from './context';

/** No rate-limit window is longer than a day. */
const LONGEST_WINDOW_MS = 86_400_000;

export class RateLimits {
  constructor(private readonly c: StoreContext) {}

  /**
   * Counts one hit on a key in the current fixed window and says whether it is within the limit; when it is
   * not, how long until the window ends (for Retry-After). One statement, so concurrent processes count right.
   */
  async hit(
    key: string,
    windowMs: number,
    limit: number,
  ): Promise<{ allowed: boolean; retryAfterMs: number }> {
    const now = this.c.clock();
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const rows = await this.c.db.query<{ hits: number }>(
      `INSERT INTO rate_limits (limit_key, window_start, hits) VALUES (?, ?, 1)
       ON CONFLICT (limit_key, window_start) DO UPDATE SET hits = rate_limits.hits + 1
       RETURNING hits`,
      [key, windowStart],
    );
    const hits = Number(rows[0]?.hits ?? 1);
    return { allowed: hits <= limit, retryAfterMs: windowStart + windowMs - now };
  }

  /** Drops the counts of windows that have ended by `now`. */
  async purge(now: number): Promise<void> {
    await this.c.db.run('DELETE FROM rate_limits WHERE window_start < ?', [now - LONGEST_WINDOW_MS]);
  }
}
