// What a user notice says beyond its template (core/notice-facts.ts): what the user can do when it was sent and
// when a decision is expected, and for the final notice the decision letter's facts. Server-free: part of the
// mutation run. The mails that show them are test/decision-letter.test.ts.
import assert from 'node:assert/strict';
import { recordEffect } from '../core/case-machine';
import { caseViewOf } from '../core/case-view';
import { noticeFactsOf } from '../core/notice-facts';
import { openSecondReview } from '../core/second-review';
import { userActionsOf } from '../core/user-actions';
import {
  appeal,
  claimed,
  decide,
  explanation,
  go,
  H,
  iso,
  open,
  T0,
  TERMS,
  user,
} from './helpers/case-steps';

describe('notice facts: what a notice says beyond its template', () => {
  it('notice-open: what the user can do, and no decision time while the case waits for them', () => {
    const s = open('FREEZE').state;
    assert.equal(s.status, 'AWAITING_USER');
    const facts = noticeFactsOf(s, 'RESTRICTED');
    assert.deepEqual(facts, { actions: userActionsOf(caseViewOf(s)) });
    assert.equal(facts.actions?.verify, true, 'a freeze that verification may resolve offers it');
    assert.equal(facts.actions?.appeal, true);
    assert.equal('decisionDueAt' in facts, false);
  });

  it('notice-in-review: the time a decision is due; nothing to offer that the case would refuse', () => {
    const s = go(open('FREEZE').state, appeal).state;
    assert.equal(s.status, 'IN_REVIEW');
    const due = caseViewOf(s).deadlines.reviewDueAt;
    assert.equal(typeof due, 'string');
    const facts = noticeFactsOf(s, 'IN_REVIEW');
    assert.deepEqual(facts, { actions: userActionsOf(caseViewOf(s)), decisionDueAt: due });
    assert.equal(facts.actions?.appeal, false, 'appealed once already');
  });

  it('notice-outcome: the letter’s facts of an ended case; an open case has none; another notice of an ended case offers nothing', () => {
    const at = T0 + 2 * H;
    const ended = go(claimed(), decide('UPHOLD', { explanation }), at).state;
    assert.equal(ended.outcome, 'UPHELD');
    assert.deepEqual(noticeFactsOf(ended, 'OUTCOME'), {
      letter: { openedAt: iso(T0), decidedAt: iso(at), decidedBy: 'reviewer' },
    });
    assert.deepEqual(noticeFactsOf(open('FREEZE').state, 'OUTCOME'), {});
    // Entries recorded after the outcome (the restriction lifted by the gateway, later, by the system) change
    // neither when nor by whom it was decided.
    const restored = go(claimed(), decide('UNLOCK', { explanation }), at).state;
    recordEffect(restored, at + H, { type: 'RESTRICTION_LIFTED' });
    assert.equal(restored.timeline.at(-1)?.type, 'RESTRICTION_LIFTED');
    assert.deepEqual(noticeFactsOf(restored, 'OUTCOME'), {
      letter: { openedAt: iso(T0), decidedAt: iso(at), decidedBy: 'reviewer' },
    });
    const other = noticeFactsOf(ended, 'IN_REVIEW');
    assert.equal('decisionDueAt' in other, false);
    assert.ok(other.actions && Object.values(other.actions).every((v) => v === false || v === null));
  });

  it('notice-second-review: the letter of a second review says so', () => {
    const second = openSecondReview({
      caseId: 'acct-t.00000000000d',
      accountId: 'acct-t',
      locale: 'en',
      terms: TERMS,
      at: T0,
      previousCaseId: 'acct-t.00000000000c',
      tier: 'FREEZE',
      score: 60,
      reasons: [{ code: 'IDENTITY_MISMATCH', contribution: 60, ruleId: 'identity' }],
      excludedReviewers: ['r1'],
      carried: [],
      statement: 'please look again',
      actor: user,
      requestKey: 'key-1',
    }).state;
    const at = T0 + 3 * H;
    const claimedBySenior = go(second, { kind: 'CLAIM', reviewer: 's3', senior: true }).state;
    const ended = go(
      claimedBySenior,
      { kind: 'DECISION', reviewer: 's3', decision: 'UPHOLD', rationale: 'because', senior: true },
      at,
    ).state;
    assert.equal(ended.outcome, 'UPHELD');
    assert.deepEqual(noticeFactsOf(ended, 'OUTCOME'), {
      letter: { openedAt: iso(T0), decidedAt: iso(at), decidedBy: 'reviewer', secondReview: true },
    });
  });
});
