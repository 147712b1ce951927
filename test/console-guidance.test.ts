// Issue 18, the reviewer's side, item 4: reviewer guidance in every locale (the API keeps its English string
// and adds each locale's, and the OpenAPI document says so), the console in the reviewer's language; no take-over
// button for a role that may not take over; and a case waiting for approval shows its approval deadline. Over
// real HTTP against the real API and a worker on the dev server, and in a real headless Chromium.
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { LOCALES } from '../core/model';
import { REASONS } from '../core/reasons';
import { launchBrowser, openPage, signIn, type ReviewerPage } from './helpers/browser';
import { EXAMPLES, riskEvent, uniqueAccount } from './helpers/events';
import { callApi, eventually, startApiHarness, type ApiHarness } from './helpers/harness';
import { requires } from './helpers/requirements';

const CJK = /[\u4e00-\u9fff]/;

describe('reviewer guidance per locale, take-over, approval deadline', function () {
  requires('temporal');
  this.timeout(120_000);
  let running: ApiHarness | undefined;
  let url: string;
  const api = (method: 'GET' | 'POST', path: string, token: string, body?: unknown) =>
    callApi(url, method, path, token, body);

  /** A case in review (identity mismatch), claimed by reviewer-1. */
  let held: string;
  /** A confirmed-fraud case whose CLOSE by reviewer-1 waits for a second reviewer. */
  let pending: string;

  async function appealed(example: keyof typeof EXAMPLES): Promise<string> {
    const [type, attributes] = EXAMPLES[example];
    const reported = await api(
      'POST',
      '/v1/risk-events',
      'dev-backend',
      riskEvent(uniqueAccount('guidance'), type, attributes as never),
    );
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
    const caseId: string = reported.body.caseId;
    const appeal = await api('POST', `/v1/cases/${caseId}/appeal`, 'dev-backend', {
      statement: 'Please look again.',
      requestId: `appeal-${caseId}`,
    });
    assert.equal(appeal.body.status, 'IN_REVIEW', JSON.stringify(appeal.body));
    return caseId;
  }

  const queueItem = async (caseId: string) =>
    (await api('GET', '/v1/review-queue?limit=500', 'dev-reviewer-2')).body.items?.find(
      (i: { caseId: string }) => i.caseId === caseId,
    );

  before(async function () {
    this.timeout(300_000);
    running = await startApiHarness();
    url = running.api.url;
    held = await appealed('identityMismatch');
    assert.equal((await api('POST', `/v1/cases/${held}/claim`, 'dev-reviewer-1')).status, 200);
    pending = await appealed('fraudConfirmed');
    assert.equal((await api('POST', `/v1/cases/${pending}/claim`, 'dev-reviewer-1')).status, 200);
    const closed = await api('POST', `/v1/cases/${pending}/decision`, 'dev-reviewer-1', {
      decision: 'CLOSE',
      rationale: 'Confirmed card-network fraud report.',
      requestId: `close-${pending}`,
    });
    assert.equal(closed.body.status, 'PENDING_APPROVAL', JSON.stringify(closed.body));
    // Visibility lags its cases by a moment.
    await eventually(
      async () =>
        (await queueItem(held))?.assignee === 'reviewer-1' &&
        (await queueItem(pending))?.status === 'PENDING_APPROVAL',
      20_000,
      'both cases in the queue as they are',
    );
  });

  after(async () => {
    await running?.close();
  });

  describe('over HTTP', () => {
    it("a case's reasons carry the reviewer guidance in every locale, and the English string as before", async () => {
      const view = (await api('GET', `/v1/cases/${held}`, 'dev-backend')).body;
      assert.ok(view.reasons.length > 0);
      for (const r of view.reasons) {
        const catalogue = REASONS[r.code as keyof typeof REASONS];
        assert.deepEqual(Object.keys(r.explanation.reviewerByLocale ?? {}).sort(), [...LOCALES].sort());
        assert.equal(typeof r.explanation.reviewer, 'string', 'the field clients read stays a string');
        assert.equal(r.explanation.reviewer, catalogue.reviewer.en);
        for (const locale of LOCALES)
          assert.equal(r.explanation.reviewerByLocale[locale], catalogue.reviewer[locale], locale);
        assert.match(r.explanation.reviewerByLocale['zh-CN'], CJK);
        assert.doesNotMatch(r.explanation.reviewerByLocale.en, CJK);
      }
    });

    it('the OpenAPI document describes the guidance of every locale where a case is answered', async () => {
      const doc = (await (await fetch(`${url}/openapi.json`)).json()) as any;
      const answered = (path: string, method: string) =>
        doc.paths[path][method].responses['200'].content['application/json'].schema;
      const ref = answered('/v1/cases/{caseId}', 'get').$ref as string;
      assert.equal(ref, '#/components/schemas/Case');
      for (const [path, method] of [
        ['/v1/cases/{caseId}/claim', 'post'],
        ['/v1/cases/{caseId}/decision', 'post'],
        ['/v1/cases/{caseId}/appeal', 'post'],
      ] as const)
        assert.equal(answered(path, method).$ref, ref, `${method} ${path}`);
      const explanation = doc.components.schemas.Case.properties.reasons.items.properties.explanation;
      assert.equal(explanation.properties.reviewer.type, 'string');
      const byLocale = explanation.properties.reviewerByLocale;
      assert.deepEqual([...byLocale.required].sort(), [...LOCALES].sort());
      assert.ok(explanation.required.includes('reviewerByLocale'));
      // The lists of cases are described too.
      for (const path of ['/v1/cases', '/v1/ended-cases'])
        assert.ok(answered(path, 'get').properties.items, path);
    });

    it("the review queue gives a case pending approval the approval deadline from the case's view", async () => {
      const view = (await api('GET', `/v1/cases/${pending}`, 'dev-reviewer-2')).body;
      assert.equal(view.status, 'PENDING_APPROVAL');
      assert.ok(view.deadlines.approvalDueAt, 'the view has the approval deadline');
      const item = await queueItem(pending);
      assert.equal(item.reviewDueAt, null, 'no review deadline while it waits for approval');
      assert.equal(item.approvalDueAt, view.deadlines.approvalDueAt);
      assert.equal((await queueItem(held)).approvalDueAt, null, 'a case in review has none');
    });
  });

  describe('in Chromium', function () {
    requires('chromium');
    let browser: Browser;
    const pages: ReviewerPage[] = [];
    const openFor = async (locale: string) => {
      const p = await openPage(browser, url, locale);
      pages.push(p);
      return p;
    };

    before(async () => {
      browser = await launchBrowser();
    });
    afterEach(async function () {
      for (const p of pages.splice(0)) {
        // Awaited: a close left running rejects once the browser is gone.
        await p.context.close();
        if (this.currentTest?.state === 'passed') assert.deepEqual(p.problems, [], 'no page or CSP errors');
      }
    });
    after(() => browser?.close());

    it("the reasons' guidance is in the reviewer's language: Chinese for a zh-CN reviewer, else English", async () => {
      for (const [browserLocale, locale] of [
        ['zh-CN', 'zh-CN'],
        ['en-US', 'en'],
      ] as const) {
        const r = await openFor(browserLocale);
        await signIn(r.page, 'dev-reviewer-2', `/console/cases/${held}`);
        const guidance = (
          await r.page.locator('tr[data-reason="IDENTITY_MISMATCH"] td:nth-child(3)').innerText()
        ).trim();
        if (locale === 'zh-CN') assert.match(guidance, CJK, 'in Chinese');
        else assert.doesNotMatch(guidance, CJK, 'in English');
        assert.equal(guidance, REASONS.IDENTITY_MISMATCH.reviewer[locale], locale);
      }
    });

    it('a plain reviewer sees no take-over button on a case another reviewer holds; a senior does, and it works', async () => {
      const reviewer = await openFor('en-US');
      await signIn(reviewer.page, 'dev-reviewer-2', `/console/cases/${held}`);
      assert.match(await reviewer.page.locator('#hold').innerText(), /Held by reviewer-1/);
      assert.equal(await reviewer.page.locator('#hold button[data-action=claim]').count(), 0, 'no take-over');
      assert.equal(await reviewer.page.locator('#hold button[data-action=release]').count(), 0, 'no release');
      assert.match(
        await reviewer.page.locator('#senior-takes-over').innerText(),
        /Only a senior reviewer can take over/,
      );

      const senior = await openFor('zh-CN');
      await signIn(senior.page, 'dev-senior', `/console/cases/${held}`);
      const takeOver = senior.page.locator('#hold button[data-action=claim]');
      assert.equal((await takeOver.innerText()).trim(), '接管');
      await Promise.all([senior.page.waitForURL(/\?done=claim$/), takeOver.click()]);
      assert.match(await senior.page.locator('#case-assignee').innerText(), /senior/);
      assert.equal((await api('GET', `/v1/cases/${held}`, 'dev-backend')).body.assignee, 'senior');
    });

    for (const [locale, words] of [
      ['en-US', { sla: 'Approval SLA', left: 'left' }],
      ['zh-CN', { sla: '批准时限', left: '剩余' }],
    ] as const)
      it(`${locale}: a case pending approval shows its approval deadline in the queue and on its page`, async () => {
        const r = await openFor(locale);
        await signIn(r.page, 'dev-reviewer-2');
        const row = r.page.locator(`tr[data-case-id="${pending}"]`);
        await row.waitFor();
        const deadline = (await row.locator('td').last().innerText()).trim();
        assert.notEqual(deadline, '—');
        assert.match(deadline, new RegExp(`${words.left}[\\s\\S]*${words.sla}`));

        await Promise.all([r.page.waitForURL(/\/console\/cases\//), row.locator('a').first().click()]);
        assert.equal(await r.page.locator('#case-status').getAttribute('data-status'), 'PENDING_APPROVAL');
        assert.match(await r.page.locator('#sla').innerText(), new RegExp(`^${words.sla}: .*${words.left}`));
      });
  });
});
