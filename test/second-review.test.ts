// Issue 18, the user's item 1: an upheld or closed case gets one second review, a linked new case decided by a
// senior reviewer who had no part in the first outcome. Over real HTTP, against a real worker and dev server.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { defaultPolicy, quiet } from './helpers/deps';
import { launchBrowser, openPage, signIn } from './helpers/browser';
import { callApi, eventually, recordHistory, startApiHarness, type ApiHarness } from './helpers/harness';
import { EXAMPLES, riskEvent, uniqueAccount } from './helpers/events';
import { requires } from './helpers/requirements';
import { referencesFromCases } from '../api/evidence-sweep';

const BACKEND = 'dev-backend';
const REVIEWER_1 = 'dev-reviewer-1';
const REVIEWER_2 = 'dev-reviewer-2';
const SENIOR = 'dev-senior';
const SENIOR_2 = 'second-senior-token-0002';
const SENIOR_3 = 'third-senior-token-00003';
/** Short enough to see it pass in the test, long enough for a busy machine to ask in time. */
const WINDOW_S = 20;

describe('a second review of an upheld or closed case (issue 18)', function () {
  requires('temporal');
  this.timeout(180_000);
  let env: ApiHarness;
  const call = (method: string, path: string, token: string, body?: unknown) =>
    callApi(env.api.url, method, path, token, body);

  before(async () => {
    const raw = JSON.parse(JSON.stringify(defaultPolicy().policy));
    raw.review.secondReviewWindow = `${WINDOW_S}s`;
    const file = join(mkdtempSync(join(tmpdir(), 'cordon-second-review-')), 'policy.json');
    writeFileSync(file, JSON.stringify(raw));
    env = await startApiHarness(quiet, {
      CORDON_POLICY_FILE: file,
      CORDON_TOKENS: `${SENIOR_2}=senior:senior-2,${SENIOR_3}=senior:senior-3`,
    });
  });
  after(() => env.close());

  /** A case of the account, appealed, claimed by `decider`, decided; approved by `approver` if it must be. */
  async function endedCase(
    example: keyof typeof EXAMPLES,
    decision: 'UPHOLD' | 'CLOSE',
    decider: string,
    approver?: string,
  ) {
    const account = uniqueAccount('second');
    const [type, attributes] = EXAMPLES[example];
    const opened = await call(
      'POST',
      '/v1/risk-events',
      BACKEND,
      riskEvent(account, type, attributes as never),
    );
    assert.equal(opened.status, 200, JSON.stringify(opened.body));
    const caseId = opened.body.caseId as string;
    const appeal = await call('POST', `/v1/cases/${caseId}/appeal`, BACKEND, {
      statement: 'I was abroad and my bank card was with me the whole time',
      evidence: ['ev_first-file'],
      requestId: 'appeal-1',
    });
    assert.equal(appeal.status, 200, JSON.stringify(appeal.body));
    assert.equal((await call('POST', `/v1/cases/${caseId}/claim`, decider)).status, 200);
    const decided = await call('POST', `/v1/cases/${caseId}/decision`, decider, {
      decision,
      rationale: 'the documents do not match the account holder',
      requestId: 'decision-1',
    });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    if (approver) {
      const approved = await call('POST', `/v1/cases/${caseId}/approval`, approver, {
        approve: true,
        rationale: 'agreed',
      });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
    }
    const ended = await eventually(async () => {
      const r = await call('GET', `/v1/cases/${caseId}`, SENIOR);
      return r.body.outcome ? r.body : undefined;
    });
    return { account, caseId, ended };
  }

  const ask = (caseId: string, requestId: string, statement = 'Please look again: I sent my passport') =>
    call('POST', `/v1/cases/${caseId}/second-review`, BACKEND, {
      statement,
      evidence: ['ev_passport'],
      requestId,
    });

  it('an upheld case opens one linked second review in review, with the first statements; repeats answer it (histories-)', async () => {
    const { account, caseId, ended } = await endedCase('identityMismatch', 'UPHOLD', SENIOR);
    assert.equal(ended.outcome, 'UPHELD');
    const until = Date.parse(ended.secondReviewAllowedUntil);
    assert.ok(until > Date.now(), `open until ${ended.secondReviewAllowedUntil}`);
    assert.equal(ended.secondReviewCaseId, undefined);

    const r = await ask(caseId, 'second-1');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const second = r.body;
    assert.notEqual(second.caseId, caseId, 'a new case');
    assert.equal(second.accountId, account);
    assert.equal(second.secondReview, true);
    assert.equal(second.previousCaseId, caseId);
    assert.equal(second.status, 'IN_REVIEW');
    assert.equal(second.tier, ended.tier, "the first case's restriction stands while it is reviewed");
    const carried = second.timeline.find((e: { type: string }) => e.type === 'APPEAL');
    assert.equal(carried?.statement, 'I was abroad and my bank card was with me the whole time');
    assert.deepEqual(carried?.evidence, ['ev_first-file']);
    assert.equal(carried?.fromCaseId, caseId);
    const asked = second.timeline.find((e: { type: string }) => e.type === 'SECOND_REVIEW_REQUESTED');
    assert.equal(asked?.statement, 'Please look again: I sent my passport');
    assert.equal(asked?.actor.kind, 'user');

    // The ended case stays ended and names its second review.
    const first = await call('GET', `/v1/cases/${caseId}`, REVIEWER_1);
    assert.equal(first.body.status, 'UPHELD');
    assert.equal(first.body.secondReviewCaseId, second.caseId);
    assert.equal(first.body.secondReviewAllowedUntil, undefined);

    // The files sent with it are kept under the first case (the user's page knows only that one): the sweep of
    // unreferenced files finds them referenced there.
    const refs = await referencesFromCases(async (id) => (await call('GET', `/v1/cases/${id}`, SENIOR)).body)(
      caseId,
    );
    assert.deepEqual([...(refs ?? [])].sort(), ['ev_first-file', 'ev_passport']);

    // A repeat answers the same case; another request is refused: once per case.
    const again = await ask(caseId, 'second-1');
    assert.equal(again.status, 200);
    assert.equal(again.body.caseId, second.caseId);
    const other = await ask(caseId, 'second-2');
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'SECOND_REVIEW_USED');
    const reused = await ask(caseId, 'second-1', 'another text');
    assert.equal(reused.status, 409);
    assert.equal(reused.body.code, 'IDEMPOTENCY_KEY_REUSED');

    // The account stays restricted under the second review.
    const check = await call('GET', `/v1/accounts/${account}/restriction`, BACKEND);
    assert.equal(check.body.restricted, true);
    assert.equal(check.body.caseId, second.caseId);

    // The queue of second reviews lists it (visibility is eventually consistent); the others do not.
    const listed = await eventually(async () => {
      const q = await call('GET', '/v1/review-queue?secondReview=true', SENIOR);
      return q.body.items.find((i: { caseId: string }) => i.caseId === second.caseId);
    });
    assert.equal(listed.secondReview, true);
    const others = await call('GET', '/v1/review-queue?secondReview=false', SENIOR);
    assert.equal(
      others.body.items.some((i: { caseId: string }) => i.caseId === second.caseId),
      false,
    );

    // Only a senior, and not the first decider: reviewer 1 is no senior; the senior decided the first case.
    const plain = await call('POST', `/v1/cases/${second.caseId}/claim`, REVIEWER_1);
    assert.equal(plain.status, 409);
    assert.equal(plain.body.code, 'SENIOR_REQUIRED');
    const same = await call('POST', `/v1/cases/${second.caseId}/claim`, SENIOR);
    assert.equal(same.status, 409);
    assert.equal(same.body.code, 'SAME_REVIEWER');
    assert.equal((await call('POST', `/v1/cases/${second.caseId}/claim`, SENIOR_2)).status, 200);
    const decided = await call('POST', `/v1/cases/${second.caseId}/decision`, SENIOR_2, {
      decision: 'UNLOCK',
      rationale: 'the passport matches',
      requestId: 'second-decision',
    });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    assert.equal(decided.body.status, 'RESTORED');
    const lifted = await call('GET', `/v1/accounts/${account}/restriction`, BACKEND);
    assert.equal(lifted.body.restricted, false, 'overturned: the account is restored');
    // A second review is final: no third.
    const third = await ask(second.caseId, 'second-3');
    assert.equal(third.status, 409);
    assert.equal(third.body.code, 'SECOND_REVIEW_USED');
    await recordHistory('second-review-overturned', env.h.handle(account));
  });

  it('overturning a closure on second review still takes a second senior, neither of the first case', async () => {
    const { account, caseId, ended } = await endedCase('fraudConfirmed', 'CLOSE', REVIEWER_1, SENIOR);
    assert.equal(ended.outcome, 'CLOSED');
    const r = await ask(caseId, 'close-second');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const second = r.body.caseId as string;
    assert.equal(r.body.tier, 'CLOSE');
    assert.equal((await call('POST', `/v1/cases/${second}/claim`, SENIOR_2)).status, 200);
    const decided = await call('POST', `/v1/cases/${second}/decision`, SENIOR_2, {
      decision: 'UNLOCK',
      rationale: 'the fraud report was withdrawn by the network',
      requestId: 'unlock-1',
    });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    assert.equal(decided.body.status, 'PENDING_APPROVAL');
    const byApprover = await call('POST', `/v1/cases/${second}/approval`, SENIOR, {
      approve: true,
      rationale: 'ok',
    });
    assert.equal(byApprover.status, 409);
    assert.equal(byApprover.body.code, 'SAME_REVIEWER', 'the first closure was approved by this senior');
    const byPlain = await call('POST', `/v1/cases/${second}/approval`, REVIEWER_2, {
      approve: true,
      rationale: 'ok',
    });
    assert.equal(byPlain.status, 409);
    assert.equal(byPlain.body.code, 'SENIOR_REQUIRED');
    const approved = await call('POST', `/v1/cases/${second}/approval`, SENIOR_3, {
      approve: true,
      rationale: 'agreed',
    });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'RESTORED');
    const check = await call('GET', `/v1/accounts/${account}/restriction`, BACKEND);
    assert.equal(check.body.restricted, false);
  });

  it('is refused for a restored case, for an open one, and once its window has passed, changing nothing', async () => {
    // Restored: nothing to review again.
    const account = uniqueAccount('second');
    const [type, attributes] = EXAMPLES.impossibleTravel;
    const opened = await call(
      'POST',
      '/v1/risk-events',
      BACKEND,
      riskEvent(account, type, attributes as never),
    );
    const open = await ask(opened.body.caseId, 'open-1');
    assert.equal(open.status, 409);
    assert.equal(open.body.code, 'CASE_OPEN');
    const verified = await call('POST', `/v1/cases/${opened.body.caseId}/verification`, BACKEND, {
      method: 'OTP',
      passed: true,
      requestId: 'v1',
    });
    assert.equal(verified.body.status, 'RESTORED');
    const restored = await ask(opened.body.caseId, 'restored-1');
    assert.equal(restored.status, 409);
    assert.equal(restored.body.code, 'SECOND_REVIEW_NOT_AVAILABLE');

    // The window: the test waits until the time the case itself names, then asks.
    const { caseId, ended } = await endedCase('sixFailedLogins', 'UPHOLD', REVIEWER_2);
    const until = Date.parse(ended.secondReviewAllowedUntil);
    await new Promise((resolve) => setTimeout(resolve, Math.max(until - Date.now() + 50, 0)));
    const late = await ask(caseId, 'late-1');
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'SECOND_REVIEW_WINDOW_PASSED');
    const after = await call('GET', `/v1/cases/${caseId}`, REVIEWER_1);
    assert.equal(after.body.secondReviewCaseId, undefined, 'no case was opened');
    assert.equal(after.body.status, 'UPHELD');
  });

  describe('in the console (headless Chromium)', function () {
    requires('chromium');
    let browser: Browser;
    before(async () => {
      browser = await launchBrowser();
    });
    after(async () => browser?.close());

    for (const [locale, words] of [
      ['en-US', { badge: 'Second review', of: 'Second review of' }],
      ['zh-CN', { badge: '复核', of: '复核的原案件' }],
    ] as const) {
      it(`the queue filters second reviews and the two cases link each other (${locale})`, async () => {
        const { caseId } = await endedCase('identityMismatch', 'UPHOLD', REVIEWER_1);
        const second = (await ask(caseId, `console-${locale}`)).body.caseId as string;
        await eventually(async () => {
          const q = await call('GET', '/v1/review-queue?secondReview=true', SENIOR);
          return q.body.items.some((i: { caseId: string }) => i.caseId === second) || undefined;
        });
        const r = await openPage(browser, env.api.url, locale);
        try {
          await signIn(r.page, SENIOR_2, '/console/queue?secondReview=yes');
          const row = r.page.locator(`tr[data-case-id="${second}"]`);
          await row.waitFor();
          assert.match(await row.innerText(), new RegExp(words.badge));
          // The filter keeps out the first review's cases: the ended case is not in any queue, an open one is.
          const rows = await r.page
            .locator('tr[data-case-id]')
            .evaluateAll((trs) => trs.map((tr) => tr.textContent ?? ''));
          assert.ok(rows.length >= 1 && rows.every((text) => text.includes(words.badge)), rows.join('\n'));
          await r.page.goto(`/console/cases/${encodeURIComponent(second)}`);
          const of = r.page.locator('#second-review-of');
          assert.match(await of.innerText(), new RegExp(caseId.replace('.', '\\.')));
          assert.ok((await r.page.content()).includes(words.of));
          await of.locator('a').click();
          await r.page.locator('#second-review-case').waitFor();
          assert.match(
            await r.page.locator('#second-review-case').innerText(),
            new RegExp(second.replace('.', '\\.')),
          );
        } finally {
          await r.context.close();
        }
        // A plain reviewer is told who decides it instead of a claim button that always fails.
        const plain = await openPage(browser, env.api.url, locale);
        try {
          await signIn(plain.page, REVIEWER_2, `/console/cases/${encodeURIComponent(second)}`);
          await plain.page.locator('#second-review-seniors').waitFor();
          assert.equal(await plain.page.locator('button[data-action="claim"]').count(), 0);
        } finally {
          await plain.context.close();
        }
      });
    }
  });
});
