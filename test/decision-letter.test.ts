// The decision letter and the mails (issue 18, the user's side, item 1, and the mails' gaps): every ended case has
// a printable letter, linked from its outcome page (case ID, reasons in plain words, dates, the decision and its
// explanation, what it means, how long, what next), and the final mail carries the same letter, so it outlives
// the link. The other mails list only what the user can do now and say when to expect a decision. In en and
// zh-CN, against the real Temporal dev server, the API and worker, a real SMTP server and headless Chromium.
import assert from 'node:assert/strict';
import type { ParsedMail } from 'mailparser';
import type { Browser } from 'playwright-core';
import { formatMoment } from '../activities/mail-templates';
import { CAPABILITY_TEXTS, type Capability } from '../core/capabilities';
import { OUTCOME_TEXTS } from '../core/outcomes';
import { REASONS } from '../core/reasons';
import { launchBrowser, openPage } from './helpers/browser';
import { eventually } from './helpers/harness';
import { apiOf, LANGS, TOKENS, ZONE, type Lang } from './helpers/outcome-cases';
import { mailsTo, startPortalEnv, type PortalEnv } from './helpers/portal-env';
import { requires } from './helpers/requirements';

const COMPLAINTS = [
  { en: 'The Test Ombudsman, phone 0800 111 222.', 'zh-CN': '测试金融调解中心，电话 0800 111 222。' },
];

const TEXT = {
  en: {
    outcomeSubject: 'The review of your account is complete',
    inReviewSubject: 'Your case is being reviewed',
    title: 'Decision on your case',
    closed: 'After review, your account has been closed.',
    byReviewer: 'A member of our review team decided it.',
    permanent: 'The closure is permanent.',
    decisionBy: 'You can expect a decision by',
    addInfo: 'If you have more to tell the reviewer, you can add it on your case page.',
    nothingNeeded: 'Nothing is needed from you now.',
    appeal: /appeal/i,
    verify: /verif/i,
  },
  'zh-CN': {
    outcomeSubject: '您的账户审核已完成',
    inReviewSubject: '您的案件正在审核中',
    title: '关于您案件的决定',
    closed: '经审核，您的账户已被关闭。',
    byReviewer: '由我们的审核人员作出。',
    permanent: '账户关闭是永久性的。',
    decisionBy: '预计作出决定的时间：',
    addInfo: '如您还有需要告知审核人员的内容，可在案件页面补充。',
    nothingNeeded: '目前无需您做任何事。',
    appeal: /申诉/,
    verify: /验证/,
  },
} as const;

/** The mail to `email` whose subject is `subject`, once it has arrived. */
async function mailWith(env: PortalEnv, email: string, subject: string): Promise<ParsedMail> {
  return eventually(
    async () => (await mailsTo(env.smtp, email)).find((m) => m.subject === subject) ?? false,
    30_000,
    `the mail "${subject}"`,
  );
}

/** A mail's text part with line breaks folded, as words to look for. */
const flat = (s: string | undefined) => (s ?? '').replace(/\s+/g, ' ');

