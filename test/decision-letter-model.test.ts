// The decision letter's model, what a restricted account can still do and the outcome codes' words (core/
// decision-letter.ts, core/capabilities.ts, core/outcomes.ts), without a server: part of the mutation run. The
// pages and mails that render them are test/decision-letter.test.ts, test/capabilities.test.ts and
// test/outcome-codes.test.ts.
import assert from 'node:assert/strict';
import { CAPABILITIES, capabilitiesOf, CAPABILITY_TEXTS, DEFAULT_ALLOWED } from '../core/capabilities';
import {
  decisionLetter,
  decisionSentence,
  durationSentence,
  letterNextOf,
  secondReviewDeadline,
  DEFAULT_SECOND_REVIEW_WINDOW,
  type LetterBlock,
  type LetterInput,
} from '../core/decision-letter';
import { parseDuration } from '../core/durations';
import { REASON_CODES } from '../core/model';
import {
  explanationLead,
  isOutcomeCode,
  isReasonCode,
  OUTCOME_CODES,
  OUTCOME_TEXTS,
  outcomeCodesFor,
} from '../core/outcomes';
import { REASONS } from '../core/reasons';

/** Shows where a time was put, so a test sees which time went where. */
const moment = (iso: string) => `<${iso}>`;
const OPENED = '2026-11-01T09:00:00.000Z';
const DECIDED = '2026-11-03T10:30:00.000Z';
const UNTIL = '2026-12-01T00:00:00.000Z';
const DAY = 86_400_000;

function letterInput(o: Partial<LetterInput> = {}): LetterInput {
  return {
    caseId: 'acct-1.0123456789ab',
    outcome: 'UPHELD',
    reasons: ['IDENTITY_MISMATCH'],
    explanation: null,
    openedAt: OPENED,
    decidedAt: DECIDED,
    decidedBy: 'reviewer',
    secondReview: false,
    capabilities: { allowed: ['REPAY'], blocked: ['SIGN_IN', 'BORROW'] },
    next: { kind: 'complaints' },
    complaints: [],
    ...o,
  };
}

/**
 * Each section as its id and blocks' texts, one line per block: a paragraph as it is, the reviewer's quote behind
 * "> ", a list as its title behind "# " (when it has one), then its items behind "- ".
 */
function outline(l: ReturnType<typeof decisionLetter>): Record<string, string[]> {
  const lines = (b: LetterBlock): string[] => {
    if (b.kind === 'p') return [b.text];
    if (b.kind === 'quote') return [`> ${b.text}`];
    if (b.kind === 'list')
      return [...(b.title === undefined ? [] : [`# ${b.title}`]), ...b.items.map((i) => `- ${i}`)];
    return [`? ${JSON.stringify(b)}`];
  };
  return Object.fromEntries(l.sections.map((s) => [s.id, s.blocks.flatMap(lines)]));
}

