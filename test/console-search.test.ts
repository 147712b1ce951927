// Finding cases (issue 18, the reviewer's side, item 3): a search by exact case or account ID (open cases from
// Temporal's visibility, ended ones from the archive), the ended cases with filters and pages, and on a case page
// the account's earlier cases with their outcomes. Over real HTTP against the real API and a worker on the dev
// server, and in a real headless Chromium in English and Chinese.
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPage, signIn, type ReviewerPage } from './helpers/browser';
import { EXAMPLES, riskEvent, uniqueAccount } from './helpers/events';
import { callApi, eventually, startApiHarness, type ApiHarness } from './helpers/harness';
import { requires } from './helpers/requirements';

describe('finding cases: search, ended cases, account history', function () {
  requires('temporal');
  this.timeout(120_000);
  let running: ApiHarness | undefined;
  let url: string;
  const api = (method: 'GET' | 'POST', path: string, token: string, body?: unknown) =>
    callApi(url, method, path, token, body);

  /** The account's two cases: the first upheld by a reviewer (ended, archived), the second open in review. */
  const account = uniqueAccount('search');
  /** Another account whose case a reviewer unlocked (ended RESTORED), for the filters. */
  const other = uniqueAccount('search-other');
  let upheld: string;
  let open: string;
  let restored: string;
  /** Just before the first case opened, and just after the last one ended. */
  let startedAt: string;
  let endedBy: string;

  async function appealed(accountId: string, example: keyof typeof EXAMPLES): Promise<string> {
    const [type, attributes] = EXAMPLES[example];
    const reported = await api(
      'POST',
      '/v1/risk-events',
      'dev-backend',
      riskEvent(accountId, type, attributes as never),
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

  async function decided(caseId: string, decision: 'UPHOLD' | 'UNLOCK'): Promise<void> {
    assert.equal((await api('POST', `/v1/cases/${caseId}/claim`, 'dev-reviewer-1')).status, 200);
    const r = await api('POST', `/v1/cases/${caseId}/decision`, 'dev-reviewer-1', {
      decision,
      rationale: 'Checked against the records.',
      requestId: `decide-${caseId}`,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, decision === 'UPHOLD' ? 'UPHELD' : 'RESTORED');
  }

  const ended = async (query: string) => {
    const r = await api('GET', `/v1/ended-cases?${query}`, 'dev-reviewer-1');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { items: { caseId: string; outcome: string }[]; next: string | null };
  };
  const search = async (q: string, token = 'dev-reviewer-1') =>
    api('GET', `/v1/cases?q=${encodeURIComponent(q)}`, token);

  before(async function () {
    this.timeout(300_000);
    running = await startApiHarness();
    url = running.api.url;
    startedAt = new Date(Date.now() - 1_000).toISOString();
    upheld = await appealed(account, 'identityMismatch');
    await decided(upheld, 'UPHOLD');
    // The ended case is archived when its workflow completes; the account's next event opens a new case.
    await eventually(async () => (await running!.h.store.archive.find(upheld)) !== null, 30_000, 'archived');
    open = await appealed(account, 'identityMismatch');
    assert.notEqual(open, upheld);
    restored = await appealed(other, 'multiLender');
    await decided(restored, 'UNLOCK');
    await eventually(
      async () => (await running!.h.store.archive.find(restored)) !== null,
      30_000,
      'archived',
    );
    endedBy = new Date(Date.now() + 1_000).toISOString();
    // Visibility lags its case by a moment: the open case (in review) is listed once the queue lists it.
    await eventually(
      async () =>
        (await api('GET', '/v1/review-queue?limit=500', 'dev-reviewer-1')).body.items.some(
          (i: { caseId: string }) => i.caseId === open,
        ),
      20_000,
      'the open case in visibility',
    );
  });

  after(async () => {
    await running?.close();
  });

  describe('over HTTP', () => {
    it('finds an ended case by its ID from the archive, and an open one from visibility', async () => {
      const e = await search(upheld);
      assert.equal(e.status, 200, JSON.stringify(e.body));
      assert.deepEqual(
        e.body.items.map((i: any) => [i.caseId, i.accountId, i.open, i.status, i.outcome]),
        [[upheld, account, false, 'UPHELD', 'UPHELD']],
      );
      assert.deepEqual(e.body.items[0].reasonCodes, ['IDENTITY_MISMATCH']);
      assert.ok(Date.parse(e.body.items[0].endedAt) >= Date.parse(startedAt), 'ended after the test began');
      assert.ok(Date.parse(e.body.items[0].openedAt) >= Date.parse(startedAt));

      const o = await search(open);
      assert.deepEqual(
        o.body.items.map((i: any) => [i.caseId, i.open, i.status, i.outcome, i.endedAt]),
        [[open, true, 'IN_REVIEW', null, null]],
      );
      assert.deepEqual((await search(`${account}.0123456789ab`)).body.items, [], 'no such case');
    });

    it("finds an account's open case and its ended ones by the account ID, and nothing of another account", async () => {
      const r = await search(account);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(
        r.body.items.map((i: any) => [i.caseId, i.open]),
        [
          [open, true],
          [upheld, false],
        ],
      );
      assert.deepEqual((await search(uniqueAccount('nobody'))).body.items, []);
    });

    it('refuses what is neither a case ID nor an account ID (400), and roles that may not search (403)', async () => {
      for (const q of ['', 'acct.123', 'a b', `${account}*`, 'x'.repeat(65)]) {
        const r = await search(q);
        assert.equal(r.status, 400, `${q}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.code, 'VALIDATION_FAILED');
        assert.equal(r.body.errors[0].path, 'query.q');
      }
      for (const token of ['dev-backend', 'dev-analyst']) {
        assert.equal((await search(account, token)).status, 403, token);
        assert.equal((await api('GET', '/v1/ended-cases', token)).status, 403, token);
      }
    });

    it('lists ended cases newest first, filtered by outcome, reason, account and end time', async () => {
      const ids = (page: { items: { caseId: string }[] }) => page.items.map((i) => i.caseId);
      assert.deepEqual(ids(await ended('')), [restored, upheld], 'newest first');
      assert.deepEqual(ids(await ended('outcome=UPHELD')), [upheld]);
      assert.deepEqual(ids(await ended('outcome=RESTORED')), [restored]);
      assert.deepEqual(ids(await ended('outcome=CLOSED')), []);
      assert.deepEqual(ids(await ended('reason=IDENTITY_MISMATCH')), [upheld]);
      assert.deepEqual(ids(await ended('reason=MULTI_LENDER_BORROWING')), [restored]);
      assert.deepEqual(ids(await ended('outcome=UPHELD&reason=MULTI_LENDER_BORROWING')), []);
      assert.deepEqual(ids(await ended(`accountId=${other}`)), [restored]);
      assert.deepEqual(ids(await ended(`from=${startedAt}&to=${endedBy}`)), [restored, upheld]);
      assert.deepEqual(ids(await ended(`from=${endedBy}`)), [], 'nothing ended after');
      assert.deepEqual(ids(await ended(`to=${startedAt}`)), [], 'nothing ended before');
      const refused = await api('GET', `/v1/ended-cases?from=${endedBy}&to=${startedAt}`, 'dev-reviewer-1');
      assert.equal(refused.status, 400);
      assert.equal(refused.body.errors[0].path, 'query.from');
      assert.equal((await api('GET', '/v1/ended-cases?outcome=IN_REVIEW', 'dev-reviewer-1')).status, 400);
    });

    it('pages with a cursor: each case once, and no next page after the last', async () => {
      const first = await ended('limit=1');
      assert.deepEqual(
        first.items.map((i) => i.caseId),
        [restored],
      );
      assert.ok(first.next, 'a next page');
      const second = await ended(`limit=1&after=${encodeURIComponent(first.next)}`);
      assert.deepEqual(
        second.items.map((i) => i.caseId),
        [upheld],
      );
      assert.equal(second.next, null, 'the last page says so');
      assert.equal((await api('GET', '/v1/ended-cases?after=nonsense', 'dev-reviewer-1')).status, 400);
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
    const rowOf = (p: ReviewerPage, table: string, caseId: string) =>
      p.page.locator(`#${table} tr[data-case-id="${caseId}"]`);

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

    for (const [locale, words] of [
      [
        'en-US',
        { title: 'Find a case', open: 'open', ended: 'ended', upheld: 'Upheld', none: 'No case matches' },
      ],
      ['zh-CN', { title: '查找案件', open: '进行中', ended: '已结束', upheld: '维持原判', none: '没有与' }],
    ] as const)
      it(`${locale}: searches by case ID and by account ID from the bar on every page`, async () => {
        const r = await openFor(locale);
        await signIn(r.page, 'dev-reviewer-2');
        const searchFor = async (q: string) => {
          await r.page.locator('nav.tools input[name=q]').fill(q);
          await Promise.all([
            r.page.waitForURL(/\/console\/search\?q=/),
            r.page.locator('nav.tools form.search button').click(),
          ]);
          await r.page.locator('h1', { hasText: words.title }).waitFor();
        };

        await searchFor(upheld);
        assert.equal(await r.page.locator('#found tr[data-case-id]').count(), 1);
        const row = rowOf(r, 'found', upheld);
        assert.equal(await row.getAttribute('data-open'), 'false');
        assert.match(await row.innerText(), new RegExp(`${words.ended}[\\s\\S]*${words.upheld}`));

        await searchFor(account);
        assert.equal(await rowOf(r, 'found', open).getAttribute('data-open'), 'true');
        assert.match(await rowOf(r, 'found', open).innerText(), new RegExp(words.open));
        assert.equal(await rowOf(r, 'found', upheld).getAttribute('data-outcome'), 'UPHELD');
        assert.equal(await r.page.locator('#found tr[data-case-id]').count(), 2);

        // From a result to its case.
        await Promise.all([
          r.page.waitForURL(new RegExp(`/console/cases/${open.replace('.', '\\.')}$`)),
          rowOf(r, 'found', open).locator('a').click(),
        ]);

        // The queue's address with ?q= lands on the same search.
        await r.page.goto(`/console/queue?q=${encodeURIComponent(open)}`);
        assert.match(r.page.url(), /\/console\/search\?q=/);
        assert.equal(await rowOf(r, 'found', open).count(), 1);

        await searchFor(uniqueAccount('nobody'));
        assert.match(await r.page.locator('#search-results').innerText(), new RegExp(words.none));
        // A malformed ID is shown in place with what was typed, never a bare error.
        const bad = 'not an id';
        await r.page.goto(`/console/search?q=${encodeURIComponent(bad)}`);
        assert.equal(await r.page.locator('#search-form input[name=q]').inputValue(), bad);
        assert.equal(await r.page.locator('.alert.error').getAttribute('data-code'), 'VALIDATION_FAILED');
      });

    for (const [locale, words] of [
      ['en-US', { heading: 'Ended cases', none: 'No ended case matches' }],
      ['zh-CN', { heading: '已结束案件', none: '没有符合筛选条件的已结束案件' }],
    ] as const)
      it(`${locale}: the ended cases filter by outcome, reason and end date`, async () => {
        const r = await openFor(locale);
        await signIn(r.page, 'dev-reviewer-1');
        await Promise.all([
          r.page.waitForURL(/\/console\/ended$/),
          r.page.locator('nav.tools a[href="/console/ended"]').click(),
        ]);
        await r.page.locator('h1', { hasText: words.heading }).waitFor();
        assert.equal(await rowOf(r, 'ended-cases', upheld).count(), 1);
        assert.equal(await rowOf(r, 'ended-cases', restored).count(), 1);
        assert.equal(await rowOf(r, 'ended-cases', open).count(), 0, 'an open case is not ended');

        const filters = r.page.locator('#ended-filters');
        await filters.locator('select[name=outcome]').selectOption('UPHELD');
        await Promise.all([r.page.waitForURL(/outcome=UPHELD/), filters.locator('button').click()]);
        assert.equal(await rowOf(r, 'ended-cases', upheld).count(), 1);
        assert.equal(await rowOf(r, 'ended-cases', restored).count(), 0);

        await filters.locator('select[name=outcome]').selectOption('');
        await filters.locator('select[name=reason]').selectOption('MULTI_LENDER_BORROWING');
        await Promise.all([
          r.page.waitForURL(/reason=MULTI_LENDER_BORROWING/),
          filters.locator('button').click(),
        ]);
        assert.equal(await rowOf(r, 'ended-cases', restored).count(), 1);
        assert.equal(await rowOf(r, 'ended-cases', upheld).count(), 0);

        // Ended from tomorrow (UTC): nothing; up to today: both.
        const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
        await filters.locator('select[name=reason]').selectOption('');
        await filters.locator('input[name=from]').fill(day(1));
        await Promise.all([r.page.waitForURL(/from=/), filters.locator('button').click()]);
        assert.match(await r.page.locator('#ended').innerText(), new RegExp(words.none));
        await filters.locator('input[name=from]').fill(day(-1));
        await filters.locator('input[name=to]').fill(day(0));
        await Promise.all([r.page.waitForURL(/to=/), filters.locator('button').click()]);
        assert.equal(await rowOf(r, 'ended-cases', upheld).count(), 1);
        assert.equal(await rowOf(r, 'ended-cases', restored).count(), 1);
      });

    for (const [locale, words] of [
      ['en-US', { heading: "The account's other cases", upheld: 'Upheld' }],
      ['zh-CN', { heading: '该账户的其他案件', upheld: '维持原判' }],
    ] as const)
      it(`${locale}: a case page lists the account's earlier case with its outcome`, async () => {
        const r = await openFor(locale);
        await signIn(r.page, 'dev-reviewer-1', `/console/cases/${open}`);
        const history = r.page.locator('#account-history');
        await history.locator('h2', { hasText: words.heading }).waitFor();
        const row = rowOf(r, 'history', upheld);
        assert.equal(await row.count(), 1);
        assert.equal(await row.getAttribute('data-outcome'), 'UPHELD');
        assert.match(await row.innerText(), new RegExp(words.upheld));
        assert.equal(await rowOf(r, 'history', open).count(), 0, 'not the case itself');
        assert.equal(await rowOf(r, 'history', restored).count(), 0, "not another account's");

        // The ended case's own page lists none (the account's only other case is open).
        await r.page.goto(`/console/cases/${upheld}`);
        assert.equal(await r.page.locator('#account-history tr[data-case-id]').count(), 0);
      });
  });
});
