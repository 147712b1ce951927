// Building blocks for tests of the case machine's transitions: a FREEZE-ready set of terms, decisions, opening a
// case, applying inputs that must be accepted (or reading a refusal), firing the next timer, and what a
// transition added to the timeline.
import assert from 'node:assert/strict';
import { openCase, transition } from '../../core/case-machine';
import { nextTimer } from '../../core/case-timers';
import type { CaseInput, CaseState, Effect, TimelineEntry, TimerKind } from '../../core/case-types';
import type { CaseTerms, Decision, RestrictiveTier } from '../../core/model';
import { caseTermsOf } from '../../core/policy';
import { defaultPolicy } from './deps';

export const H = 3_600_000;
export const T0 = Date.parse('2026-12-04T09:00:00Z');
export const TERMS = caseTermsOf(defaultPolicy());
export const { rulesVersion: _omit, ...RULES1 } = TERMS;
export const RULES2: CaseTerms = { ...TERMS, rulesVersion: 2 };
export const SYSTEM = { kind: 'system', id: 'cordon' };
export const backend = { kind: 'backend' as const, id: 'backend' };
export const user = { kind: 'user' as const, id: 'acct-t' };
export const r1 = { kind: 'reviewer', id: 'r1' };
export const iso = (t: number) => new Date(t).toISOString();

export function decision(tier: RestrictiveTier | 'NONE', extra: Partial<Decision> = {}): Decision {
  return {
    tier,
    score: 60,
    reasons: [{ code: 'IDENTITY_MISMATCH', contribution: 60, ruleId: 'identity' }],
    policyVersion: 'v7',
    policyHash: 'h',
    lockout: false,
    verificationAllowed: true,
    unavailableSources: [],
    ...extra,
  };
}

export function open(tier: RestrictiveTier, extra: Partial<Decision> = {}, terms: CaseTerms = TERMS) {
  return openCase({
    caseId: 'acct-t.00000000000c',
    accountId: 'acct-t',
    locale: 'en',
    terms,
    at: T0,
    eventId: 'e1',
    eventType: 'IDENTITY_CHECK',
    decision: decision(tier, extra),
    actor: backend,
  });
}

/** Applies an input that must be allowed. */
export function go(
  state: CaseState,
  input: CaseInput,
  at = T0 + 1_000,
): { state: CaseState; effects: Effect[] } {
  const r = transition(state, input, at);
  if (!r.ok) assert.fail(`refused ${input.kind} in ${state.status}: ${r.refusal.code}`);
  return r;
}

export function refusal(state: CaseState, input: CaseInput, at = T0 + 1_000): string {
  const r = transition(state, input, at);
  return r.ok ? 'ok' : `${r.refusal.code}: ${r.refusal.message}`;
}

/** Fires the next timer, which must be of the given kind. */
export function fire(state: CaseState, kind: TimerKind) {
  const due = nextTimer(state);
  assert.equal(due?.kind, kind, `next timer in ${state.status}`);
  return { ...go(state, { kind: 'TIMER', timer: kind }, due.at), at: due.at };
}

/** An entry without what the audit chain adds under rules 4 (test/audit-chain.test.ts covers those). */
export function unchained(entry: TimelineEntry): TimelineEntry {
  const { hash: _hash, digests: _digests, ...rest } = entry;
  return rest;
}

/** The entries a transition added to the timeline, without the audit chain's hashes and digests. */
export const added = (before: CaseState, after: CaseState): TimelineEntry[] =>
  after.timeline.slice(before.timeline.length).map(unchained);

export const appeal: CaseInput = { kind: 'APPEAL', statement: 'it was me', actor: user };
export const claim = (reviewer = 'r1', senior?: boolean): CaseInput => ({ kind: 'CLAIM', reviewer, senior });
export const release = (reviewer = 'r1', senior?: boolean): CaseInput => ({
  kind: 'RELEASE',
  reviewer,
  senior,
});
export const decide = (d: 'UNLOCK' | 'CLOSE' | 'UPHOLD' | 'REQUEST_INFO', extra: object = {}): CaseInput => ({
  kind: 'DECISION',
  reviewer: 'r1',
  decision: d,
  rationale: 'because',
  ...extra,
});
export const explanation = { code: 'IDENTITY_MISMATCH' as const, text: 'the name on file differs' };

/** A case in review, claimed by r1. */
export function claimed(
  tier: RestrictiveTier = 'FREEZE',
  terms: CaseTerms = TERMS,
  extra: Partial<Decision> = {},
) {
  return go(go(open(tier, extra, terms).state, appeal).state, claim()).state;
}
