// Outcome codes (issue 18, the user's side, item 4): an explanation says why a case ended with a code of its own
// (core/outcomes.ts), not with the reason code it opened for. The catalogue (en and zh-CN, positive for a
// restore), the schemas' checks and the erasure hold that reads a fraud closure's code are
// test/catalogues.test.ts (server-free). Here: a code that does not fit the decision refused (400, the field
// named) over HTTP for decisions and break-glass; reason codes still taken in 0.5 (deprecated) and still
// rendered; the user's page opening a restore with the outcome's positive words; the console's decision form
// offering the codes that fit the decision. Against the real Temporal dev server, the API over HTTP and headless
// Chromium (en and zh-CN).
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { OUTCOME_CODES, OUTCOME_TEXTS, outcomeCodesFor } from '../core/outcomes';
import { REASONS } from '../core/reasons';
import { launchBrowser, openPage, signIn } from './helpers/browser';
import { apiOf, LANGS, TOKENS } from './helpers/outcome-cases';
import { startPortalEnv, type PortalEnv } from './helpers/portal-env';
import { requires } from './helpers/requirements';

describe('outcome codes end to end (Temporal, API over HTTP, Chromium)', function () {
  requires('temporal', 'chromium');
  this.timeout(240_000);
  let env: PortalEnv;
  let browser: Browser;
  let a: ReturnType<typeof apiOf>;

  before(async function () {
    this.timeout(300_000);
    env = await startPortalEnv({ perCase: 50, perAccount: 50, perIp: 10_000, linkOpensPerIp: 10_000 });
    a = apiOf(env);
    browser = await launchBrowser();
  });
  after(async function () {
    this.timeout(60_000);
    await browser?.close();
    await env?.close();
  });

  it('outcome-code-refused: a code that does not fit the decision or the break-glass is a 400 naming explanation.code, and changes nothing', async () => {
    const { caseId } = await a.open('en', 'IDENTITY_CHECK', { matched: false });
    await a.appealAndClaim(caseId);
    for (const [decision, code] of [
      ['UNLOCK', 'RISK_CONFIRMED'],
      ['UPHOLD', 'IDENTITY_CONFIRMED'],
      ['CLOSE', 'EVIDENCE_ACCEPTED'],
    ] as const) {
      const refused = await a.decide(caseId, decision, { code, text: 'Because.' });
      assert.equal(refused.status, 400, JSON.stringify(refused.json));
      assert.equal(refused.json.code, 'VALIDATION_FAILED');
      assert.deepEqual(
        refused.json.errors.map((e: { path: string }) => e.path),
        ['body.explanation.code'],
      );
      assert.match(refused.json.errors[0].message, new RegExp(`fits ${decision}: `));
    }
    const lift = await a.post(
      `/v1/cases/${caseId}/break-glass`,
      {
        action: 'LIFT',
        rationale: 'Emergency.',
        requestId: `bg-${caseId}`,
        explanation: { code: 'FRAUD_CONFIRMED', text: 'x' },
      },
      TOKENS.senior,
    );
    assert.equal(lift.status, 400, JSON.stringify(lift.json));
    assert.deepEqual(
      lift.json.errors.map((e: { path: string }) => e.path),
      ['body.explanation.code'],
    );
    const view = await a.caseOf(caseId);
    assert.equal(view.status, 'IN_REVIEW', 'nothing changed');
    assert.equal(view.timeline.filter((e) => e.type === 'DECISION').length, 0);
  });

  for (const lang of LANGS)
    it(`outcome-unlock-positive (${lang}): an unlock explained with an outcome code opens with its positive words, never the reason's`, async () => {
      const words = lang === 'en' ? 'Your new ID card matches.' : '您的新身份证信息一致。';
      const { caseId, email } = await a.decided(lang, 'UNLOCK', { code: 'IDENTITY_CONFIRMED', text: words });
      assert.deepEqual((await a.caseOf(caseId)).explanation, { code: 'IDENTITY_CONFIRMED', text: words });
      const { page, problems } = await openPage(browser, env.api.url);
      await page.goto(await a.mailedLink(email));
      const outcome = page.locator('section.outcome');
      assert.equal(
        await page.locator('#explanation-lead').textContent(),
        OUTCOME_TEXTS.IDENTITY_CONFIRMED.user[lang],
      );
      assert.equal(await page.locator('#explanation').textContent(), words);
      assert.ok(!((await outcome.textContent()) ?? '').includes(REASONS.IDENTITY_MISMATCH.user[lang]));
      assert.deepEqual(problems, []);
      await page.context().close();
    });

  it('outcome-reason-code-deprecated (en): a reason code is still taken and rendered; on a restore without its negative words', async () => {
    const unlocked = await a.decided('en', 'UNLOCK', { code: 'IDENTITY_MISMATCH', text: 'All good now.' });
    const upheld = await a.decided('en', 'UPHOLD', { code: 'IDENTITY_MISMATCH', text: 'Still unclear.' });
    const { page, problems } = await openPage(browser, env.api.url);
    await page.goto(a.linkTo(unlocked.caseId, 'en'));
    assert.equal(await page.locator('#explanation').textContent(), 'All good now.');
    assert.equal(
      await page.locator('#explanation-lead').count(),
      0,
      'no "could not be confirmed" on an unlock',
    );
    await page.goto(a.linkTo(upheld.caseId, 'en'));
    assert.equal(await page.locator('#explanation-lead').textContent(), REASONS.IDENTITY_MISMATCH.user.en);
    assert.equal(await page.locator('#explanation').textContent(), 'Still unclear.');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('console-outcome-codes: the decision form offers the outcome codes that fit the chosen decision, with the user’s words; without script a misfit is refused at the field', async () => {
    const { caseId } = await a.open('zh-CN', 'IDENTITY_CHECK', { matched: false });
    await a.appealAndClaim(caseId);
    const r = await openPage(browser, env.api.url);
    await signIn(r.page, TOKENS.reviewer1, `/console/cases/${caseId}`);
    const select = r.page.locator('select[name=explanationCode]');
    assert.deepEqual(
      await select.locator('option').evaluateAll((os: any[]) => os.map((o) => o.value as string)),
      [...OUTCOME_CODES],
      'outcome codes, not reason codes',
    );
    const visible = () =>
      select
        .locator('option')
        .evaluateAll((os: any[]) => os.filter((o) => !o.hidden).map((o) => o.value as string));
    await r.page.locator('input[name=decision][value=UPHOLD]').check();
    assert.deepEqual(await visible(), outcomeCodesFor('UPHELD'));
    assert.equal(await select.inputValue(), outcomeCodesFor('UPHELD')[0]);
    await select.selectOption('NO_RESPONSE');
    // The preview in the case's language (zh-CN), as the user will read it.
    assert.equal(
      await r.page.locator('#explanation-preview').textContent(),
      OUTCOME_TEXTS.NO_RESPONSE.user['zh-CN'],
    );
    await r.page.locator('input[name=decision][value=UNLOCK]').check();
    assert.deepEqual(await visible(), outcomeCodesFor('RESTORED'));
    assert.equal(
      await select.inputValue(),
      'IDENTITY_CONFIRMED',
      'a code that fits replaces one that does not',
    );
    assert.deepEqual(r.problems, []);
    await r.context.close();

    // No script: every code is offered; a misfit comes back at the field, with what was typed.
    const context = await browser.newContext({ baseURL: env.api.url, javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page, TOKENS.reviewer1, `/console/cases/${caseId}`);
    await page.locator('input[name=decision][value=UNLOCK]').check();
    await page.locator('textarea[name=rationale]').fill('Looks fine.');
    await page.locator('select[name=explanationCode]').selectOption('FRAUD_CONFIRMED');
    const [answer] = await Promise.all([
      page.waitForResponse((res) => res.request().method() === 'POST' && res.url().endsWith('/decision')),
      page.locator('#decision-form button[type=submit]').click(),
    ]);
    assert.equal(answer.status(), 400);
    const error = (await page.locator('[data-field="explanationCode"]').textContent()) ?? '';
    assert.match(error, /fits UNLOCK: IDENTITY_CONFIRMED/);
    assert.equal((await a.caseOf(caseId)).status, 'IN_REVIEW');
    await page.locator('select[name=explanationCode]').selectOption('EVIDENCE_ACCEPTED');
    await Promise.all([
      page.waitForURL(/\?done=decision$/),
      page.locator('#decision-form button[type=submit]').click(),
    ]);
    const view = await a.caseOf(caseId);
    assert.equal(view.outcome, 'RESTORED');
    assert.equal(view.explanation?.code, 'EVIDENCE_ACCEPTED');
    await context.close();
  });
});
