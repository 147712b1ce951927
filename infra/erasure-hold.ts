// Whether an account's personal data may be erased now: no open case, no restriction in force, and its legal hold
// over. The hold counts from the end of the account's last case and lasts the longer of the deployment's minimum
// (CORDON_ERASURE_MIN_HOLD_DAYS) and the policy's privacy.legalHoldDays; an account ever closed for fraud or ever
// under a regulatory hold keeps the longest hold, LONGEST_HOLD_DAYS, whatever the two say (they only lengthen it).
import type { CaseView } from '../core/contracts';
import type { ReasonCode } from '../core/model';
import type { OutcomeCode } from '../core/outcomes';
import { DataKeyError } from './data-keys';
import { FIELD, openJson } from './personal-data';
import type { Store } from './store';

const DAY_MS = 86_400_000;

/**
 * Ten years: records of a fraud closure or a regulator's hold are evidence in proceedings that can start long
 * after the five years anti-money-laundering law keeps customer records (CORDON_ERASURE_MIN_HOLD_DAYS' default).
 */
export const LONGEST_HOLD_DAYS = 3_650;

/** The reason codes, and the outcome codes (core/outcomes.ts) an explanation gives since 0.5, of each kind. */
const FRAUD_REASONS: readonly (ReasonCode | OutcomeCode)[] = ['EXTERNAL_FRAUD_REPORT', 'FRAUD_CONFIRMED'];
const REGULATORY_REASONS: readonly (ReasonCode | OutcomeCode)[] = ['REGULATORY_HOLD', 'LEGAL_REQUIREMENT'];

export type Erasability =
  | { ok: true; holdDays: number; holdUntil: number | null }
  | { ok: false; code: 'CASE_OPEN' }
  | { ok: false; code: 'RESTRICTION_IN_FORCE' }
  | { ok: false; code: 'LEGAL_HOLD'; holdDays: number; holdUntil: number };

/** What the hold of one account rests on, read from its ended cases. */
export interface AccountHistory {
  /** When its last case ended (ms), or null when it never had one. */
  lastEndedAt: number | null;
  /** Some case of it was closed for fraud, or was under a regulatory hold. */
  longestHold: boolean;
}

/** The codes a case was decided on: its reasons, and the code of the explanation it ended with. */
function codesOf(view: CaseView): (ReasonCode | OutcomeCode)[] {
  return [...view.reasons.map((r) => r.code), ...(view.explanation ? [view.explanation.code] : [])];
}

export function needsLongestHold(view: CaseView): boolean {
  const codes = codesOf(view);
  const fraudClosure = view.outcome === 'CLOSED' && codes.some((c) => FRAUD_REASONS.includes(c));
  return fraudClosure || codes.some((c) => REGULATORY_REASONS.includes(c));
}

/** The hold's length in days for an account. */
export function holdDaysOf(o: { minHoldDays: number; policyHoldDays: number; longestHold: boolean }): number {
  const configured = Math.max(o.minHoldDays, o.policyHoldDays);
  return o.longestHold ? Math.max(LONGEST_HOLD_DAYS, configured) : configured;
}

/**
 * Reads the account's ended cases (their archived views: sealed, or stripped by an earlier erasure, which keeps
 * outcomes and codes). A view whose key was destroyed by an earlier erasure cannot tell and is passed over.
 */
export async function accountHistory(store: Store, accountId: string): Promise<AccountHistory> {
  const rows = await store.db.query<{ ended_at: number; view: string }>(
    'SELECT ended_at, view FROM case_archive WHERE account_id = ? ORDER BY ended_at',
    [accountId],
  );
  let lastEndedAt: number | null = null;
  let longestHold = false;
  for (const row of rows) {
    lastEndedAt = Math.max(lastEndedAt ?? 0, Number(row.ended_at));
    try {
      const view = await openJson<CaseView>(store.dataKeys, accountId, FIELD.archiveView, row.view);
      longestHold ||= needsLongestHold(view);
    } catch (err) {
      if (!(err instanceof DataKeyError && err.reason === 'GONE')) throw err;
    }
  }
  return { lastEndedAt, longestHold };
}

/** Whether the account may be erased now, and if not, why (with the hold's end for LEGAL_HOLD). */
export async function erasability(
  store: Store,
  accountId: string,
  o: { minHoldDays: number; policyHoldDays: number; now: number },
): Promise<Erasability> {
  const [record] = await store.restrictions.of([accountId]);
  if (record?.open) return { ok: false, code: 'CASE_OPEN' };
  // A closure is an outcome, not a restriction on an account that goes on: a closed account can be erased.
  if (record?.restricted && record.status !== 'CLOSED') return { ok: false, code: 'RESTRICTION_IN_FORCE' };
  const history = await accountHistory(store, accountId);
  const holdDays = holdDaysOf({ ...o, longestHold: history.longestHold });
  // A case that ended without an archived view (an archive that has expired) ended by its record's last write.
  const ended = Math.max(history.lastEndedAt ?? 0, record ? await recordWrittenAt(store, accountId) : 0);
  if (ended === 0) return { ok: true, holdDays, holdUntil: null };
  const holdUntil = ended + holdDays * DAY_MS;
  if (o.now < holdUntil) return { ok: false, code: 'LEGAL_HOLD', holdDays, holdUntil };
  return { ok: true, holdDays, holdUntil };
}

async function recordWrittenAt(store: Store, accountId: string): Promise<number> {
  const [row] = await store.db.query<{ updated_at: number }>(
    'SELECT updated_at FROM account_restrictions WHERE account_id = ?',
    [accountId],
  );
  return Number(row?.updated_at ?? 0);
}
