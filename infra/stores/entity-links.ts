// Linked accounts in Cordon's database (core/linked.ts decides; api/linker.ts sends), shared by every process:
// - entity_sightings: which account used which entity, last when (event time). Values arrive keyed-hashed at
//   intake; nothing here sees a clear one. Kept for the policy's linked window after the last use.
// - link_jobs: what a case's end asks of the linker, written by the worker as it archives the case (a retried
//   activity writes nothing twice), claimed by one API process at a time for a lease, marked done once.
// - linked_signals: each signal sent (source case, account, entity kind) and its withdrawal.
import type { EntityKind } from '../../core/events';
import type { Sighting } from '../../core/linked';
import type { ReasonCode } from '../../core/model';
import { insertIgnore, takeLease, type StoreContext } from './context';

export type LinkJobKind = 'LINK' | 'WITHDRAW';

export interface LinkJob {
  caseId: string;
  kind: LinkJobKind;
  /** The account whose case ended. */
  accountId: string;
  reasons: ReasonCode[];
  endedAt: number;
}

export interface LinkedSignal {
  sourceCaseId: string;
  accountId: string;
  entityKind: EntityKind;
  sentAt: number;
  withdrawnAt: number | null;
}

type Row = Record<string, unknown>;

export class EntityLinks {
  constructor(private readonly c: StoreContext) {}

  /** The account used these entities at `at` (event time); kept until `at + keepMs`, or longer if used again. */
  async sighted(
    accountId: string,
    entities: Readonly<Partial<Record<EntityKind, string>>>,
    at: number,
    keepMs: number,
  ): Promise<void> {
    const { db } = this.c;
    for (const [kind, value] of Object.entries(entities)) {
      if (value === undefined) continue;
      // A later use moves last_at forward; a late event never moves it back.
      await db.run(
        db.dialect === 'postgres'
          ? `INSERT INTO entity_sightings (kind, value, account_id, last_at, expires_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (kind, value, account_id) DO UPDATE SET
               last_at = GREATEST(entity_sightings.last_at, EXCLUDED.last_at),
               expires_at = GREATEST(entity_sightings.expires_at, EXCLUDED.expires_at)`
          : `INSERT INTO entity_sightings (kind, value, account_id, last_at, expires_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (kind, value, account_id) DO UPDATE SET
               last_at = MAX(last_at, excluded.last_at), expires_at = MAX(expires_at, excluded.expires_at)`,
        [kind, value, accountId, at, at + keepMs],
      );
    }
  }

  /** Every sighting of the entities the account used (its own among them), for core/linked.ts to choose from. */
  async sharedWith(accountId: string): Promise<Sighting[]> {
    const rows = await this.c.db.query<Row>(
      `SELECT o.kind AS kind, o.value AS value, o.account_id AS account_id, o.last_at AS last_at
       FROM entity_sightings s JOIN entity_sightings o ON o.kind = s.kind AND o.value = s.value
       WHERE s.account_id = ?`,
      [accountId],
    );
    return rows.map((r) => ({
      kind: String(r.kind) as EntityKind,
      value: String(r.value),
      accountId: String(r.account_id),
      lastAt: Number(r.last_at),
    }));
  }

  /** A case's end asks for links or their withdrawal; asking again changes nothing. */
  async enqueue(job: LinkJob): Promise<void> {
    const { db } = this.c;
    await db.run(insertIgnore(db, 'link_jobs', ['case_id', 'kind', 'account_id', 'reasons', 'ended_at']), [
      job.caseId,
      job.kind,
      job.accountId,
      JSON.stringify(job.reasons),
      job.endedAt,
    ]);
  }

