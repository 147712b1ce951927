// The messages a case hands to Cordon's outbox: built from the case's state when the transition that called for
// them happened, so each says what was true then. Pure; the workflow decides when they travel.
import { isRestricted } from '../core/case-machine';
import type { BackendEventKind, CaseState, Effect } from '../core/case-types';
import type { BackendEvent, OutboxMessage } from '../core/messages';
import { rulesOf } from '../core/case-step';
import { noticeFactsOf } from '../core/notice-facts';

export type MessageEffect = Extract<Effect, { kind: 'NOTIFY_USER' | 'NOTIFY_BACKEND' }>;

export function isMessage(effect: Effect | undefined): effect is MessageEffect {
  return effect?.kind === 'NOTIFY_USER' || effect?.kind === 'NOTIFY_BACKEND';
}

const BACKEND_EVENT_TYPES: Record<BackendEventKind, BackendEvent['type']> = {
  RESTRICTION_CHANGED: 'restriction.changed',
  OUTCOME: 'case.outcome',
  ESCALATED: 'case.escalated',
  BREAK_GLASS: 'case.break_glass',
};

/** The message an effect calls for, under its idempotency key. */
export function messageOf(s: CaseState, effect: MessageEffect, idempotencyKey: string): OutboxMessage {
  const base = { caseId: s.caseId, accountId: s.accountId, idempotencyKey };
  const reasonCodes = s.reasons.map((r) => r.code);
  if (effect.kind === 'NOTIFY_USER')
    return {
      kind: 'NOTIFY_USER',
      notice: {
        ...base,
        locale: s.locale,
        template: effect.template,
        tier: s.tier,
        status: s.status,
        reasonCodes,
        deadline: userDeadlineOf(s),
        ...(effect.template === 'INFO_REQUESTED' && s.question ? { question: s.question } : {}),
        ...(effect.template === 'OUTCOME' && s.explanation ? { explanation: s.explanation } : {}),
        ...(s.contact ? { contact: s.contact } : {}),
        // Rules 4: what the user can do now, when a decision is due, and the final notice's letter.
        ...(rulesOf(s) >= 4 ? noticeFactsOf(s, effect.template) : {}),
      },
    };
  return {
    kind: 'NOTIFY_BACKEND',
    event: {
      ...base,
      type: BACKEND_EVENT_TYPES[effect.event],
      status: s.status,
      tier: s.tier,
      restricted: isRestricted(s),
      reasonCodes,
      outcome: s.outcome,
      at: new Date().toISOString(),
    },
  };
}

/** How a message is named in the Web UI: its template or event type (no personal data). */
export function messageName(m: OutboxMessage): string {
  return m.kind === 'NOTIFY_USER' ? `notice ${m.notice.template}` : `webhook ${m.event.type}`;
}

function userDeadlineOf(s: CaseState): string | undefined {
  const d = s.deadlines;
  const at = d.infoDueAt ?? d.lockoutLiftsAt ?? d.userDeadlineAt;
  return at === undefined ? undefined : new Date(at).toISOString();
}
