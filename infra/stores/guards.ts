// Rule guards in Cordon's database (core/guards.ts decides), shared by every API process:
// - guard_matches: each decision in which a guarded rule fired and the account was restricted, once per
//   (rule, account, event ID) however often it is retried, by wall-clock time: the sliding hour and the trailing
//   7-day baseline are counts over it. Kept 8 days.
// - guard_trips: each trip with the counts that caused it, until a senior re-arms it; at most one open per rule
//   (a unique index), so processes crossing the threshold at once trip it once.
import { insertIgnore, takeLease, type StoreContext } from './context';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface GuardTrip {
  ruleId: string;
  trippedAt: number;
  hourCount: number;
  baselinePerHour: number;
  onTrip: 'alert' | 'capAtStepUp';
  rearmedAt: number | null;
  rearmedBy: string | null;
}

type Row = Record<string, unknown>;

const tripOf = (r: Row): GuardTrip => ({
  ruleId: String(r.rule_id),
  trippedAt: Number(r.tripped_at),
  hourCount: Number(r.hour_count),
  baselinePerHour: Number(r.baseline_per_hour),
  onTrip: String(r.on_trip) as GuardTrip['onTrip'],
  rearmedAt: r.rearmed_at === null || r.rearmed_at === undefined ? null : Number(r.rearmed_at),
  rearmedBy: typeof r.rearmed_by === 'string' ? r.rearmed_by : null,
});

export class GuardStore {
  constructor(private readonly c: StoreContext) {}

  /** A match of a guarded rule; false when this event was counted for the rule already (a retry). */
  async match(m: {
    ruleId: string;
    accountId: string;
    eventId: string;
    caseId: string | null;
    at: number;
  }): Promise<boolean> {
    const { db } = this.c;
    const written = await db.run(
      insertIgnore(db, 'guard_matches', ['rule_id', 'account_id', 'event_id', 'case_id', 'at']),
      [m.ruleId, m.accountId, m.eventId, m.caseId, m.at],
    );
    return written > 0;
  }

  /**
   * The rule's matches in the sliding hour up to `now` — since its last re-arming, if that is later: a re-armed
   * guard counts anew — and in the 7 days before that hour (the baseline).
   */
  async counts(ruleId: string, now: number): Promise<{ hour: number; trailing: number }> {
    const { db } = this.c;
    const rearmed = await db.query<{ t: number | string | null }>(
      'SELECT MAX(rearmed_at) AS t FROM guard_trips WHERE rule_id = ?',
      [ruleId],
    );
    const from = Math.max(now - HOUR_MS, Number(rearmed[0]?.t ?? -Infinity));
    const rows = await db.query<{ hour: number | string | null; trailing: number | string | null }>(
      `SELECT SUM(CASE WHEN at > ? THEN 1 ELSE 0 END) AS hour,
              SUM(CASE WHEN at <= ? THEN 1 ELSE 0 END) AS trailing
       FROM guard_matches WHERE rule_id = ? AND at > ? AND at <= ?`,
      [from, now - HOUR_MS, ruleId, now - HOUR_MS - 7 * DAY_MS, now],
    );
    return { hour: Number(rows[0]?.hour ?? 0), trailing: Number(rows[0]?.trailing ?? 0) };
  }

  /** The cases the rule's matches opened or changed in the hour up to `now` (a trip's affected cases). */
  async casesInHour(ruleId: string, now: number): Promise<string[]> {
    const rows = await this.c.db.query<{ case_id: string }>(
      `SELECT DISTINCT case_id FROM guard_matches
       WHERE rule_id = ? AND at > ? AND at <= ? AND case_id IS NOT NULL ORDER BY case_id`,
      [ruleId, now - HOUR_MS, now],
    );
    return rows.map((r) => String(r.case_id));
  }

  /** Trips the rule's guard unless it is tripped already: true for the one call that tripped it. */
  async trip(t: Omit<GuardTrip, 'rearmedAt' | 'rearmedBy'>): Promise<boolean> {
    const { db } = this.c;
    const written = await db.run(
      insertIgnore(db, 'guard_trips', [
        'rule_id',
        'tripped_at',
        'hour_count',
        'baseline_per_hour',
        'on_trip',
      ]),
      [t.ruleId, t.trippedAt, t.hourCount, t.baselinePerHour, t.onTrip],
    );
    return written > 0;
  }

