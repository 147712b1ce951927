// The second review in the pure case machine (issue 18, the user's item 1): what openSecondReview opens, who
// secondReviewRefusal lets act, and the machine's rules on a second review: claimed, decided and approved by
// seniors who had no part in the first outcome, and an overturned CLOSE approved by a second senior. Server-free;
// the same review over HTTP and Temporal is test/second-review.test.ts.
import assert from 'node:assert/strict';
import { checkChain, chainedFormOf } from '../core/audit-chain';
import { transition } from '../core/case-machine';
import type { CaseInput, CaseState, OpenSecondReview, TimelineEntry } from '../core/case-types';
import type { CaseTerms, ReasonContribution, RestrictiveTier } from '../core/model';
import { openSecondReview, secondReviewRefusal } from '../core/second-review';
import {
  added,
  claimed,
  explanation,
  go,
  H,
  iso,
  refusal,
  SYSTEM,
  T0,
  TERMS,
  unchained,
  user,
} from './helpers/case-steps';

const FIRST = 'acct-t.00000000000b';
const SECOND = 'acct-t.00000000000c';
const AT = T0 + 1_000;
/** r1 decided the first case, r2 approved it; s3 and s4 are seniors who had no part in it; p5 is no senior. */
const EXCLUDED = ['r1', 'r2'];

const carriedAppeal: TimelineEntry = {
  at: iso(T0 - 72 * H),
  actor: user,
  type: 'APPEAL',
  statement: 'I was abroad',
  evidence: ['ev_first'],
  hash: 'a'.repeat(64),
};
const carriedAnswer: TimelineEntry = {
  at: iso(T0 - 48 * H),
  actor: user,
  type: 'INFO_PROVIDED',
  answer: 'Shanghai',
  hash: 'b'.repeat(64),
};
const REASONS: ReasonContribution[] = [
  { code: 'IDENTITY_MISMATCH', contribution: 60, ruleId: 'identity' },
  { code: 'IDENTITY_MISMATCH', contribution: 90, ruleId: 'identity-strong' },
  { code: 'NEW_DEVICE_LOCATION_JUMP', contribution: 10, ruleId: 'device' },
];

function request(extra: Partial<OpenSecondReview> = {}): OpenSecondReview {
  return {
    caseId: SECOND,
    accountId: 'acct-t',
    locale: 'zh-CN',
    terms: TERMS,
    at: T0,
    previousCaseId: FIRST,
    tier: 'CLOSE',
    // Under the policy's unlockApprovalAboveScore (150): only the second review's own rule makes an UNLOCK wait.
    score: 100,
    reasons: REASONS,
    excludedReviewers: [...EXCLUDED],
    carried: [carriedAppeal, carriedAnswer],
    statement: 'please look again',
    evidence: ['ev_new'],
    actor: user,
    requestKey: 'key-1',
    ...extra,
  };
}

const opened = (extra: Partial<OpenSecondReview> = {}) => openSecondReview(request(extra)).state;
const claim = (reviewer: string, senior?: boolean): CaseInput => ({ kind: 'CLAIM', reviewer, senior });
const decide = (
  reviewer: string,
  decision: 'UNLOCK' | 'UPHOLD' | 'CLOSE' | 'REQUEST_INFO',
  extra: Partial<Extract<CaseInput, { kind: 'DECISION' }>> = {},
): CaseInput => ({ kind: 'DECISION', reviewer, decision, rationale: 'because', senior: true, ...extra });
const approve = (
  reviewer: string,
  senior?: boolean,
  yes = true,
): Extract<CaseInput, { kind: 'APPROVAL' }> => ({
  kind: 'APPROVAL',
  reviewer,
  approve: yes,
  rationale: 'agreed',
  senior,
});
/** A second review of the given tier, claimed by the senior s3. */
const claimedBySenior = (tier: RestrictiveTier = 'CLOSE', extra: Partial<OpenSecondReview> = {}) =>
  go(opened({ tier, ...extra }), claim('s3', true)).state;
const code = (s: CaseState, input: CaseInput) => refusal(s, input, AT).split(':')[0];

