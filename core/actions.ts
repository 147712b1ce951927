// Human actions: how each update becomes an input of the case machine, and the identity under which it is
// applied once. Shared by the API (which records answers) and the workflow (which applies them).
import type { CaseInput } from './case-machine';
import type {
  AppealUpdate,
  ApprovalUpdate,
  DecisionUpdate,
  InfoUpdate,
  VerificationUpdate,
} from './contracts';
import { requestIdentity, type RequestIdentity } from './idempotency';

export interface ActionUpdates {
  verification: VerificationUpdate;
  appeal: AppealUpdate;
  decision: DecisionUpdate;
  approval: Omit<ApprovalUpdate, 'requestId'> & { requestId?: string };
  info: InfoUpdate;
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
      const d = u as DecisionUpdate;
      return { decision: d.decision, rationale: d.rationale };
    }
    case 'approval': {
      const a = u as ApprovalUpdate;
      return { approve: a.approve, rationale: a.rationale };
    }
    default: {
      const i = u as InfoUpdate;
      return { answer: i.answer, evidence: i.evidence ?? [] };
    }
  }
}

/** Who sent the request: the token's principal, else the reviewer or the actor it names. */
function principalOf(u: { principal?: string; reviewer?: string; actor?: { id: string } }): string {
  return u.principal ?? u.reviewer ?? u.actor?.id ?? 'unknown';
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
});
export const approvalInput = (u: ApprovalUpdate): CaseInput => ({
  kind: 'APPROVAL',
  reviewer: u.reviewer,
  approve: u.approve,
  rationale: u.rationale,
});
export const infoInput = (u: InfoUpdate): CaseInput => ({
  kind: 'INFO',
  answer: u.answer,
  evidence: u.evidence,
  actor: u.actor,
});