describe('decision letter: the model every page and mail renders', () => {
  it('letter-upheld: case, reasons once each, the decision by a senior with their words, what still works, how long, where to turn', () => {
    const letter = decisionLetter(
      letterInput({
        reasons: ['IDENTITY_MISMATCH', 'FAILED_VERIFICATIONS', 'IDENTITY_MISMATCH'],
        secondReview: true,
        explanation: { code: 'RISK_CONFIRMED', text: 'The documents do not match.' },
        until: UNTIL,
        complaints: [
          { en: 'The ombudsman', 'zh-CN': '金融监察专员' },
          { en: 'The regulator', 'zh-CN': '监管机构' },
        ],
      }),
      'en',
      moment,
    );
    assert.equal(letter.title, 'Decision on your case');
    assert.deepEqual(
      letter.sections.map((s) => [s.id, s.heading]),
      [
        ['case', 'Your case'],
        ['why', 'Why the case was opened'],
        ['decision', 'The decision'],
        ['practice', 'What this means for you'],
        ['duration', 'How long'],
        ['next', 'What you can do next'],
      ],
    );
    assert.deepEqual(outline(letter), {
      case: ['Case reference: acct-1.0123456789ab', `Opened on <${OPENED}>.`, `Decided on <${DECIDED}>.`],
      why: [`- ${REASONS.IDENTITY_MISMATCH.user.en}`, `- ${REASONS.FAILED_VERIFICATIONS.user.en}`],
      decision: [
        'After review, the restriction on your account stays in place.',
        'A senior reviewer who had no part in the first decision decided it, on second review.',
        `What the reviewer says: ${OUTCOME_TEXTS.RISK_CONFIRMED.user.en}`,
        '> The documents do not match.',
      ],
      practice: [
        '# You can still:',
        `- ${CAPABILITY_TEXTS.REPAY.en}`,
        '# You cannot:',
        `- ${CAPABILITY_TEXTS.SIGN_IN.en}`,
        `- ${CAPABILITY_TEXTS.BORROW.en}`,
      ],
      duration: [`The restriction ends on <${UNTIL}>.`],
      next: [
        '# Our own reviews of this decision are complete. If you disagree, you can turn to:',
        '- The ombudsman',
        '- The regulator',
      ],
    });
    // The reviewer's words stand as written, as a quote of their own.
    assert.deepEqual(letter.sections[2]!.blocks[3], { kind: 'quote', text: 'The documents do not match.' });
  });

  it('letter-restored: everything works again, nothing lasts, nothing to do; a reason code says nothing on a restore', () => {
    const letter = decisionLetter(
      letterInput({
        outcome: 'RESTORED',
        decidedBy: 'system',
        explanation: { code: 'IDENTITY_MISMATCH', text: 'Checked again.' },
        // Even with a tier's list at hand, a restore says that everything works again.
        capabilities: { allowed: ['REPAY'], blocked: ['SIGN_IN'] },
        until: UNTIL,
        next: { kind: 'none' },
        complaints: [{ en: 'The ombudsman', 'zh-CN': '金融监察专员' }],
      }),
      'en',
      moment,
    );
    assert.deepEqual(outline(letter), {
      case: ['Case reference: acct-1.0123456789ab', `Opened on <${OPENED}>.`, `Decided on <${DECIDED}>.`],
      why: [`- ${REASONS.IDENTITY_MISMATCH.user.en}`],
      decision: ['Your account is fully available again.', 'What the reviewer says:', '> Checked again.'],
      practice: ['Everything on your account works again.'],
      next: ['Nothing: you do not need to do anything.'],
    });
  });

  it('letter-parts: no times, no reasons, no reviewer; an upheld case that blocks nothing; the second review offered, asked for, or none', () => {
    const bare = decisionLetter(
      letterInput({
        outcome: 'CLOSED',
        reasons: [],
        openedAt: null,
        decidedAt: null,
        decidedBy: 'backend',
        capabilities: { allowed: [], blocked: ['SIGN_IN'] },
        until: UNTIL,
        next: { kind: 'secondReview', until: UNTIL },
      }),
      'en',
      moment,
    );
    assert.deepEqual(outline(bare), {
      case: ['Case reference: acct-1.0123456789ab'],
      decision: ['After review, your account has been closed.'],
      practice: ['# You cannot:', `- ${CAPABILITY_TEXTS.SIGN_IN.en}`],
      duration: ['The closure is permanent.'],
      next: [
        `You can ask once for a second review by a senior reviewer who had no part in this decision, until <${UNTIL}>. Tell us why and add any new documents on your case page.`,
      ],
    });
    // An upheld case whose restriction blocks nothing reads as one that works again.
    const nothingBlocked = letterInput({ capabilities: { allowed: [...CAPABILITIES], blocked: [] } });
    assert.deepEqual(outline(decisionLetter(nothingBlocked, 'en', moment)).practice, [
      'Everything on your account works again.',
    ]);
    const requested = (complaints: LetterInput['complaints']) =>
      outline(
        decisionLetter(letterInput({ next: { kind: 'secondReviewRequested' }, complaints }), 'en', moment),
      ).next;
    assert.deepEqual(requested([]), [
      'You have asked for a second review. We will tell you its result.',
      'Our own reviews of this decision are complete. Keep this letter: it records the decision if you take your complaint further.',
    ]);
    assert.deepEqual(requested([{ en: 'The ombudsman', 'zh-CN': '金融监察专员' }]), [
      'You have asked for a second review. We will tell you its result.',
      '# Our own reviews of this decision are complete. If you disagree, you can turn to:',
      '- The ombudsman',
    ]);
    // A first decision by a reviewer (not a second review) names the review team.
    assert.deepEqual(outline(decisionLetter(letterInput(), 'en', moment)).decision, [
      'After review, the restriction on your account stays in place.',
      'A member of our review team decided it.',
    ]);
  });

  it('letter-zh-CN: every heading and sentence of every kind of letter in Chinese, the same sections as in English', () => {
    const channels = [{ en: 'The ombudsman', 'zh-CN': '金融监察专员' }];
    const variants: Partial<LetterInput>[] = [];
    for (const outcome of ['RESTORED', 'UPHELD', 'CLOSED'] as const)
      for (const next of [
        { kind: 'none' },
        { kind: 'secondReview', until: UNTIL },
        { kind: 'secondReviewRequested' },
        { kind: 'complaints' },
      ] as const)
        for (const complaints of [[], channels])
          for (const secondReview of [false, true])
            for (const decidedBy of ['reviewer', 'system'] as const)
              variants.push({
                outcome,
                next,
                complaints,
                secondReview,
                decidedBy,
                until: outcome === 'UPHELD' && secondReview ? null : UNTIL,
                // On a restore a reason code opens nothing: the reviewer's heading stands alone.
                explanation: {
                  code: outcome === 'RESTORED' ? 'IDENTITY_MISMATCH' : 'NO_RESPONSE',
                  text: 'x',
                },
                capabilities:
                  outcome === 'RESTORED'
                    ? { allowed: [], blocked: [] }
                    : { allowed: ['REPAY'], blocked: ['BORROW'] },
              });
    let checked = 0;
    for (const v of variants) {
      const en = decisionLetter(letterInput(v), 'en', moment);
      const zh = decisionLetter(letterInput(v), 'zh-CN', moment);
      assert.deepEqual(
        zh.sections.map((s) => s.id),
        en.sections.map((s) => s.id),
      );
      const texts = [zh.title, ...zh.sections.map((s) => s.heading), ...Object.values(outline(zh)).flat()];
      for (const t of texts.filter((t) => t !== '> x')) {
        assert.match(t, /[\u4e00-\u9fff]/, `not in Chinese: ${t} (${JSON.stringify(v)})`);
        checked += 1;
      }
      assert.ok(texts.includes('> x'), "the reviewer's words as written");
    }
    assert.ok(checked > variants.length * 8);
    const zh = outline(
      decisionLetter(letterInput({ next: { kind: 'complaints' }, complaints: channels }), 'zh-CN', moment),
    );
    assert.ok(zh.next!.includes('- 金融监察专员'));
    assert.ok(zh.why!.includes(`- ${REASONS.IDENTITY_MISMATCH.user['zh-CN']}`));
  });

  it('decision-sentence: by outcome, and for an upheld case by who ended it', () => {
    assert.equal(decisionSentence('RESTORED', 'reviewer', 'en'), 'Your account is fully available again.');
    assert.equal(decisionSentence('CLOSED', 'system', 'en'), 'After review, your account has been closed.');
    assert.equal(
      decisionSentence('UPHELD', 'system', 'en'),
      'The time to act on your case passed, so the restriction on your account stays in place.',
    );
    for (const by of ['reviewer', 'backend', 'user', null] as const)
      assert.equal(
        decisionSentence('UPHELD', by, 'en'),
        'After review, the restriction on your account stays in place.',
      );
    assert.equal(
      decisionSentence('UPHELD', 'system', 'zh-CN'),
      '您案件的处理期限已过，因此您账户的限制将继续保留。',
    );
    assert.equal(decisionSentence('CLOSED', null, 'zh-CN'), '经审核，您的账户已被关闭。');
    assert.equal(decisionSentence('RESTORED', null, 'zh-CN'), '您的账户已恢复正常使用。');
    assert.equal(decisionSentence('UPHELD', 'reviewer', 'zh-CN'), '经审核，您账户的限制将继续保留。');
  });

  it('duration: none for a restore, permanent for a closure whatever its date, an end date or none', () => {
    assert.equal(durationSentence('RESTORED', UNTIL, 'en', moment), null);
    assert.equal(durationSentence('CLOSED', UNTIL, 'en', moment), 'The closure is permanent.');
    assert.equal(durationSentence('UPHELD', UNTIL, 'en', moment), `The restriction ends on <${UNTIL}>.`);
    for (const none of [null, undefined, ''])
      assert.equal(
        durationSentence('UPHELD', none, 'en', moment),
        'It has no end date: it stays in place until a review lifts it.',
      );
    assert.equal(durationSentence('UPHELD', UNTIL, 'zh-CN', moment), `限制将于 <${UNTIL}> 结束。`);
  });

  it('second-review-deadline: the window after an upheld or closed first decision; none after a restore, a second review or a bad time', () => {
    // The policy's review.secondReviewWindow when it sets none.
    const window = parseDuration(DEFAULT_SECOND_REVIEW_WINDOW)!;
    assert.equal(window, 14 * DAY);
    const at = (outcome: 'UPHELD' | 'CLOSED' | 'RESTORED', secondReview = false, decidedAt = DECIDED) =>
      secondReviewDeadline({ outcome, decidedAt, secondReview }, window);
    assert.equal(at('UPHELD'), new Date(Date.parse(DECIDED) + window).toISOString());
    assert.equal(at('CLOSED'), '2026-11-17T10:30:00.000Z');
    assert.equal(at('RESTORED'), null);
    assert.equal(at('UPHELD', true), null);
    assert.equal(at('CLOSED', true), null);
    assert.equal(at('UPHELD', false, 'not a time'), null);
  });

  it('letter-next: nothing after a restore; the second review while it may be asked for; then the channels outside', () => {
    const now = Date.parse(DECIDED);
    const next = (o: Partial<Parameters<typeof letterNextOf>[0]>) =>
      letterNextOf({ outcome: 'UPHELD', secondReviewUntil: null, secondReviewRequested: false, ...o }, now);
    const later = new Date(now + 1).toISOString();
    assert.deepEqual(next({ outcome: 'RESTORED', secondReviewUntil: later, secondReviewRequested: true }), {
      kind: 'none',
    });
    assert.deepEqual(next({ secondReviewUntil: later, secondReviewRequested: true }), {
      kind: 'secondReviewRequested',
    });
    assert.deepEqual(next({ secondReviewUntil: later }), { kind: 'secondReview', until: later });
    assert.deepEqual(next({ outcome: 'CLOSED', secondReviewUntil: later }), {
      kind: 'secondReview',
      until: later,
    });
    assert.deepEqual(next({ secondReviewUntil: new Date(now).toISOString() }), { kind: 'complaints' });
    assert.deepEqual(next({}), { kind: 'complaints' });
  });
});