describe('second review: openSecondReview', () => {
  const terms: CaseTerms = {
    ...TERMS,
    tiers: {
      ...TERMS.tiers,
      FREEZE: { ...TERMS.tiers.FREEZE, reviewSlaMs: 5 * H },
      CLOSE: { ...TERMS.tiers.CLOSE, reviewSlaMs: 9 * H },
    },
  };

  it('opens in review at once: appealed, verification closed, under its tier’s review SLA, at evidence version 1', () => {
    for (const [tier, sla] of [
      ['FREEZE', 5 * H],
      ['CLOSE', 9 * H],
    ] as const) {
      const { timeline: _timeline, ...state } = opened({ terms, tier });
      assert.deepEqual(state, {
        caseId: SECOND,
        accountId: 'acct-t',
        locale: 'zh-CN',
        openedAt: T0,
        status: 'IN_REVIEW',
        tier,
        score: 100,
        // The first case's reasons, one per code at its largest contribution.
        reasons: [
          { code: 'IDENTITY_MISMATCH', contribution: 90, ruleId: 'identity-strong' },
          { code: 'NEW_DEVICE_LOCATION_JUMP', contribution: 10, ruleId: 'device' },
        ],
        verificationAllowed: false,
        terms,
        deadlines: { reviewDueAt: T0 + sla },
        remindersSent: 0,
        coolingOffNotified: false,
        lockoutCount: 0,
        assignee: null,
        appealed: true,
        pendingClose: null,
        slaBreached: false,
        missingSources: [],
        outcome: null,
        secondReview: { previousCaseId: FIRST, excludedReviewers: EXCLUDED, requestKey: 'key-1' },
        evidenceVersion: 1,
      });
    }
  });

  it('tells the user the case is in review, and applies nothing: the first case’s restriction stands', () => {
    assert.deepEqual(openSecondReview(request()).effects, [{ kind: 'NOTIFY_USER', template: 'IN_REVIEW' }]);
  });

  it('keeps the contact it is given, and has none without one', () => {
    const contact = { email: 'user@example.com' };
    assert.deepEqual(opened({ contact }).contact, contact);
    assert.equal('contact' in opened(), false);
  });

  it('begins its timeline with the carried entries, marked with the first case, then the request and the review', () => {
    const s = opened();
    const { hash: _a, ...appeal } = carriedAppeal;
    const { hash: _b, ...answer } = carriedAnswer;
    assert.deepEqual(s.timeline.map(unchained), [
      { ...appeal, fromCaseId: FIRST },
      { ...answer, fromCaseId: FIRST },
      {
        at: iso(T0),
        actor: user,
        type: 'SECOND_REVIEW_REQUESTED',
        previousCaseId: FIRST,
        tier: 'CLOSE',
        statement: 'please look again',
        evidence: ['ev_new'],
      },
      {
        at: iso(T0),
        actor: SYSTEM,
        type: 'REVIEW_STARTED',
        reviewDueAt: iso(T0 + TERMS.tiers.CLOSE.reviewSlaMs),
      },
    ]);
  });

  it('chains every entry, the carried ones too, from its own case: the first case’s hashes are not kept', () => {
    const s = opened();
    const chain = checkChain(
      SECOND,
      s.timeline.map((e) => ({ entry: chainedFormOf(e), hash: e.hash })),
    );
    assert.deepEqual(chain, { ok: true, headHash: s.timeline.at(-1)!.hash, entryCount: 4 });
    assert.notEqual(s.timeline[0]!.hash, carriedAppeal.hash);
  });

  it('records no evidence on the request when none (or an empty list) comes with it', () => {
    for (const evidence of [undefined, []]) {
      const asked = opened({ evidence }).timeline.find((e) => e.type === 'SECOND_REVIEW_REQUESTED')!;
      assert.equal('evidence' in asked, false, JSON.stringify(evidence));
    }
  });

  it('starts with no carried entries when the first case had none to give', () => {
    const s = opened({ carried: [] });
    assert.deepEqual(
      s.timeline.map((e) => e.type),
      ['SECOND_REVIEW_REQUESTED', 'REVIEW_STARTED'],
    );
  });

  it('leaves the request it was given as it was', () => {
    const r = request();
    const before = JSON.stringify(r);
    const s = openSecondReview(r).state;
    assert.equal(JSON.stringify(r), before);
    r.excludedReviewers.push('s3');
    assert.deepEqual(s.secondReview?.excludedReviewers, EXCLUDED, 'the state shares the list it was given');
  });
});

describe('second review: secondReviewRefusal', () => {
  const second = opened();

  it('lets anyone through on a case that is no second review, senior or not', () => {
    const plain = claimed('CLOSE');
    for (const senior of [undefined, false, true])
      for (const reviewer of ['r1', 'p5']) assert.equal(secondReviewRefusal(plain, reviewer, senior), null);
  });

  it('refuses SENIOR_REQUIRED to a reviewer without the senior role, whether or not they decided the first case', () => {
    for (const senior of [undefined, false])
      for (const reviewer of ['p5', 'r1']) {
        const r = secondReviewRefusal(second, reviewer, senior);
        assert.equal(r?.code, 'SENIOR_REQUIRED', `${reviewer} ${senior}`);
        assert.match(r.message, /senior reviewers/);
      }
  });

  it('refuses SAME_REVIEWER to a senior who decided or approved the first outcome', () => {
    for (const reviewer of EXCLUDED) {
      const r = secondReviewRefusal(second, reviewer, true);
      assert.equal(r?.code, 'SAME_REVIEWER', reviewer);
      assert.match(r.message, /no part in the first decision/);
    }
  });

  it('lets through a senior who had no part in the first outcome', () => {
    assert.equal(secondReviewRefusal(second, 's3', true), null);
  });
});

