// Rate limits of the user's pages (policy `userActions`): per IP on every link redemption, and per case, account
// and IP on every action, counted in Cordon's database so API processes share them; 429 with Retry-After. A
// burst past the limits is reported once per window as a USER_ACTION_BURST risk event for the account.
import type { Request, Response } from 'express';
import { Problem } from '../web/problems';
import { parseCaseId } from '../core/contracts';
import { parseDuration } from '../core/durations';
import type { Policy } from '../core/policy';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store';
import { limitPage, type PortalContext } from './pages';

/** What the user does on the page, as limits and logs name it. */
export type Action = 'appeal' | 'info' | 'verification' | 'confirmation';

export function rateLimits(o: {
  store: Store;
  limits: Policy['userActions'];
  logger: Logger;
  /** Reports a risk event to the API (POST /v1/risk-events), as the page does. */
  reportEvent: (event: Record<string, unknown>) => Promise<unknown>;
  ctxFor: (req: Request, asked: unknown) => PortalContext;
}) {
  const { store, limits, logger } = o;
  const windowMs = parseDuration(limits.window) ?? 3_600_000;
  const ipOf = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

  const tooMany = (res: Response, ctx: PortalContext, retryAfterMs: number) => {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    res.set('Retry-After', String(seconds)).status(429).send(limitPage(ctx, seconds));
  };

  /** Counts every hit (the same work whichever limit is over); the longest wait of those over, if any. */
  const overLimits = async (hits: [string, number][]): Promise<number | null> => {
    const results = await Promise.all(hits.map(([key, limit]) => store.rateLimits.hit(key, windowMs, limit)));
    const over = results.filter((r) => !r.allowed);
    return over.length ? Math.max(...over.map((r) => r.retryAfterMs)) : null;
  };

  /** One USER_ACTION_BURST per account and window (a few tries if reporting fails; the event ID keeps it one). */
  const reportBurst = async (caseId: string, action: Action) => {
    const accountId = parseCaseId(caseId)?.accountId;
    if (!accountId) return;
    const marker = await store.rateLimits.hit(`portal:burst-reported:${accountId}`, windowMs, 3);
    if (!marker.allowed) return;
    const windowStart = Math.floor(Date.now() / windowMs) * windowMs;
    try {
      await o.reportEvent({
        eventId: `portal-burst:${accountId}:${windowStart.toString(36)}`,
        accountId,
        type: 'USER_ACTION_BURST',
        occurredAt: new Date().toISOString(),
        attributes: { action },
      });
      logger.warn('user actions past the rate limits: reported', { caseId, action });
    } catch (err) {
      logger.warn('user action burst not reported', {
        caseId,
        action,
        error: err instanceof Problem ? err.extra.code : (err as Error).name,
      });
    }
  };

  return {
    /** Link redemptions per IP: counted before the link is even read, so guessing costs the same. */
    openLimited: async (req: Request, res: Response): Promise<boolean> => {
      const wait = await overLimits([[`portal:ip-open:${ipOf(req)}`, limits.linkOpensPerIp]]);
      if (wait === null) return false;
      tooMany(res, o.ctxFor(req, undefined), wait);
      return true;
    },

    /** Per case, account and IP, for every action; past them, a burst report and a 429. */
    actionLimited: async (
      req: Request,
      res: Response,
      caseId: string,
      action: Action,
      ctx: PortalContext,
    ): Promise<boolean> => {
      const accountId = parseCaseId(caseId)?.accountId ?? caseId;
      const wait = await overLimits([
        [`portal:case:${caseId}`, limits.perCase],
        [`portal:account:${accountId}`, limits.perAccount],
        [`portal:ip-action:${ipOf(req)}`, limits.perIp],
      ]);
      if (wait === null) return false;
      logger.info('user action refused: rate limit', { caseId, action });
      await reportBurst(caseId, action);
      tooMany(res, ctx, wait);
      return true;
    },
  };
}