describe('capabilities: what a restricted account can still do', () => {
  it('capabilities-of: everything unrestricted; the tier’s defaults or the policy’s list, always in the catalogue’s order', () => {
    const all = { allowed: [...CAPABILITIES], blocked: [] };
    assert.deepEqual(capabilitiesOf({ restricted: false, tier: 'FREEZE' }), all);
    assert.deepEqual(capabilitiesOf({ restricted: true, tier: 'NONE' }), all);
    assert.deepEqual(capabilitiesOf({ restricted: true, tier: 'FREEZE' }), {
      allowed: ['REPAY'],
      blocked: [
        'SIGN_IN',
        'VIEW_STATEMENTS',
        'DEPOSIT',
        'CHANGE_DETAILS',
        'TRANSFER_OUT',
        'WITHDRAW',
        'BORROW',
      ],
    });
    // A closed account has the CLOSE tier's capabilities, whatever tier its case had.
    assert.deepEqual(capabilitiesOf({ restricted: true, tier: 'FREEZE', status: 'CLOSED' }), {
      allowed: ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY'],
      blocked: ['DEPOSIT', 'CHANGE_DETAILS', 'TRANSFER_OUT', 'WITHDRAW', 'BORROW'],
    });
    assert.deepEqual(
      capabilitiesOf({ restricted: true, tier: 'LIMIT', status: 'IN_REVIEW' }).allowed,
      DEFAULT_ALLOWED.LIMIT,
    );
    // The policy's list, given in another order, comes back in the catalogue's; other tiers keep their defaults.
    const tiers = { FREEZE: { capabilities: ['REPAY', 'SIGN_IN'] as const } };
    assert.deepEqual(capabilitiesOf({ restricted: true, tier: 'FREEZE' }, tiers).allowed, [
      'SIGN_IN',
      'REPAY',
    ]);
    assert.deepEqual(
      capabilitiesOf({ restricted: true, tier: 'PROTECT' }, tiers).allowed,
      DEFAULT_ALLOWED.PROTECT,
    );
    // A tier that lists nothing allows nothing.
    assert.deepEqual(
      capabilitiesOf({ restricted: true, tier: 'STEP_UP' }, { STEP_UP: { capabilities: [] } }),
      {
        allowed: [],
        blocked: [...CAPABILITIES],
      },
    );
  });
});

