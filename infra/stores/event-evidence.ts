// What each risk event that reached a case rests on, kept for the case's reviewers: the event's attributes, the
// rules that fired with the fields each read, and what every data source answered (or that it could not be
// reached). Written once per (account, event ID) when the event is answered (api/case-events.ts), read for the
// case view (api/case-evidence.ts). Attributes and sources' answers describe the account holder: the record is
// sealed whole under the account's data key; account, event and case IDs and the time stay plain columns, for
// lookups, the retention and erasure.
import type { FeatureSpec } from '../../core/features';
import type { ReasonCode } from '../../core/model';
import { DataKeyError } from '../data-keys';
import { insertIgnore, type StoreContext } from './context';

export type Fact = number | boolean | string;

/** A rule that fired on the event: its reason, and the value of every field its conditions read. */
export interface RuleEvidence {
  ruleId: string;
  reason: ReasonCode;
  /** Event attributes by name, data-source signals as "source.<name>.<signal>"; null: not in the facts. */
  fields: Record<string, Fact | null>;
}

/** One data source's answer while the event was scored, or that it could not be had. */
export type SourceEvidence =
  { name: string; available: true; signals: Record<string, Fact> } | { name: string; available: false };

export interface EventEvidence {
  accountId: string;
  eventId: string;
  /** The case the event was first answered with. */
  caseId: string;
  eventType: string;
  occurredAt: string;
  attributes: Record<string, Fact>;
  rules: RuleEvidence[];
  sources: SourceEvidence[];
  /** The definitions of the policy features (`feature.<name>`) its rules read: what each value counts. */
  features?: Record<string, FeatureSpec>;
}

/** The field name bound into each sealed record (a value copied to another column does not open). */
export const EVIDENCE_FIELD = 'event_evidence.evidence';

/** Keys per lookup: an IN list of bounded length. */
const CHUNK = 100;

export class EventEvidenceStore {
  constructor(private readonly c: StoreContext) {}

  /**
   * Keeps an event's evidence unless the event ID already has some (a retried event, several API processes at
   * once): the first record stays. Answers whether this call wrote it.
   */
  async record(e: EventEvidence): Promise<boolean> {
    const { db, dataKeys, clock } = this.c;
    const written = await db.run(
      insertIgnore(db, 'event_evidence', ['account_id', 'event_id', 'case_id', 'evidence', 'created_at']),
      [
        e.accountId,
        e.eventId,
        e.caseId,
        await dataKeys.seal(e.accountId, EVIDENCE_FIELD, JSON.stringify(e)),
        clock(),
      ],
    );
    return written > 0;
  }

  /**
   * The evidence kept for these events of the account, by event ID. An event without a record (answered before
   * 0.5, its case's retention over, its account erased) is absent; so is one sealed under a data key that no
   * longer exists (erased meanwhile).
   */
  async find(accountId: string, eventIds: readonly string[]): Promise<Map<string, EventEvidence>> {
    const found = new Map<string, EventEvidence>();
    const ids = [...new Set(eventIds)];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const rows = await this.c.db.query<{ event_id: string; evidence: string }>(
        `SELECT event_id, evidence FROM event_evidence
         WHERE account_id = ? AND event_id IN (${chunk.map(() => '?').join(', ')})`,
        [accountId, ...chunk],
      );
      for (const row of rows) {
        try {
          const plain = await this.c.dataKeys.open(accountId, EVIDENCE_FIELD, row.evidence);
          found.set(row.event_id, JSON.parse(plain) as EventEvidence);
        } catch (err) {
          if (!(err instanceof DataKeyError && err.reason === 'GONE')) throw err;
        }
      }
    }
    return found;
  }

  /** Erasure: every record of the account goes (they are personal through and through). Answers how many. */
  eraseAccount(accountId: string): Promise<number> {
    return this.c.db.run('DELETE FROM event_evidence WHERE account_id = ?', [accountId]);
  }

  /**
   * The retention: a case's evidence goes with the case's archived view (its statements, answers and files),
   * when the archive period ends. Runs before the archive's own purge, which removes the rows it reads.
   */
  purge(now: number): Promise<number> {
    return this.c.db.run(
      `DELETE FROM event_evidence
       WHERE case_id IN (SELECT case_id FROM case_archive WHERE expires_at <= ?)`,
      [now],
    );
  }
}
