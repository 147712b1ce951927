// What others see of a case (core/case-view.ts): the API's view, the Web UI's current details and the account's
// restriction record, from states built by real transitions. Server-free.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { openCase, transition } from '../core/case-machine';
import { nextTimer } from '../core/case-timers';
import type { CaseInput, CaseState } from '../core/case-types';
import { caseViewOf, currentDetailsOf, restrictionKeyOf, restrictionRecordOf } from '../core/case-view';
import type { CaseTerms, Decision, RestrictiveTier } from '../core/model';
import { caseTermsOf } from '../core/policy';
import { defaultPolicy } from './helpers/deps';

const T0 = Date.parse('2026-12-02T08:00:00Z');
const TERMS = caseTermsOf(defaultPolicy());
const backend = { kind: 'backend' as const, id: 'backend' };
const user = { kind: 'user' as const, id: 'acct-v' };
const iso = (t: number) => new Date(t).toISOString();

function open(tier: RestrictiveTier, extra: Partial<Decision> = {}, terms: CaseTerms = TERMS): CaseState {
  return openCase({
    caseId: 'acct-v.00000000000a',
    accountId: 'acct-v',
    locale: 'zh-CN',
    terms,
    at: T0,
    eventId: 'e1',
    eventType: 'TEST',
    decision: {
      tier,
      score: 60,
      reasons: [{ code: 'IDENTITY_MISMATCH', contribution: 60, ruleId: 'r' }],
      policyVersion: 'v1',
      policyHash: 'h',
      lockout: false,
      verificationAllowed: true,
      unavailableSources: [],
      ...extra,
    },
    actor: backend,
  }).state;
}

function go(state: CaseState, input: CaseInput, at = T0 + 1_000): CaseState {
  const r = transition(state, input, at);
  if (!r.ok) assert.fail(`refused ${input.kind} in ${state.status}: ${r.refusal.code}`);
  return r.state;
}

const appeal: CaseInput = { kind: 'APPEAL', statement: 'it was me', actor: user };
const claim: CaseInput = { kind: 'CLAIM', reviewer: 'r1' };