describe('outcome codes: which fit an outcome, and the words that open an explanation', () => {
  it('outcome-codes-for: four that explain a restore, six that explain a case ended against the user', () => {
    assert.deepEqual(outcomeCodesFor('RESTORED'), [
      'IDENTITY_CONFIRMED',
      'ACTIVITY_EXPLAINED',
      'EVIDENCE_ACCEPTED',
      'RESTRICTED_IN_ERROR',
    ]);
    const against = [
      'RISK_CONFIRMED',
      'INSUFFICIENT_EVIDENCE',
      'NO_RESPONSE',
      'POLICY_BREACH',
      'FRAUD_CONFIRMED',
      'LEGAL_REQUIREMENT',
    ];
    assert.deepEqual(outcomeCodesFor('UPHELD'), against);
    assert.deepEqual(outcomeCodesFor('CLOSED'), against);
  });

  it('explanation-lead: an outcome code’s words always; a reason code’s except on a restore; anything else none', () => {
    assert.equal(explanationLead('IDENTITY_CONFIRMED', 'RESTORED', 'en'), 'We have confirmed your identity.');
    assert.equal(
      explanationLead('RISK_CONFIRMED', null, 'zh-CN'),
      OUTCOME_TEXTS.RISK_CONFIRMED.user['zh-CN'],
    );
    assert.equal(explanationLead('IDENTITY_MISMATCH', 'UPHELD', 'en'), REASONS.IDENTITY_MISMATCH.user.en);
    assert.equal(
      explanationLead('IDENTITY_MISMATCH', null, 'zh-CN'),
      REASONS.IDENTITY_MISMATCH.user['zh-CN'],
    );
    assert.equal(explanationLead('IDENTITY_MISMATCH', 'RESTORED', 'en'), null);
    assert.equal(explanationLead('SOMETHING_ELSE', 'UPHELD', 'en'), null);
    for (const code of OUTCOME_CODES) assert.ok(isOutcomeCode(code) && !isReasonCode(code), code);
    for (const code of REASON_CODES) assert.ok(isReasonCode(code) && !isOutcomeCode(code), code);
    for (const other of ['', 'restored', 42, null, undefined, 'toString'])
      assert.ok(!isOutcomeCode(other) && !isReasonCode(other), String(other));
  });
});