describe('second review: claims and decisions', () => {
  it('a claim needs a senior who had no part in the first outcome', () => {
    const s = opened();
    assert.equal(code(s, claim('p5')), 'SENIOR_REQUIRED');
    assert.equal(code(s, claim('p5', false)), 'SENIOR_REQUIRED');
    assert.equal(code(s, claim('r1', true)), 'SAME_REVIEWER');
    assert.equal(code(s, claim('r2', true)), 'SAME_REVIEWER');
    const c = go(s, claim('s3', true), AT);
    assert.equal(c.state.assignee, 's3');
    assert.deepEqual(c.state.deadlines, {
      reviewDueAt: T0 + TERMS.tiers.CLOSE.reviewSlaMs,
      claimIdleAt: AT + TERMS.claimIdleMs!,
    });
    assert.deepEqual(added(s, c.state), [
      { at: iso(AT), actor: { kind: 'reviewer', id: 's3' }, type: 'CLAIM' },
    ]);
  });

  it('the holder claiming again without the senior role is refused, not a no-op; another senior takes over', () => {
    const s = claimedBySenior();
    assert.equal(code(s, claim('s3')), 'SENIOR_REQUIRED');
    const taken = go(s, claim('s4', true), AT);
    assert.equal(taken.state.assignee, 's4');
    assert.deepEqual(added(s, taken.state).at(-1), {
      at: iso(AT),
      actor: { kind: 'reviewer', id: 's4' },
      type: 'CLAIM',
      takeover: true,
      from: 's3',
    });
    assert.equal(code(s, claim('r1', true)), 'SAME_REVIEWER', 'no take-over by a first-case reviewer');
  });

  it('a decision by its holder needs the senior role; the earlier checks still come first', () => {
    assert.equal(code(opened(), decide('s3', 'UPHOLD')), 'NOT_CLAIMED');
    const s = claimedBySenior();
    assert.equal(code(s, decide('s3', 'UPHOLD', { senior: undefined })), 'SENIOR_REQUIRED');
    assert.equal(code(s, decide('s3', 'UPHOLD', { senior: false })), 'SENIOR_REQUIRED');
    assert.equal(code(s, decide('p5', 'UPHOLD', { senior: undefined })), 'CLAIMED_BY_OTHER');
    // The role is checked before the evidence the reviewer saw.
    assert.equal(
      code(s, decide('s3', 'UPHOLD', { senior: undefined, evidenceVersion: 0 })),
      'SENIOR_REQUIRED',
    );
    assert.equal(code(s, decide('s3', 'UPHOLD', { evidenceVersion: 0 })), 'EVIDENCE_CHANGED');
  });

  it('a first-case reviewer cannot decide it even while holding it (a state no claim leads to)', () => {
    const held: CaseState = { ...claimedBySenior(), assignee: 'r1' };
    assert.equal(code(held, decide('r1', 'UPHOLD')), 'SAME_REVIEWER');
  });

  it('UPHOLD by the senior holder ends it UPHELD: the restriction stays', () => {
    const s = claimedBySenior();
    const r = go(s, decide('s3', 'UPHOLD', { explanation }), AT);
    assert.equal(r.state.outcome, 'UPHELD');
    assert.equal(r.state.status, 'UPHELD');
    assert.deepEqual(r.state.explanation, explanation);
    assert.deepEqual(r.effects, [
      { kind: 'NOTIFY_USER', template: 'OUTCOME' },
      { kind: 'NOTIFY_BACKEND', event: 'OUTCOME' },
    ]);
  });

  it('an UNLOCK of a second review that is no CLOSE restores at once', () => {
    for (const tier of ['STEP_UP', 'LIMIT', 'PROTECT', 'FREEZE'] as const) {
      const r = go(claimedBySenior(tier), decide('s3', 'UNLOCK'), AT);
      assert.equal(r.state.outcome, 'RESTORED', tier);
      assert.deepEqual(r.effects[0], { kind: 'LIFT_RESTRICTION' }, tier);
    }
  });

  it('the score limit for an UNLOCK still applies on a second review', () => {
    const r = go(claimedBySenior('FREEZE', { score: 151 }), decide('s3', 'UNLOCK'), AT);
    assert.equal(r.state.status, 'PENDING_APPROVAL');
  });
});

