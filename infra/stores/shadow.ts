// Shadow mode's records in Cordon's database: per day and policy pair, how many live events a candidate policy
// scored, and where it disagreed. Nothing personal: account and event IDs, tiers, scores, reason codes.
import type { StoreContext } from './context';

/** Where a candidate policy and the live one decided an event differently. */
export interface ShadowDisagreement {
  accountId: string;
  eventId: string;
  eventType: string;
  liveTier: string;
  candidateTier: string;
  liveScore: number;
  candidateScore: number;
  liveReasons: string[];
  candidateReasons: string[];
}

/** One live event scored by a candidate policy, and where it disagreed with the live one. */
export interface ShadowRecord {
  at: number;
  liveVersion: string;
  candidateVersion: string;
  disagreement?: ShadowDisagreement;
}

export class ShadowStore {
  constructor(private readonly c: StoreContext) {}

  /** One live event scored by a candidate policy; the disagreement, if any, is kept once per event. */
  async record(o: ShadowRecord): Promise<void> {
    const { db } = this.c;
    const day = new Date(o.at).toISOString().slice(0, 10);
    const d = o.disagreement;
    const added = d
      ? await db.run(
          `INSERT INTO shadow_disagreements (account_id, event_id, candidate_version, live_version, at, event_type,
             live_tier, candidate_tier, live_score, candidate_score, live_reasons, candidate_reasons)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (account_id, event_id, candidate_version) DO NOTHING`,
          [
            d.accountId,
            d.eventId,
            o.candidateVersion,
            o.liveVersion,
            o.at,
            d.eventType,
            d.liveTier,
            d.candidateTier,
            d.liveScore,
            d.candidateScore,
            JSON.stringify(d.liveReasons),
            JSON.stringify(d.candidateReasons),
          ],
        )
      : 0;
    await db.run(
      `INSERT INTO shadow_counts (day, live_version, candidate_version, scored, disagreements) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (day, live_version, candidate_version) DO UPDATE SET
         scored = shadow_counts.scored + 1, disagreements = shadow_counts.disagreements + excluded.disagreements`,
      [day, o.liveVersion, o.candidateVersion, added],
    );
  }

  /** Counts per day and policy pair within [from, to), and the latest disagreements (at most `examples`). */
  async report(
    from: number,
    to: number,
    examples: number,
  ): Promise<{
    days: {
      day: string;
      liveVersion: string;
      candidateVersion: string;
      scored: number;
      disagreements: number;
    }[];
    transitions: { liveTier: string; candidateTier: string; count: number }[];
    latest: (ShadowDisagreement & { at: number; liveVersion: string; candidateVersion: string })[];
  }> {
    const { db } = this.c;
    const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
    const days = await db.query<{
      day: string;
      live_version: string;
      candidate_version: string;
      scored: number;
      disagreements: number;
    }>(
      `SELECT day, live_version, candidate_version, scored, disagreements FROM shadow_counts
       WHERE day >= ? AND day <= ? ORDER BY day, live_version, candidate_version`,
      [dayOf(from), dayOf(to - 1)],
    );
    const transitions = await db.query<{ live_tier: string; candidate_tier: string; n: number }>(
      `SELECT live_tier, candidate_tier, COUNT(*) AS n FROM shadow_disagreements WHERE at >= ? AND at < ?
       GROUP BY live_tier, candidate_tier ORDER BY n DESC, live_tier, candidate_tier`,
      [from, to],
    );
    const latest = await db.query<Record<string, string | number>>(
      `SELECT * FROM shadow_disagreements WHERE at >= ? AND at < ? ORDER BY at DESC, event_id LIMIT ?`,
      [from, to, examples],
    );
    return {
      days: days.map((d) => ({
        day: d.day,
        liveVersion: d.live_version,
        candidateVersion: d.candidate_version,
        scored: Number(d.scored),
        disagreements: Number(d.disagreements),
      })),
      transitions: transitions.map((t) => ({
        liveTier: t.live_tier,
        candidateTier: t.candidate_tier,
        count: Number(t.n),
      })),
      latest: latest.map((r) => ({
        at: Number(r.at),
        liveVersion: String(r.live_version),
        candidateVersion: String(r.candidate_version),
        accountId: String(r.account_id),
        eventId: String(r.event_id),
        eventType: String(r.event_type),
        liveTier: String(r.live_tier),
        candidateTier: String(r.candidate_tier),
        liveScore: Number(r.live_score),
        candidateScore: Number(r.candidate_score),
        liveReasons: JSON.parse(String(r.live_reasons)) as string[],
        candidateReasons: JSON.parse(String(r.candidate_reasons)) as string[],
      })),
    };
  }
}
