// What in Cordon's own database is personal, and how each such value is stored: sealed under its account's data
// key (infra/data-keys.ts), as JSON text in its usual column. What queries select on (account, case and event IDs,
// kinds, statuses, times) stays in plain columns; so does a value that carries nothing personal:
//
//   request_records.response   a case view (statements, answers, questions, rationales)    always sealed
//   case_archive.view/requests an ended case's view and its answered requests               always sealed
//   messages.payload           a user notice (contact: e-mail, phone, time zone; question,   sealed; its redacted
//                              explanation)                                                  copy is not
//                              a backend event (IDs, status, tier, reason codes, times)      plain: the change
//                                                                                            feed reads it
//   event_ids.result           an event's first answer: IDs, tier, score, reason codes,      plain, unless a staff
//                              policy version; a staff opening's rationale (free text)      rationale: sealed
//   event_evidence.evidence    an event's attributes, the fields its rules read, the data    always sealed
//                              sources' answers
//
// Shadow rows (IDs, tiers, scores, reason codes), rate limits, channel deliveries and second-review links carry
// nothing personal.
import type { RiskEventResult } from '../core/contracts';
import type { OutboxMessage } from '../core/messages';
import type { DataKeys } from './data-keys';

/** Field names bound into each sealed value (a value copied to another column does not open). */
export const FIELD = {
  request: 'request_records.response',
  message: 'messages.payload',
  archiveView: 'case_archive.view',
  archiveRequests: 'case_archive.requests',
  event: 'event_ids.result',
} as const;
export type Field = (typeof FIELD)[keyof typeof FIELD];

export async function sealJson(
  keys: DataKeys,
  accountId: string,
  field: Field,
  value: unknown,
): Promise<string> {
  return keys.seal(accountId, field, JSON.stringify(value));
}

/** Parses a stored value: sealed, or plaintext JSON as 0.4 wrote it. */
export async function openJson<T>(
  keys: DataKeys,
  accountId: string,
  field: Field,
  stored: string,
): Promise<T> {
  return JSON.parse(await keys.open(accountId, field, stored)) as T;
}

/** Decision fields that are codes, numbers and names of Cordon's own: anything else (a staff note) is free text. */
const PLAIN_DECISION_FIELDS = new Set([
  'tier',
  'score',
  'reasons',
  'policyVersion',
  'policyHash',
  'lockout',
  'verificationAllowed',
  'unavailableSources',
]);

/**
 * Whether an event's first answer must be sealed. Most answers (one per risk event, for every account the backend
 * reports) are codes and numbers: kept plain, so scoring an event never needs a data key. A staff member's case
 * opening carries their rationale, which may say anything about the user.
 */
export function eventResultIsPersonal(r: RiskEventResult): boolean {
  return Object.keys(r.decision ?? {}).some((k) => !PLAIN_DECISION_FIELDS.has(k));
}

/** A notice whose personal fields were removed after the retention: kept plain, marked so. */
export type RedactedNotice = Extract<OutboxMessage, { kind: 'NOTIFY_USER' }> & { redacted: true };

export function isRedacted(m: OutboxMessage): boolean {
  return (m as Partial<RedactedNotice>).redacted === true;
}

/** User notices are sealed until redacted; backend events carry nothing personal. */
export function messageIsPersonal(m: OutboxMessage): boolean {
  return m.kind === 'NOTIFY_USER' && !isRedacted(m);
}

/**
 * A notice with only what the case's deliveries and audits need: which notice, for which case, when, and its
 * key. Kept by name (an allow-list), so a personal field added to notices later is dropped too.
 */
export function redactNotice(m: Extract<OutboxMessage, { kind: 'NOTIFY_USER' }>): RedactedNotice {
  const n = m.notice;
  return {
    kind: 'NOTIFY_USER',
    notice: {
      caseId: n.caseId,
      accountId: n.accountId,
      locale: n.locale,
      template: n.template,
      tier: n.tier,
      status: n.status,
      reasonCodes: n.reasonCodes,
      ...(n.deadline === undefined ? {} : { deadline: n.deadline }),
      idempotencyKey: n.idempotencyKey,
    },
    redacted: true,
  };
}