describe('second review: overturning a CLOSE takes a second senior', () => {
  const pending = () => go(claimedBySenior(), decide('s3', 'UNLOCK', { explanation }), AT);

  it('an UNLOCK waits for approval, bound to the evidence it was decided on', () => {
    const r = pending();
    assert.equal(r.state.status, 'PENDING_APPROVAL');
    assert.equal(r.state.outcome, null);
    assert.deepEqual(r.state.pendingClose, {
      by: 's3',
      rationale: 'because',
      at: iso(AT),
      decision: 'UNLOCK',
      evidenceVersion: 1,
      explanation,
    });
    assert.deepEqual(r.state.deadlines, { approvalDueAt: AT + TERMS.approvalSlaMs! });
    assert.deepEqual(r.effects, [], 'nothing is lifted yet');
  });

  it('the approval is refused to the decider, a reviewer without the senior role and a first-case reviewer', () => {
    const s = pending().state;
    assert.match(refusal(s, approve('s3', true)), /^SAME_REVIEWER: .*other than the decider/);
    // The decider is named before the role is checked.
    assert.match(refusal(s, approve('s3')), /^SAME_REVIEWER: .*other than the decider/);
    assert.equal(code(s, approve('p5')), 'SENIOR_REQUIRED');
    assert.equal(code(s, approve('p5', false)), 'SENIOR_REQUIRED');
    assert.match(refusal(s, approve('r1', true)), /^SAME_REVIEWER: .*no part in the first decision/);
    assert.equal(code(s, approve('r2', true)), 'SAME_REVIEWER');
    // The role is checked before the evidence the approver saw.
    assert.equal(code(s, { ...approve('p5'), evidenceVersion: 0 }), 'SENIOR_REQUIRED');
  });

  it('approved by a second senior, it ends RESTORED and lifts the restriction', () => {
    const s = pending().state;
    const r = go(s, approve('s4', true), AT + 1_000);
    assert.equal(r.state.outcome, 'RESTORED');
    assert.deepEqual(r.state.explanation, explanation);
    assert.deepEqual(r.effects, [
      { kind: 'LIFT_RESTRICTION' },
      { kind: 'NOTIFY_USER', template: 'OUTCOME' },
      { kind: 'NOTIFY_BACKEND', event: 'OUTCOME' },
    ]);
    assert.deepEqual(
      added(s, r.state).map((e) => [e.type, e.actor.id]),
      [
        ['APPROVAL', 's4'],
        ['OUTCOME', 's4'],
      ],
    );
  });

  it('rejected by a second senior, it goes back to review', () => {
    const r = go(pending().state, approve('s4', true, false), AT + 1_000);
    assert.equal(r.state.status, 'IN_REVIEW');
    assert.equal(r.state.pendingClose, null);
    assert.equal(r.state.outcome, null);
  });

  it('a CLOSE of a CLOSE second review waits for four eyes too, then closes the account', () => {
    const s = go(claimedBySenior(), decide('s3', 'CLOSE'), AT).state;
    assert.equal(s.pendingClose?.decision, 'CLOSE');
    assert.equal(code(s, approve('p5')), 'SENIOR_REQUIRED');
    const r = go(s, approve('s4', true), AT + 1_000);
    assert.equal(r.state.outcome, 'CLOSED');
    assert.deepEqual(r.effects[0], { kind: 'CLOSE_ACCOUNT' });
  });
});

describe('second review: a case that is no second review ignores the senior flag', () => {
  it('a reviewer without the senior role claims and decides an ordinary CLOSE case; UNLOCK restores at once', () => {
    const s = claimed('CLOSE');
    assert.equal(s.assignee, 'r1');
    assert.equal(
      go(s, { kind: 'DECISION', reviewer: 'r1', decision: 'UNLOCK', rationale: 'x' }).state.outcome,
      'RESTORED',
    );
  });

  it('a decision or an approval gives the same transition with the flag absent, false or true', () => {
    const s = claimed('CLOSE');
    const close = { kind: 'DECISION', reviewer: 'r1', decision: 'CLOSE', rationale: 'x' } as const;
    const plain = transition(s, close, AT);
    for (const senior of [false, true]) assert.deepEqual(transition(s, { ...close, senior }, AT), plain);
    assert.ok(plain.ok);
    const approval = { kind: 'APPROVAL', reviewer: 'r2', approve: true, rationale: 'ok' } as const;
    const approved = transition(plain.state, approval, AT);
    assert.ok(approved.ok && approved.state.outcome === 'CLOSED');
    for (const senior of [false, true])
      assert.deepEqual(transition(plain.state, { ...approval, senior }, AT), approved);
  });
});