describe('case view: what the API shows', () => {
  it('a freshly opened case: its deadlines as times, nothing pending, defaults for what it has not had', () => {
    const s = open('FREEZE', { unavailableSources: ['bureau'] });
    const v = caseViewOf(s);
    assert.equal(v.caseId, 'acct-v.00000000000a');
    assert.equal(v.accountId, 'acct-v');
    assert.equal(v.status, 'AWAITING_USER');
    assert.equal(v.tier, 'FREEZE');
    assert.equal(v.restricted, true);
    assert.equal(v.score, 60);
    assert.deepEqual(v.reasons, s.reasons);
    assert.equal(v.verificationAllowed, true);
    assert.deepEqual(v.deadlines, { userDeadlineAt: iso(s.deadlines.userDeadlineAt!) });
    assert.equal(v.assignee, null);
    assert.equal(v.appealed, false);
    assert.equal(v.slaBreached, false);
    assert.equal(v.escalated, false);
    assert.equal(v.pendingApproval, null);
    assert.equal(v.evidenceVersion, 0);
    assert.equal(v.question, null);
    assert.equal(v.explanation, null);
    assert.deepEqual(v.retractedEvents, []);
    assert.equal(v.rulesVersion, TERMS.rulesVersion);
    assert.equal(v.lockoutCount, 0);
    assert.deepEqual(v.missingSources, ['bureau']);
    assert.equal(v.policyVersion, TERMS.policyVersion);
    assert.equal(v.policyHash, TERMS.policyHash);
    assert.equal(v.openedAt, iso(T0));
    assert.equal(v.outcome, null);
    assert.equal(v.locale, 'zh-CN');
    assert.deepEqual(v.unchangedEvents, { count: 0, lastAt: null });
    assert.deepEqual(v.timeline, s.timeline);
  });

  it('a decision waiting for approval: who decided what on which evidence, and its SLA breach escalates', () => {
    const explanation = { code: 'IDENTITY_MISMATCH' as const, text: 'the documents do not match' };
    const inReview = go(go(open('CLOSE', { verificationAllowed: false }), appeal), claim);
    const pending = go(
      inReview,
      { kind: 'DECISION', reviewer: 'r1', decision: 'CLOSE', rationale: 'forged', explanation },
      T0 + 2_000,
    );
    const v = caseViewOf(pending);
    assert.equal(v.status, 'PENDING_APPROVAL');
    assert.deepEqual(v.pendingApproval, {
      decidedBy: 'r1',
      rationale: 'forged',
      at: iso(T0 + 2_000),
      decision: 'CLOSE',
      evidenceVersion: 1,
    });
    assert.equal(v.evidenceVersion, 1, 'the appeal was new evidence');
    assert.deepEqual(v.deadlines, { approvalDueAt: iso(pending.deadlines.approvalDueAt!) });
    assert.equal(v.escalated, false);
    const due = nextTimer(pending)!;
    assert.equal(due.kind, 'APPROVAL_SLA');
    const breached = go(pending, { kind: 'TIMER', timer: 'APPROVAL_SLA' }, due.at);
    assert.equal(caseViewOf(breached).slaBreached, true);
    assert.equal(caseViewOf(breached).escalated, true);
    const closed = go(
      breached,
      { kind: 'APPROVAL', reviewer: 'r2', approve: true, rationale: 'agreed' },
      due.at,
    );
    const end = caseViewOf(closed);
    assert.equal(end.outcome, 'CLOSED');
    assert.equal(end.slaBreached, true);
    assert.equal(end.escalated, false, "an ended case is in nobody's queue");
    assert.deepEqual(end.explanation, explanation);
    assert.equal(end.restricted, true, 'a closed account stays restricted');
  });

  it('a decision waiting for approval in a case opened before rules 3: a CLOSE, bound to no evidence version', () => {
    const { rulesVersion: _omit, ...rules1 } = TERMS;
    const inReview = go(go(open('CLOSE', { verificationAllowed: false }, rules1), appeal), claim);
    const pending = go(inReview, { kind: 'DECISION', reviewer: 'r1', decision: 'CLOSE', rationale: 'r' });
    const v = caseViewOf(pending);
    assert.equal(v.rulesVersion, 1);
    assert.equal(v.pendingApproval?.decision, 'CLOSE');
    assert.equal(v.pendingApproval?.evidenceVersion, null);
  });

  it('a restored case is not restricted; a question, retracted events and unchanged events are shown', () => {
    const s = open('FREEZE');
    const restored = go(s, { kind: 'VERIFICATION', method: 'OTP', passed: true, actor: user });
    assert.equal(caseViewOf(restored).restricted, false);
    assert.equal(caseViewOf(restored).outcome, 'RESTORED');

    const asked = go(go(go(s, appeal), claim), {
      kind: 'DECISION',
      reviewer: 'r1',
      decision: 'REQUEST_INFO',
      rationale: 'r',
      question: 'Which device?',
    });
    assert.equal(caseViewOf(asked).question, 'Which device?');

    const retracted = go(s, { kind: 'RETRACT', eventId: 'e1', reason: 'sent in error', actor: backend });
    assert.deepEqual(caseViewOf(retracted).retractedEvents, ['e1']);

    const harmless: CaseInput = {
      kind: 'RISK_EVENT',
      eventId: 'e2',
      eventType: 'TEST',
      decision: {
        tier: 'NONE',
        score: 0,
        reasons: [],
        policyVersion: 'v1',
        policyHash: 'h',
        lockout: false,
        verificationAllowed: true,
        unavailableSources: [],
      },
      actor: backend,
    };
    const counted = go(s, harmless, T0 + 5_000);
    assert.deepEqual(caseViewOf(counted).unchangedEvents, { count: 1, lastAt: iso(T0 + 5_000) });
  });

  it('leaves out a deadline the state holds as undefined', () => {
    const s = open('FREEZE');
    const v = caseViewOf({ ...s, deadlines: { ...s.deadlines, reviewDueAt: undefined } });
    assert.deepEqual(Object.keys(v.deadlines), ['userDeadlineAt']);
  });
});

