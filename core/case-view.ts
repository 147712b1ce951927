// What others see of a case's state: the API's view, the Temporal Web UI's current details, and the account's
// restriction record (the hot-path check). Pure: the workflow calls these, and so could anything else.
import type { AccountRestriction } from './activity-contract';
import { isRestricted } from './case-machine';
import { nextTimer } from './case-timers';
import type { CaseState } from './case-types';
import type { CaseView } from './contracts';
import { REVIEW_STATUSES } from './model';

/** What the API shows of a case (the caseView query and every human action's answer). */
export function caseViewOf(s: CaseState): CaseView {
  const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
  return {
    caseId: s.caseId,
    accountId: s.accountId,
    status: s.status,
    tier: s.tier,
    restricted: isRestricted(s),
    score: s.score,
    reasons: s.reasons,
    verificationAllowed: s.verificationAllowed,
    deadlines: Object.fromEntries(
      Object.entries(s.deadlines)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, iso(v as number)]),
    ),
    assignee: s.assignee,
    appealed: s.appealed,
    slaBreached: s.slaBreached,
    escalated: s.slaBreached && REVIEW_STATUSES.includes(s.status),
    pendingApproval: s.pendingClose
      ? {
          decidedBy: s.pendingClose.by,
          rationale: s.pendingClose.rationale,
          at: s.pendingClose.at,
          decision: s.pendingClose.decision ?? 'CLOSE',
          evidenceVersion: s.pendingClose.evidenceVersion ?? null,
        }
      : null,
    evidenceVersion: s.evidenceVersion ?? 0,
    question: s.question ?? null,
    explanation: s.explanation ?? null,
    retractedEvents: s.retractedEvents ?? [],
    rulesVersion: s.terms.rulesVersion ?? 1,
    appealAllowed: s.terms.tiers[s.tier].appealAllowed,
    lockoutCount: s.lockoutCount,
    missingSources: s.missingSources,
    policyVersion: s.terms.policyVersion,
    policyHash: s.terms.policyHash,
    openedAt: new Date(s.openedAt).toISOString(),
    outcome: s.outcome,
    locale: s.locale,
    unchangedEvents: s.unchangedEvents ?? { count: 0, lastAt: null },
    ...(s.secondReview ? { secondReview: true, previousCaseId: s.secondReview.previousCaseId } : {}),
    timeline: s.timeline,
  };
}

/** What the Web UI shows as the case's current details (Temporal markdown; codes and IDs, no personal data). */
export function currentDetailsOf(s: CaseState): string {
  const next = nextTimer(s);
  return [
    `**${s.status}** · tier ${s.tier}${s.outcome ? ` · outcome ${s.outcome}` : ''}`,
    `reasons: ${s.reasons.map((r) => r.code).join(', ') || 'none'}`,
    `assignee: ${s.assignee ?? 'none'}${s.slaBreached ? ' · **review SLA breached**' : ''}`,
    next ? `next: ${next.kind} at ${new Date(next.at).toISOString()}` : 'next: nothing scheduled',
  ].join('\n\n');
}

/** What a restriction record says (status, tier, restricted, open): a new record is written when it changes. */
export function restrictionKeyOf(s: CaseState): string {
  return `${s.status}|${s.tier}|${isRestricted(s)}|${s.outcome === null}`;
}

/**
 * The account's restriction record as of `at` (workflow time). Its version orders every write for the account:
 * the case's start (a later case wins), then workflow time, then the case's sequence of records, as fixed-width
 * text.
 */
export function restrictionRecordOf(s: CaseState, at: number, seq: number): AccountRestriction {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return {
    accountId: s.accountId,
    caseId: s.caseId,
    status: s.status,
    tier: s.tier,
    restricted: isRestricted(s),
    open: s.outcome === null,
    version: `${pad(s.openedAt, 15)}:${pad(at, 15)}:${pad(seq, 8)}`,
  };
}
