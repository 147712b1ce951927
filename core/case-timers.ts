// The case's clock: which deadline it waits for next, and what happens when one passes. Time comes in with the
// input (TIMER), like every other input of the machine.
import type { CaseState, TimerKind, Transition } from './case-types';
import {
  backToReview,
  finish,
  iso,
  refuse,
  rulesOf,
  startReview,
  Step,
  SYSTEM,
  USER_WAITING,
} from './case-step';

export function timer(step: Step, kind: TimerKind): Transition {
  const s = step.state;
  const due = nextTimer(s);
  if (!due || due.kind !== kind || due.at > step.at)
    return refuse('NO_SUCH_TIMER', `no ${kind} timer is due at ${iso(step.at)}`);
  switch (kind) {
    case 'REMINDER':
      s.remindersSent += 1;
      step.log(SYSTEM, 'REMINDER_DUE', { deadline: iso(s.deadlines.userDeadlineAt!) });
      step.effect({ kind: 'NOTIFY_USER', template: 'REMINDER' });
      break;
    case 'USER_DEADLINE':
      step.log(SYSTEM, 'DEADLINE_PASSED', { deadline: iso(s.deadlines.userDeadlineAt!) });
      if (s.terms.tiers[s.tier].onUserDeadline === 'REVIEW') startReview(step);
      else finish(step, 'UPHELD', SYSTEM);
      break;
    case 'COOLING_OFF_END':
      s.coolingOffNotified = true;
      step.log(SYSTEM, 'COOLING_OFF_ENDED');
      step.effect({ kind: 'NOTIFY_USER', template: 'CONFIRMATION_OPEN' });
      break;
    case 'LOCKOUT_LIFT':
      step.log(SYSTEM, 'LOCKOUT_EXPIRED', { lockoutCount: s.lockoutCount });
      s.status = 'MONITORING';
      s.deadlines = { monitorUntil: step.at + s.terms.lockout.memoryMs };
      step.effect({ kind: 'LIFT_RESTRICTION' });
      step.effect({ kind: 'NOTIFY_USER', template: 'LOCKOUT_LIFTED' });
      step.effect({ kind: 'NOTIFY_BACKEND', event: 'RESTRICTION_CHANGED' });
      break;
    case 'MONITOR_END':
      finish(step, 'RESTORED', SYSTEM);
      break;
    case 'REVIEW_SLA':
      s.slaBreached = true;
      step.log(SYSTEM, 'SLA_BREACHED', {
        reviewDueAt: iso(s.deadlines.reviewDueAt!),
        assignee: s.assignee,
        ...(rulesOf(s) >= 3 ? { escalated: true } : {}),
      });
      // Rules 3: a breach escalates to the senior queue and the backend tells operations.
      if (rulesOf(s) >= 3) step.effect({ kind: 'NOTIFY_BACKEND', event: 'ESCALATED' });
      break;
    case 'APPROVAL_SLA':
      s.slaBreached = true;
      step.log(SYSTEM, 'APPROVAL_SLA_BREACHED', {
        approvalDueAt: iso(s.deadlines.approvalDueAt!),
        decidedBy: s.pendingClose?.by ?? null,
        escalated: true,
      });
      step.effect({ kind: 'NOTIFY_BACKEND', event: 'ESCALATED' });
      break;
    case 'INFO_DEADLINE':
      step.log(SYSTEM, 'INFO_DEADLINE_PASSED');
      delete s.question;
      backToReview(step);
      break;
    case 'CLAIM_IDLE':
      step.log(SYSTEM, 'RELEASED', { holder: s.assignee, reason: 'IDLE' });
      s.assignee = null;
      delete s.deadlines.claimIdleAt;
      break;
  }
  return step.done();
}

/** The next timer the case waits for, if any: the earliest of its deadlines that is still pending. */
export function nextTimer(s: CaseState): { kind: TimerKind; at: number } | null {
  if (s.outcome !== null) return null;
  const d = s.deadlines;
  // A temporary lockout lifts itself before any verification deadline: nothing else is due meanwhile.
  if (s.status === 'AWAITING_USER' && d.lockoutLiftsAt !== undefined)
    return { kind: 'LOCKOUT_LIFT', at: d.lockoutLiftsAt };
  const candidates: { kind: TimerKind; at: number }[] = [];
  if (USER_WAITING.includes(s.status) && d.userDeadlineAt !== undefined) {
    const reminders = s.terms.tiers[s.tier].remindBeforeMs;
    const before = reminders[s.remindersSent];
    if (before !== undefined) candidates.push({ kind: 'REMINDER', at: d.userDeadlineAt - before });
    candidates.push({ kind: 'USER_DEADLINE', at: d.userDeadlineAt });
  }
  if (s.status === 'PROTECTIVE_HOLD' && d.coolingOffEndsAt !== undefined && !s.coolingOffNotified)
    candidates.push({ kind: 'COOLING_OFF_END', at: d.coolingOffEndsAt });
  if (s.status === 'MONITORING' && d.monitorUntil !== undefined)
    candidates.push({ kind: 'MONITOR_END', at: d.monitorUntil });
  if (s.status === 'IN_REVIEW' && d.reviewDueAt !== undefined && !s.slaBreached)
    candidates.push({ kind: 'REVIEW_SLA', at: d.reviewDueAt });
  if (s.status === 'IN_REVIEW' && s.assignee !== null && d.claimIdleAt !== undefined)
    candidates.push({ kind: 'CLAIM_IDLE', at: d.claimIdleAt });
  if (s.status === 'AWAITING_INFO' && d.infoDueAt !== undefined)
    candidates.push({ kind: 'INFO_DEADLINE', at: d.infoDueAt });
  if (s.status === 'PENDING_APPROVAL' && d.approvalDueAt !== undefined && !s.slaBreached)
    candidates.push({ kind: 'APPROVAL_SLA', at: d.approvalDueAt });
  // Ties resolve in the order pushed: a reminder never comes after its own deadline.
  return candidates.reduce<{ kind: TimerKind; at: number } | null>(
    (a, b) => (a === null || b.at < a.at ? b : a),
    null,
  );
}