  /** The trips not re-armed yet, oldest first. */
  async open(): Promise<GuardTrip[]> {
    const rows = await this.c.db.query<Row>(
      'SELECT * FROM guard_trips WHERE rearmed_at IS NULL ORDER BY tripped_at, rule_id',
    );
    return rows.map(tripOf);
  }

  /** The latest trips (re-armed or not), newest first. */
  async recent(limit = 50): Promise<GuardTrip[]> {
    const rows = await this.c.db.query<Row>(
      `SELECT * FROM guard_trips ORDER BY tripped_at DESC, rule_id LIMIT ${Math.max(1, Math.floor(limit))}`,
    );
    return rows.map(tripOf);
  }

  /** Re-arms the rule's open trip; null when none is open (never tripped, or re-armed already). */
  async rearm(ruleId: string, by: string, at: number): Promise<GuardTrip | null> {
    const open = (await this.open()).find((t) => t.ruleId === ruleId);
    if (!open) return null;
    const done = await this.c.db.run(
      'UPDATE guard_trips SET rearmed_at = ?, rearmed_by = ? WHERE rule_id = ? AND tripped_at = ? AND rearmed_at IS NULL',
      [at, by, ruleId, open.trippedAt],
    );
    return done > 0 ? { ...open, rearmedAt: at, rearmedBy: by } : null;
  }

  /** A trip is to be noted in each of these cases' timelines; queuing again changes nothing. */
  async queueNotes(ruleId: string, trippedAt: number, caseIds: readonly string[]): Promise<void> {
    const { db } = this.c;
    for (const caseId of caseIds)
      await db.run(insertIgnore(db, 'guard_notes', ['rule_id', 'tripped_at', 'case_id']), [
        ruleId,
        trippedAt,
        caseId,
      ]);
  }

  /** Claims the oldest note not sent whose lease (if any) has run out, for `leaseMs`, with its trip. */
  async claimNote(leaseMs: number): Promise<{ caseId: string; trip: GuardTrip } | null> {
    const { db, clock } = this.c;
    const now = clock();
    const rows = await db.query<Row>(
      `SELECT n.case_id AS case_id, n.claimed_until AS claimed_until, t.* FROM guard_notes n
       JOIN guard_trips t ON t.rule_id = n.rule_id AND t.tripped_at = n.tripped_at
       WHERE n.done_at IS NULL AND (n.claimed_until IS NULL OR n.claimed_until < ?)
       ORDER BY n.tripped_at LIMIT 5`,
      [now],
    );
    for (const r of rows) {
      const key = {
        rule_id: String(r.rule_id),
        tripped_at: Number(r.tripped_at),
        case_id: String(r.case_id),
      };
      const taken = await takeLease(db, 'guard_notes', key, r.claimed_until, now + leaseMs);
      if (taken) return { caseId: String(r.case_id), trip: tripOf(r) };
    }
    return null;
  }

  async noteDone(ruleId: string, trippedAt: number, caseId: string): Promise<void> {
    await this.c.db.run(
      'UPDATE guard_notes SET done_at = ? WHERE rule_id = ? AND tripped_at = ? AND case_id = ?',
      [this.c.clock(), ruleId, trippedAt, caseId],
    );
  }

  /** Matches older than the baseline reads. */
  async purge(now: number): Promise<number> {
    return (
      (await this.c.db.run('DELETE FROM guard_matches WHERE at <= ?', [now - 8 * DAY_MS])) +
      (await this.c.db.run('DELETE FROM guard_notes WHERE done_at IS NOT NULL AND done_at <= ?', [
        now - 8 * DAY_MS,
      ]))
    );
  }

  /** Erasure: the account's matches (trips hold counts only). */
  async eraseAccount(accountId: string): Promise<number> {
    return this.c.db.run('DELETE FROM guard_matches WHERE account_id = ?', [accountId]);
  }
}
