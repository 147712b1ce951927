// The final outcome page (issue 18, the user's side, item 1, and the appeal a policy forbids): after UPHELD or
// CLOSED the page says what the restriction means in practice (the tier's capabilities, exactly as the gateway
// reads them from GET /v1/accounts/{id}/restriction), how long it lasts, and the next step: the one second review,
// asked for from the page (a refused form keeps what the user wrote), then the policy's external channels. And a
// tier whose policy forbids an appeal is offered none.
//
// First, pure: what the page offers against the case machine under a policy that forbids appeals. Then end to
// end, in en and zh-CN, against the real Temporal dev server, the API and worker, a real SMTP server and headless
// Chromium.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Browser, Page } from 'playwright-core';
import { formatMoment } from '../activities/mail-templates';
import { CAPABILITY_TEXTS, type Capability } from '../core/capabilities';
import { transition } from '../core/case-machine';
import type { CaseInput, CaseState } from '../core/case-types';
import { caseViewOf } from '../core/case-view';
import type { CaseTerms } from '../core/model';
import { OUTCOME_TEXTS } from '../core/outcomes';
import { caseTermsOf } from '../core/policy';
import { userActionsOf } from '../core/user-actions';
import { launchBrowser, openPage } from './helpers/browser';
import { play, walkArb } from './helpers/case-walks';
import { defaultPolicy } from './helpers/deps';
import { eventually } from './helpers/harness';
import { apiOf, LANGS, TOKENS, ZONE, type Lang } from './helpers/outcome-cases';
import { startPortalEnv, type PortalEnv } from './helpers/portal-env';
import { requires } from './helpers/requirements';

// --- pure: an appeal is offered exactly where the policy's tier takes one ------------------------------------

describe('user case page: an appeal only where the policy allows one', () => {
  it('appeal-allowed-machine: in every state of random cases under a policy forbidding appeals on some tiers, the appeal is offered exactly when the machine accepts it', () => {
    const base = caseTermsOf(defaultPolicy());
    const terms: CaseTerms = {
      ...base,
      tiers: {
        ...base.tiers,
        LIMIT: { ...base.tiers.LIMIT, appealAllowed: false },
        FREEZE: { ...base.tiers.FREEZE, appealAllowed: false },
      },
    };
    const appeal: CaseInput = {
      kind: 'APPEAL',
      statement: 'it was me',
      actor: { kind: 'user', id: 'acct-w' },
    };
    let forbidden = 0;
    fc.assert(
      fc.property(walkArb([3]), (walk) => {
        play(walk, terms, (s: CaseState, at: number) => {
          const view = caseViewOf(s);
          const machine = transition(s, appeal, at);
          assert.equal(view.appealAllowed, terms.tiers[s.tier].appealAllowed, 'the view carries the term');
          assert.equal(
            userActionsOf(view).appeal,
            machine.ok,
            `appeal in ${s.status} ${s.tier}: ${machine.ok ? 'accepted' : machine.refusal.code}`,
          );
          if (!machine.ok && machine.refusal.code === 'APPEAL_NOT_ALLOWED' && !s.appealed) forbidden++;
        });
      }),
      { numRuns: 300, seed: 20261206 },
    );
    assert.ok(forbidden > 0, 'the walks reach tiers that forbid an appeal');
  });
});

// --- end to end --------------------------------------------------------------------------------------------

/** The test policy's channels outside Cordon, and its LIMIT tier's capabilities. */
const COMPLAINTS = [
  { en: 'The Test Ombudsman, phone 0800 111 222.', 'zh-CN': '测试金融调解中心，电话 0800 111 222。' },
  { en: 'The Test Regulator’s hotline, 12399.', 'zh-CN': '测试监管机构热线 12399。' },
];
const LIMIT_ALLOWED: Capability[] = ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY', 'WITHDRAW'];

