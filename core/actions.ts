// Human actions: how each update becomes an input of the case machine, and the identity under which it is
// applied once. Shared by the API (which records answers) and the workflow (which applies them).
import type { CaseInput } from './case-types';
import type {
  AppealUpdate,
  ApprovalUpdate,
  BreakGlassUpdate,
  DecisionUpdate,
  GuardTrippedUpdate,
  InfoUpdate,
  RetractUpdate,
  VerificationUpdate,
} from './contracts';
import { requestIdentity, type RequestIdentity } from './idempotency';

export interface ActionUpdates {
  verification: VerificationUpdate;
  appeal: AppealUpdate;
  decision: DecisionUpdate;
  approval: Omit<ApprovalUpdate, 'requestId'> & { requestId?: string };
  info: InfoUpdate;
  breakGlass: BreakGlassUpdate;
  retract: RetractUpdate;
  guardTripped: GuardTrippedUpdate;
}
export type ActionName = keyof ActionUpdates;

/** The fields a repeat must carry unchanged. */
function bodyOf<A extends ActionName>(name: A, u: ActionUpdates[A]): Record<string, unknown> {
  switch (name) {
    case 'verification': {
      const v = u as VerificationUpdate;
      return { method: v.method, passed: v.passed };
    }
    case 'appeal': {
      const a = u as AppealUpdate;
      return { statement: a.statement, evidence: a.evidence ?? [] };
    }
    case 'decision': {
      // Fields added in 0.3 count only when given, so requests recorded before keep their fingerprints.
      const d = u as DecisionUpdate;
      return {
        decision: d.decision,
        rationale: d.rationale,
        ...defined({ question: d.question, explanation: d.explanation, evidenceVersion: d.evidenceVersion }),
      };
    }
    case 'approval': {
      const a = u as ApprovalUpdate;
      return {
        approve: a.approve,
        rationale: a.rationale,
        ...defined({ evidenceVersion: a.evidenceVersion }),
      };
    }
    case 'breakGlass': {
      const b = u as BreakGlassUpdate;
      return {
        action: b.action,
        rationale: b.rationale,
        ...defined({ explanation: b.explanation, evidenceVersion: b.evidenceVersion }),
      };
    }
    case 'retract': {
      const r = u as RetractUpdate;
      return { eventId: r.eventId, reason: r.reason };
    }
    case 'guardTripped': {
      const g = u as GuardTrippedUpdate;
      return {
        ruleId: g.ruleId,
        hourCount: g.hourCount,
        baselinePerHour: g.baselinePerHour,
        onTrip: g.onTrip,
      };
    }
    default: {
      const i = u as InfoUpdate;
      return { answer: i.answer, evidence: i.evidence ?? [] };
    }
  }
}

function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** Who sent the request: the token's principal, else the reviewer or the actor it names. */
function principalOf(u: {
  principal?: string;
  reviewer?: string;
  by?: string;
  actor?: { id: string };
}): string {
  return u.principal ?? u.reviewer ?? u.by ?? u.actor?.id ?? 'unknown';
}

/** The identity of a request, or none when it has no requestId (then each call is applied or refused). */
export function identityOf<A extends ActionName>(name: A, u: ActionUpdates[A]): RequestIdentity | undefined {
  if (u.requestId === undefined) return undefined;
  return requestIdentity(u.caseId, name, principalOf(u), u.requestId, bodyOf(name, u));
}

export const verificationInput = (u: VerificationUpdate): CaseInput => ({
  kind: 'VERIFICATION',
  method: u.method,
  passed: u.passed,
  actor: u.actor,
});
export const appealInput = (u: AppealUpdate): CaseInput => ({
  kind: 'APPEAL',
  statement: u.statement,
  evidence: u.evidence,
  actor: u.actor,
});
export const decisionInput = (u: DecisionUpdate): CaseInput => ({
  kind: 'DECISION',
  reviewer: u.reviewer,
  decision: u.decision,
  rationale: u.rationale,
  question: u.question,
  explanation: u.explanation,
  evidenceVersion: u.evidenceVersion,
  ...(u.senior ? { senior: true } : {}),
});
export const approvalInput = (u: ApprovalUpdate): CaseInput => ({
  kind: 'APPROVAL',
  reviewer: u.reviewer,
  approve: u.approve,
  rationale: u.rationale,
  evidenceVersion: u.evidenceVersion,
  ...(u.senior ? { senior: true } : {}),
});
export const breakGlassInput = (u: BreakGlassUpdate): CaseInput => ({
  kind: 'BREAK_GLASS',
  by: u.by,
  action: u.action,
  rationale: u.rationale,
  explanation: u.explanation,
  ...(u.evidenceVersion !== undefined ? { evidenceVersion: u.evidenceVersion } : {}),
});
export const retractInput = (u: RetractUpdate): CaseInput => ({
  kind: 'RETRACT',
  eventId: u.eventId,
  reason: u.reason,
  actor: u.actor,
});
export const GUARDS_ACTOR = { kind: 'system', id: 'guards' } as const;
export const guardTrippedInput = (u: GuardTrippedUpdate): CaseInput => ({
  kind: 'GUARD_TRIPPED',
  ruleId: u.ruleId,
  hourCount: u.hourCount,
  baselinePerHour: u.baselinePerHour,
  onTrip: u.onTrip,
  actor: GUARDS_ACTOR,
});
export const infoInput = (u: InfoUpdate): CaseInput => ({
  kind: 'INFO',
  answer: u.answer,
  evidence: u.evidence,
  actor: u.actor,
});