describe('case view: the Web UI current details', () => {
  it('status and tier, reasons, assignee, and the next timer with its time', () => {
    const s = open('FREEZE');
    const next = nextTimer(s)!;
    assert.equal(
      currentDetailsOf(s),
      [
        '**AWAITING_USER** · tier FREEZE',
        'reasons: IDENTITY_MISMATCH',
        'assignee: none',
        `next: ${next.kind} at ${iso(next.at)}`,
      ].join('\n\n'),
    );
  });

  it('names the holder and a breached review SLA; an ended case shows its outcome and nothing scheduled', () => {
    // Without an idle limit on claims, the review SLA is the next timer of a claimed case.
    const claimed = go(go(open('FREEZE', {}, { ...TERMS, claimIdleMs: undefined }), appeal), claim);
    const sla = nextTimer(claimed)!;
    assert.equal(sla.kind, 'REVIEW_SLA');
    const breached = go(claimed, { kind: 'TIMER', timer: 'REVIEW_SLA' }, sla.at);
    const lines = currentDetailsOf(breached).split('\n\n');
    assert.equal(lines[0], '**IN_REVIEW** · tier FREEZE');
    assert.equal(lines[2], 'assignee: r1 · **review SLA breached**');
    const ended = go(
      breached,
      { kind: 'DECISION', reviewer: 'r1', decision: 'UPHOLD', rationale: 'r' },
      sla.at,
    );
    const end = currentDetailsOf(ended).split('\n\n');
    assert.equal(end[0], '**UPHELD** · tier FREEZE · outcome UPHELD');
    assert.equal(end[3], 'next: nothing scheduled');
  });

  it('lists every reason code, comma-separated', () => {
    const s = open('FREEZE', {
      reasons: [
        { code: 'IDENTITY_MISMATCH', contribution: 40, ruleId: 'a' },
        { code: 'REGULATORY_HOLD', contribution: 20, ruleId: 'b' },
      ],
    });
    assert.equal(currentDetailsOf(s).split('\n\n')[1], 'reasons: IDENTITY_MISMATCH, REGULATORY_HOLD');
  });

  it('a case without reasons says none', () => {
    const s = open('STEP_UP', { reasons: [] });
    assert.equal(currentDetailsOf(s).split('\n\n')[1], 'reasons: none');
  });
});

describe('case view: the account restriction record', () => {
  it('states status, tier, restriction and openness, and its key changes exactly when one of them does', () => {
    const s = open('FREEZE');
    const record = restrictionRecordOf(s, T0, 1);
    assert.deepEqual(
      { ...record, version: undefined },
      {
        accountId: 'acct-v',
        caseId: 'acct-v.00000000000a',
        status: 'AWAITING_USER',
        tier: 'FREEZE',
        restricted: true,
        open: true,
        version: undefined,
      },
    );
    assert.equal(restrictionKeyOf(s), 'AWAITING_USER|FREEZE|true|true');
    const appealed = go(s, appeal);
    assert.equal(restrictionKeyOf(appealed), 'IN_REVIEW|FREEZE|true|true');
    const restored = go(s, { kind: 'VERIFICATION', method: 'OTP', passed: true, actor: user });
    assert.equal(restrictionKeyOf(restored), 'RESTORED|FREEZE|false|false');
    assert.deepEqual(
      [restrictionRecordOf(restored, T0, 2).restricted, restrictionRecordOf(restored, T0, 2).open],
      [false, false],
    );
    // Claiming changes what a reviewer sees, not what the account's record says.
    assert.equal(restrictionKeyOf(go(appealed, claim)), restrictionKeyOf(appealed));
  });

  it('property: versions sort as text exactly as (case start, time, sequence) sort as numbers', () => {
    const s = open('FREEZE');
    const stamp = fc.record({
      openedAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      seq: fc.integer({ min: 0, max: 99_999_999 }),
    });
    fc.assert(
      fc.property(stamp, stamp, (a, b) => {
        const va = restrictionRecordOf({ ...s, openedAt: a.openedAt }, a.at, a.seq).version;
        const vb = restrictionRecordOf({ ...s, openedAt: b.openedAt }, b.at, b.seq).version;
        const numeric =
          Math.sign(a.openedAt - b.openedAt) || Math.sign(a.at - b.at) || Math.sign(a.seq - b.seq);
        assert.equal(Math.sign(va < vb ? -1 : va > vb ? 1 : 0), numeric, `${va} vs ${vb}`);
        assert.match(va, /^\d{15}:\d{15}:\d{8}$/);
      }),
      { numRuns: 300, seed: 20261206 },
    );
  });
});