  /**
   * Claims the oldest job not done whose lease (if any) has run out, for `leaseMs`: one process at a time works
   * on a job; a process that dies holding one leaves it to another once the lease ends.
   */
  async claim(leaseMs: number): Promise<LinkJob | null> {
    const { db, clock } = this.c;
    const now = clock();
    const candidates = await db.query<Row>(
      `SELECT case_id, kind, account_id, reasons, ended_at, claimed_until FROM link_jobs
       WHERE done_at IS NULL AND (claimed_until IS NULL OR claimed_until < ?)
       ORDER BY ended_at LIMIT 5`,
      [now],
    );
    for (const r of candidates) {
      const key = { case_id: String(r.case_id), kind: String(r.kind) };
      const taken = await takeLease(db, 'link_jobs', key, r.claimed_until, now + leaseMs);
      if (taken)
        return {
          caseId: String(r.case_id),
          kind: String(r.kind) as LinkJobKind,
          accountId: String(r.account_id),
          reasons: JSON.parse(String(r.reasons)) as ReasonCode[],
          endedAt: Number(r.ended_at),
        };
    }
    return null;
  }

  async done(job: Pick<LinkJob, 'caseId' | 'kind'>, outcome: string): Promise<void> {
    await this.c.db.run('UPDATE link_jobs SET done_at = ?, outcome = ? WHERE case_id = ? AND kind = ?', [
      this.c.clock(),
      outcome,
      job.caseId,
      job.kind,
    ]);
  }

  async jobOutcome(caseId: string, kind: LinkJobKind): Promise<string | null> {
    const rows = await this.c.db.query<Row>(
      'SELECT outcome FROM link_jobs WHERE case_id = ? AND kind = ? AND done_at IS NOT NULL',
      [caseId, kind],
    );
    return rows[0] ? String(rows[0].outcome) : null;
  }

  /** A signal about to be sent; kept first, so a withdrawal finds every signal that may have reached a case. */
  async signalled(s: Omit<LinkedSignal, 'withdrawnAt'>): Promise<void> {
    const { db } = this.c;
    await db.run(
      insertIgnore(db, 'linked_signals', ['source_case_id', 'account_id', 'entity_kind', 'sent_at']),
      [s.sourceCaseId, s.accountId, s.entityKind, s.sentAt],
    );
  }

  async signalsOf(sourceCaseId: string): Promise<LinkedSignal[]> {
    const rows = await this.c.db.query<Row>(
      `SELECT source_case_id, account_id, entity_kind, sent_at, withdrawn_at FROM linked_signals
       WHERE source_case_id = ? ORDER BY account_id`,
      [sourceCaseId],
    );
    return rows.map((r) => ({
      sourceCaseId: String(r.source_case_id),
      accountId: String(r.account_id),
      entityKind: String(r.entity_kind) as EntityKind,
      sentAt: Number(r.sent_at),
      withdrawnAt: r.withdrawn_at === null || r.withdrawn_at === undefined ? null : Number(r.withdrawn_at),
    }));
  }

  async withdrawn(sourceCaseId: string, accountId: string): Promise<void> {
    await this.c.db.run(
      'UPDATE linked_signals SET withdrawn_at = ? WHERE source_case_id = ? AND account_id = ? AND withdrawn_at IS NULL',
      [this.c.clock(), sourceCaseId, accountId],
    );
  }

  /** Sightings past their keeping, and jobs done a week ago. */
  async purge(now: number): Promise<number> {
    const { db } = this.c;
    return (
      (await db.run('DELETE FROM entity_sightings WHERE expires_at <= ?', [now])) +
      (await db.run('DELETE FROM link_jobs WHERE done_at IS NOT NULL AND done_at <= ?', [
        now - 7 * 86_400_000,
      ]))
    );
  }

  /**
   * Erasure: the account's sightings (its entity values among them) and the signals it received. Jobs and
   * signals about its own closures stay until done (they name it by ID only, as every case record does).
   */
  async eraseAccount(accountId: string): Promise<number> {
    const { db } = this.c;
    return (
      (await db.run('DELETE FROM entity_sightings WHERE account_id = ?', [accountId])) +
      (await db.run('DELETE FROM linked_signals WHERE account_id = ?', [accountId]))
    );
  }
}