/** The lines under "What you can do" in a mail's text part. */
function canDoOf(mail: ParsedMail, lang: Lang): string[] {
  const lines = (mail.text ?? '').split('\n');
  const start = lines.indexOf(`${lang === 'en' ? 'What you can do' : '您可以怎么做'}:`);
  assert.ok(start >= 0, `the mail has "What you can do":\n${mail.text}`);
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

describe('decision letter and mails end to end (Temporal, API, SMTP, Chromium)', function () {
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
        raw.tiers.LIMIT.appealAllowed = false;
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

  /** A confirmed fraud report (CLOSE, four eyes), appealed, closed by reviewer 1 and approved by reviewer 2. */
  const closed = async (lang: Lang, words: string) => {
    const opened = await a.open(lang, 'FRAUD_REPORT', { source: 'card-network', confirmed: true });
    await a.appealAndClaim(opened.caseId);
    const decided = await a.decide(opened.caseId, 'CLOSE', { code: 'FRAUD_CONFIRMED', text: words });
    assert.equal(decided.json.status, 'PENDING_APPROVAL', JSON.stringify(decided.json));
    const approved = await a.post(
      `/v1/cases/${opened.caseId}/approval`,
      { approve: true, rationale: 'Agreed.' },
      TOKENS.reviewer2,
    );
    assert.equal(approved.json.outcome, 'CLOSED', JSON.stringify(approved.json));
    return opened;
  };

  for (const lang of LANGS)
    it(`letter (${lang}): the outcome page links a printable letter with the case, its reasons in plain words, dates, decision, explanation, capabilities, duration and next step; the final mail carries the same`, async () => {
      const words = lang === 'en' ? 'The card network confirmed the report.' : '卡组织确认了该举报。';
      const { caseId, accountId, email } = await closed(lang, words);
      const view = await a.caseOf(caseId);
      const decidedAt = view.timeline.findLast((e) => e.type === 'OUTCOME')!.at;
      const { page, problems } = await openPage(browser, env.api.url);
      await page.goto(a.linkTo(caseId, lang));
      await page.locator('#letter-link').click();
      await page.waitForLoadState('load');
      assert.match(page.url(), /\/letter\?/);
      assert.equal(await page.locator('h1').textContent(), TEXT[lang].title);
      assert.equal(await page.locator('#letter form').count(), 0, 'a letter, not a form');
      const section = async (id: string) => (await page.locator(`[data-letter="${id}"]`).textContent()) ?? '';

      const head = await section('case');
      assert.ok(head.includes(caseId), head);
      assert.ok(head.includes(formatMoment(view.openedAt, lang, ZONE)), `opened: ${head}`);
      assert.ok(head.includes(formatMoment(decidedAt, lang, ZONE)), `decided: ${head}`);
      assert.ok((await section('why')).includes(REASONS.EXTERNAL_FRAUD_REPORT.user[lang]));
      const decision = await section('decision');
      for (const part of [
        TEXT[lang].closed,
        TEXT[lang].byReviewer,
        OUTCOME_TEXTS.FRAUD_CONFIRMED.user[lang],
        words,
      ])
        assert.ok(decision.includes(part), `${part} in ${decision}`);
      const restriction = (await a.api(`/v1/accounts/${accountId}/restriction`)).json;
      assert.deepEqual(restriction.allowed, ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY'], 'a closed account');
      const practice = await section('practice');
      for (const c of [...restriction.allowed, ...restriction.blocked] as Capability[])
        assert.ok(practice.includes(CAPABILITY_TEXTS[c][lang]), c);
      assert.ok((await section('duration')).includes(TEXT[lang].permanent));
      const next = await section('next');
      assert.ok(next.includes(formatMoment(view.secondReviewAllowedUntil!, lang, ZONE)), next);
      // Plain words only: no score, rule, policy or threshold.
      const letter = (await page.locator('#letter').textContent()) ?? '';
      for (const internal of ['fraud-report-confirmed', view.policyVersion, 'score', 'FRAUD_CONFIRMED'])
        assert.ok(!letter.includes(internal), `the letter shows no ${internal}`);
      assert.ok(!new RegExp(`\\b${view.score}\\b`).test(letter.replace(caseId, '')), 'no score');
      // Printed: the letter alone.
      await page.emulateMedia({ media: 'print' });
      assert.equal(await page.locator('header.top').isVisible(), false);
      assert.equal(await page.locator('#letter').isVisible(), true);

      // The final mail carries every line of the letter.
      const mail = flat((await mailWith(env, email, TEXT[lang].outcomeSubject)).text);
      const lines = await page
        .locator(
          '#letter [data-letter] p, #letter [data-letter] li, #letter [data-letter] blockquote, #letter h2',
        )
        .allTextContents();
      assert.ok(lines.length > 10, 'the letter has its lines');
      for (const line of lines) assert.ok(mail.includes(flat(line).trim()), `the mail carries "${line}"`);
      assert.deepEqual(problems, []);
      await page.context().close();
    });

  for (const lang of LANGS)
    it(`mail-can-do-now (${lang}): a mail names only what the case accepts, and in review when to expect a decision`, async () => {
      // Under this policy LIMIT takes no appeal: its reason's advice ("appeal") is not mailed.
      const limited = await a.open(lang, 'CREDIT_REPORT', {
        lendersLast30d: 7,
        scoreDelta: 0,
        overdueDays: 0,
      });
      const first = (await mailsTo(env.smtp, limited.email))[0]!;
      assert.ok(flat(first.text).includes(REASONS.MULTI_LENDER_BORROWING.user[lang]), first.text);
      assert.deepEqual(canDoOf(first, lang), [`- ${TEXT[lang].nothingNeeded}`]);
      assert.doesNotMatch(flat(first.text), TEXT[lang].appeal);

      // After an appeal: nothing about verifying or appealing, and the expected decision from the review SLA.
      const frozen = await a.open(lang, 'IDENTITY_CHECK', { matched: false, field: 'name' });
      const appealed = await a.post(`/v1/cases/${frozen.caseId}/appeal`, {
        statement: 'It was me.',
        requestId: `a-${frozen.caseId}`,
      });
      assert.equal(appealed.status, 200, JSON.stringify(appealed.json));
      const due = (await a.caseOf(frozen.caseId)).deadlines.reviewDueAt!;
      const mail = await mailWith(env, frozen.email, TEXT[lang].inReviewSubject);
      const inReview = flat(mail.text);
      assert.ok(
        inReview.includes(`${TEXT[lang].decisionBy} ${formatMoment(due, lang, ZONE)}`),
        `${formatMoment(due, lang, ZONE)} in ${inReview}`,
      );
      // Adding information is what the case accepts (rules 3 and later); neither verifying nor appealing.
      const canDo = canDoOf(mail, lang);
      assert.equal(canDo.length, 1, canDo.join('\n'));
      assert.ok(canDo[0]!.includes(TEXT[lang].addInfo), canDo[0]);
      assert.doesNotMatch(canDo[0]!, TEXT[lang].verify);
      assert.doesNotMatch(canDo[0]!, TEXT[lang].appeal);
      assert.ok(!inReview.includes(REASONS.IDENTITY_MISMATCH.nextStep[lang]), inReview);
    });
});