const TEXT = {
  en: {
    upheld: 'After review, the restriction on your account stays in place.',
    noEnd: 'It has no end date: it stays in place until a review lifts it.',
    canStill: 'You can still:',
    cannot: 'You cannot:',
    askButton: 'Ask for a second review',
    received: 'Your request for a second review has been received',
    back: 'Back to your case',
    requested: 'You have asked for a second review. We will tell you its result.',
    complaints: 'If you disagree, you can turn to:',
    used: 'A second review of this case has already been asked for.',
    nothingNeeded: 'Nothing is needed from you now.',
  },
  'zh-CN': {
    upheld: '经审核，您账户的限制将继续保留。',
    noEnd: '没有结束日期：限制将一直保留，直至经审核解除。',
    canStill: '您仍然可以：',
    cannot: '您不能：',
    askButton: '提交复核申请',
    received: '我们已收到您的复核申请',
    back: '返回您的案件',
    requested: '您已申请复核，我们会将结果告知您。',
    complaints: '如您有异议，可以联系：',
    used: '此案件已申请过复核。',
    nothingNeeded: '目前无需您做任何事。',
  },
} as const;

describe('final outcome page end to end: what it means, how long, what next (Temporal, API, SMTP, Chromium)', function () {
  requires('temporal', 'chromium');
  this.timeout(240_000);
  let env: PortalEnv;
  let browser: Browser;
  let a: ReturnType<typeof apiOf>;

  before(async function () {
    this.timeout(300_000);
    env = await startPortalEnv(
      { perCase: 50, perAccount: 50, perIp: 10_000, linkOpensPerIp: 10_000 },
      (raw) => {
        // LIMIT: no appeal, its own capabilities, and a deadline that passes during the test (then: upheld).
        raw.tiers.LIMIT.appealAllowed = false;
        raw.tiers.LIMIT.capabilities = LIMIT_ALLOWED;
        raw.tiers.LIMIT.userDeadline = '4s';
        raw.tiers.LIMIT.remindBefore = [];
        raw.complaints = COMPLAINTS;
      },
    );
    a = apiOf(env);
    browser = await launchBrowser();
  });
  after(async function () {
    this.timeout(60_000);
    await browser?.close();
    await env?.close();
  });

  /** The items of the list titled `title` in a section of the outcome (the capabilities' words). */
  const listUnder = async (page: Page, section: string, title: string) => {
    const titled = page.locator(`[data-letter="${section}"] p`, { hasText: title });
    if ((await titled.count()) === 0) return null;
    return titled.locator('xpath=following-sibling::ul[1]').locator('li').allTextContents();
  };

  /** The page's words for what the gateway receives: the restriction's allowed and blocked capabilities. */
  const assertCapabilities = async (page: Page, lang: Lang, accountId: string) => {
    const restriction = (await a.api(`/v1/accounts/${accountId}/restriction`)).json;
    const words = (cs: Capability[]) => cs.map((c) => CAPABILITY_TEXTS[c][lang]);
    assert.deepEqual(await listUnder(page, 'practice', TEXT[lang].canStill), words(restriction.allowed));
    assert.deepEqual(await listUnder(page, 'practice', TEXT[lang].cannot), words(restriction.blocked));
    return restriction as { allowed: Capability[]; blocked: Capability[] };
  };

  const sendSecondReview = async (page: Page, lang: Lang, statement: string) => {
    await page.locator('#second-statement').fill(statement);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/second-review')),
      page.getByRole('button', { name: TEXT[lang].askButton }).click(),
    ]);
    await page.waitForLoadState('load');
    return answer.status();
  };

  for (const lang of LANGS)
    it(`outcome-upheld (${lang}): capabilities as the gateway reads them, no end date, a second review asked for from the page, then the channels outside`, async () => {
      const reviewerWords = lang === 'en' ? 'Your documents do not match.' : '您的材料不一致。';
      const { caseId, accountId, email } = await a.decided(lang, 'UPHOLD', {
        code: 'RISK_CONFIRMED',
        text: reviewerWords,
      });
      const { page, problems } = await openPage(browser, env.api.url);
      await page.goto(await a.mailedLink(email));
      assert.equal(await page.locator('h1').textContent(), TEXT[lang].upheld);
      // The reviewer's words open with the outcome code's, not the reason's.
      assert.equal(
        await page.locator('#explanation-lead').textContent(),
        OUTCOME_TEXTS.RISK_CONFIRMED.user[lang],
      );
      assert.equal(await page.locator('#explanation').textContent(), reviewerWords);

      // What it means in practice: the default FREEZE, as the gateway reads it: repaying, nothing else.
      const restriction = await assertCapabilities(page, lang, accountId);
      assert.deepEqual(restriction.allowed, ['REPAY']);
      assert.ok(restriction.blocked.includes('BORROW'));
      assert.equal(
        (await page.locator('[data-letter="duration"]').textContent())?.includes(TEXT[lang].noEnd),
        true,
      );

      // The next step: the one second review, until the window's end, with a form.
      const view = await a.caseOf(caseId);
      assert.ok(view.secondReviewAllowedUntil, 'the API offers a second review');
      const next = (await page.locator('[data-letter="next"]').textContent()) ?? '';
      assert.ok(next.includes(formatMoment(view.secondReviewAllowedUntil, lang, ZONE)), next);
      assert.equal(await page.locator('form[action$="/second-review"]').count(), 1);
      assert.equal(await page.locator('#letter-link').count(), 1);

      const statement = lang === 'en' ? 'My new passport is attached.' : '附上我的新护照。';
      assert.equal(await sendSecondReview(page, lang, statement), 303);
      assert.equal(await page.locator('h1').textContent(), TEXT[lang].received);
      await page.getByRole('link', { name: TEXT[lang].back }).click();
      await page.waitForLoadState('load');

      // Asked for: a linked new case; the page offers no second one and names the channels outside Cordon.
      const first = await a.caseOf(caseId);
      assert.ok(first.secondReviewCaseId, 'the first case names its second review');
      const second = await a.caseOf(first.secondReviewCaseId);
      assert.equal(second.secondReview, true);
      assert.equal(second.previousCaseId, caseId);
      assert.equal(second.status, 'IN_REVIEW');
      assert.ok(JSON.stringify(second.timeline).includes(statement), 'the statement reached the review');
      assert.equal(await page.locator('form[action$="/second-review"]').count(), 0);
      const after = (await page.locator('[data-letter="next"]').textContent()) ?? '';
      assert.ok(after.includes(TEXT[lang].requested), after);
      assert.ok(after.includes(TEXT[lang].complaints), after);
      for (const c of COMPLAINTS) assert.ok(after.includes(c[lang]), `names ${c[lang]}`);
      assert.deepEqual(problems, []);
      await page.context().close();
    });

  it('second-review-two-tabs (zh-CN): the second tab’s request is refused (409) and what was written comes back', async () => {
    const lang: Lang = 'zh-CN';
    const { caseId } = await a.decided(lang, 'UPHOLD', { code: 'INSUFFICIENT_EVIDENCE', text: '材料不足。' });
    const link = a.linkTo(caseId, lang);
    const { context, page: first, problems } = await openPage(browser, env.api.url);
    const second = await context.newPage();
    await first.goto(link);
    await second.goto(link);
    assert.equal(await sendSecondReview(first, lang, '第一个标签页的申请。'), 303);
    const typed = '我五月改了名字 <b>见附件</b> & "银行" 知道。\n\n请看背面。';
    assert.equal(await sendSecondReview(second, lang, typed), 409);
    assert.equal(await second.locator('#problem').getAttribute('data-code'), 'SECOND_REVIEW_USED');
    assert.ok(((await second.locator('#problem').textContent()) ?? '').includes(TEXT[lang].used));
    // The form is gone (the review was asked for): the text is shown back to copy, as typed, never as markup.
    assert.equal(await second.locator('#kept-text').inputValue(), typed);
    assert.equal(await second.locator('main b').count(), 0);
    assert.equal(await second.locator('form[action$="/second-review"]').count(), 0);
    const view = await a.caseOf((await a.caseOf(caseId)).secondReviewCaseId!);
    assert.ok(!JSON.stringify(view).includes('见附件'), 'the refused statement reached no case');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('second-review-ended (en): a second review that ended names the channels outside Cordon and offers no other', async () => {
    const lang: Lang = 'en';
    const { caseId } = await a.decided(lang, 'UPHOLD', { code: 'RISK_CONFIRMED', text: 'Still a risk.' });
    const asked = await a.post(`/v1/cases/${caseId}/second-review`, {
      statement: 'Please look again.',
      requestId: `sr-${caseId}`,
    });
    assert.equal(asked.status, 200, JSON.stringify(asked.json));
    const secondId = asked.json.caseId as string;
    await eventually(
      async () => (await a.post(`/v1/cases/${secondId}/claim`, {}, TOKENS.senior)).status === 200,
    );
    const decided = await a.decide(
      secondId,
      'UPHOLD',
      { code: 'POLICY_BREACH', text: 'Confirmed.' },
      TOKENS.senior,
    );
    assert.equal(decided.json.outcome, 'UPHELD', JSON.stringify(decided.json));

    const { page, problems } = await openPage(browser, env.api.url);
    await page.goto(a.linkTo(secondId, lang));
    assert.equal(await page.locator('form').count(), 0, 'no form at all');
    const next = (await page.locator('[data-letter="next"]').textContent()) ?? '';
    assert.ok(next.includes(TEXT[lang].complaints), next);
    for (const c of COMPLAINTS) assert.ok(next.includes(c.en), `names ${c.en}`);
    assert.ok(!next.includes(TEXT[lang].requested));
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  for (const lang of LANGS)
    it(`appeal-not-allowed (${lang}): a tier whose policy forbids an appeal is offered none; once upheld by its deadline, the page says so with the policy's capabilities`, async () => {
      const { caseId, accountId, email } = await a.open(lang, 'CREDIT_REPORT', {
        lendersLast30d: 7,
        scoreDelta: 0,
        overdueDays: 0,
      });
      const { page, problems } = await openPage(browser, env.api.url);
      await page.goto(await a.mailedLink(email));
      assert.equal(await page.locator('form[action$="/appeal"]').count(), 0, 'no appeal form');
      const view = await a.caseOf(caseId);
      assert.equal(view.tier, 'LIMIT');
      assert.equal(view.appealAllowed, false, 'the view carries the tier’s term');
      const steps = (await page.locator('#next-steps').textContent()) ?? '';
      assert.doesNotMatch(steps, lang === 'en' ? /appeal/i : /申诉/, steps);
      assert.ok(steps.includes(TEXT[lang].nothingNeeded), steps);
      // The API refuses the appeal the page does not offer.
      const refused = await a.post(`/v1/cases/${caseId}/appeal`, {
        statement: 'Me.',
        requestId: `a-${caseId}`,
      });
      assert.equal(refused.json.code, 'APPEAL_NOT_ALLOWED');

      // The deadline passes (4 s): the case ends upheld, by no reviewer.
      await eventually(
        async () => (await a.caseOf(caseId)).outcome === 'UPHELD',
        30_000,
        'upheld by its deadline',
      );
      await page.reload();
      assert.equal(await page.locator('h1').textContent(), TEXT[lang].upheld);
      // The policy's own capabilities for LIMIT, as the gateway reads them.
      const restriction = await assertCapabilities(page, lang, accountId);
      assert.deepEqual(restriction.allowed, LIMIT_ALLOWED);
      assert.deepEqual(problems, []);
      await page.context().close();
    });
});
