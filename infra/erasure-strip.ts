// What an erased account's records keep: decisions, reason codes, outcomes, statuses, times and who acted (actor
// and principal IDs are not personal here), and nothing the user, the backend or a reviewer wrote in words
// (statements, answers, questions, rationales, explanations' text, staff notes, evidence references). Every
// record is rebuilt from an allow-list, so a personal field added to views later is dropped too, and marked so
// readers can say why a field is missing. The result is plain JSON: it needs no data key, and outlives one.
// Timeline entries keep their audit hash and the digests their words entered the audit chain by (hex SHA-256s of
// the words, which the words cannot be read back from): the case's audit export still verifies (docs/audit.md).
import type { CaseView, RiskEventResult } from '../core/contracts';
import type { TimelineEntry } from '../core/case-types';
import { CHAINED_IN_CLEAR, isDigestMap } from '../core/audit-chain';
import { REASON_CODES, type Decision, type ReasonCode } from '../core/model';

/** What an erased record carries: which erasure removed its personal fields, and when. */
export interface ErasureMark {
  erasureId: string;
  at: string;
}

export type ErasedCaseView = CaseView & { erased: ErasureMark };

export function isErased(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'erased' in value;
}

/** A case view's top-level fields that are codes, numbers, times or IDs (everything else is rebuilt or dropped). */
const VIEW_FIELDS = [
  'caseId',
  'accountId',
  'status',
  'tier',
  'restricted',
  'score',
  'reasons',
  'verificationAllowed',
  'deadlines',
  'assignee',
  'appealed',
  'slaBreached',
  'escalated',
  'evidenceVersion',
  'retractedEvents',
  'lockoutCount',
  'missingSources',
  'policyVersion',
  'policyHash',
  'rulesVersion',
  'openedAt',
  'outcome',
  'locale',
  'unchangedEvents',
  'secondReview',
  'previousCaseId',
] as const;

/**
 * Timeline details that are codes, numbers, flags, times or IDs: those the audit chain takes in clear (one list, so
 * an erasure never removes what an entry's hash covers), and the chain's own hash (an erased case still verifies).
 */
const ENTRY_DETAILS = new Set([...CHAINED_IN_CLEAR, 'hash']);

/** A code as the case machine writes them (RELEASED's reason is IDLE); a retraction's reason is free text. */
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

const REASON_CODE_SET = new Set<string>(REASON_CODES);

/** Scalars and lists of scalars only: an object in a kept detail is not something the allow-list knows. */
function plainValue(v: unknown): boolean {
  const scalar = (x: unknown) =>
    x === null || typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
  return scalar(v) || (Array.isArray(v) && v.every(scalar));
}

/** An explanation keeps its catalogue code; the reviewer's words go. */
function explanationCode(e: unknown): { code: ReasonCode; text: string } | null {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && REASON_CODE_SET.has(code)
    ? { code: code as ReasonCode, text: '' }
    : null;
}

export function stripEntry(entry: TimelineEntry): TimelineEntry {
  const kept: TimelineEntry = {
    at: entry.at,
    actor: { kind: entry.actor.kind, id: entry.actor.id },
    type: entry.type,
  };
  const removed: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (key === 'at' || key === 'actor' || key === 'type') continue;
    if (key === 'reason' && typeof value === 'string' && CODE.test(value)) kept.reason = value;
    else if (key === 'explanation' && explanationCode(value)) {
      kept.explanation = explanationCode(value);
      removed.push('explanation.text');
    } else if (key === 'digests' && isDigestMap(value)) kept.digests = value;
    else if (ENTRY_DETAILS.has(key) && plainValue(value)) kept[key] = value;
    else removed.push(key);
  }
  if (removed.length) kept.erasedFields = removed.sort();
  return kept;
}

/** A case view with codes, decisions, times and actors only, marked with the erasure that stripped it. */
export function stripView(view: CaseView, mark: ErasureMark): ErasedCaseView {
  const kept = {} as Record<string, unknown>;
  for (const field of VIEW_FIELDS) if (view[field] !== undefined) kept[field] = view[field];
  const pending = view.pendingApproval;
  return {
    ...(kept as unknown as CaseView),
    reasons: view.reasons.map((r) => ({ code: r.code, contribution: r.contribution, ruleId: r.ruleId })),
    pendingApproval: pending
      ? {
          decidedBy: pending.decidedBy,
          rationale: '',
          at: pending.at,
          decision: pending.decision,
          evidenceVersion: pending.evidenceVersion,
        }
      : null,
    question: null,
    explanation: view.explanation ? explanationCode(view.explanation) : null,
    timeline: view.timeline.map(stripEntry),
    erased: mark,
  };
}

/** The decision fields of an event's first answer that are codes and numbers (a staff note is free text). */
const DECISION_FIELDS = [
  'tier',
  'score',
  'reasons',
  'policyVersion',
  'policyHash',
  'lockout',
  'verificationAllowed',
  'unavailableSources',
] as const;

/** An event's first answer without a staff note: what a repeat of the event is answered with, as before. */
export function stripEventResult(result: RiskEventResult): RiskEventResult {
  const decision = {} as Record<string, unknown>;
  for (const field of DECISION_FIELDS)
    if (result.decision[field] !== undefined) decision[field] = result.decision[field];
  return {
    eventId: result.eventId,
    accountId: result.accountId,
    caseId: result.caseId,
    status: result.status,
    decision: decision as unknown as Decision,
    duplicate: result.duplicate,
    ...(result.requestFingerprint ? { requestFingerprint: result.requestFingerprint } : {}),
  };
}
