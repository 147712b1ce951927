// Issue 18, the reviewer's side, item 1: the evidence each reason rests on. Over real HTTP against the real API,
// a worker on the Temporal dev server and a data source answering over HTTP (another one down), on SQLite and on
// PostgreSQL: a case's view lists, per reason, the risk events that gave it with their attributes, the rules
// that fired with the fields each read, and the sources' answers; personal values are masked for the backend's
// role; a retried event is kept once, sealed; an event with nothing kept says so; erasure and the retention
// remove what was kept. The console shows it under each reason, in English and Chinese, in headless Chromium.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { parseCodecKeys } from '../infra/codec';
import { openStore, type Store } from '../infra/store';
import { freePort } from '../scripts/dev-server';
import { launchBrowser, openPage, signIn, type ReviewerPage } from './helpers/browser';
import { defaultPolicy } from './helpers/deps';
import { ADMIN_ONE, approve, requestErasure, TOKENS } from './helpers/erasure-env';
import { riskEvent, uniqueAccount } from './helpers/events';
import { eventually } from './helpers/harness';
import { BACKEND, call, REVIEWER, startOn, type Running } from './helpers/personal-case';
import { startPostgres, type TestPostgres } from './helpers/postgres';
import { requires } from './helpers/requirements';
import { TEST_CODEC_KEYS } from './helpers/servers';

const SENIOR = { authorization: 'Bearer dev-senior' };
const M = { masked: true };
/** What the bureau answers about every account; the policy reads its lendersLast30d. */
const BUREAU = { lendersLast30d: 6, inquiries: 11 };
const BORROW = { amount: 9500, requestsLast24h: 6, creditLimit: 10000 };

/** The default policy and one rule reading a data source's signal. */
function policyFile(dir: string): string {
  const raw = JSON.parse(JSON.stringify(defaultPolicy().policy));
  raw.version = 'test-evidence';
  raw.rules.push({
    id: 'bureau-many-lenders',
    eventType: 'BORROW_REQUEST',
    reason: 'MULTI_LENDER_BORROWING',
    when: [{ field: 'source.bureau.lendersLast30d', op: 'gte', value: 5 }],
    weight: 55,
  });
  const file = join(dir, 'policy.json');
  writeFileSync(file, JSON.stringify(raw));
  return file;
}

/** A data source over HTTP, as CORDON_DATA_SOURCES reaches one. */
async function bureau(): Promise<Server & { url: string }> {
  const server = createServer((req, res) => {
    req.resume().on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(BUREAU));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(server, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
}

function suite(dialect: 'sqlite' | 'postgres') {
  describe(`${dialect}: what each reason rests on`, function () {
    if (dialect === 'postgres') requires('temporal', 'postgres');
    else requires('temporal');
    this.timeout(180_000);
    let pg: TestPostgres | undefined;
    let source: Server & { url: string };
    let dataDir: string;
    let store: Store;
    let r: Running;
    let base: string;
    /** Account A's case: a borrowing request (three reasons' rules, both sources), then an identity check. */
    let a: { accountId: string; caseId: string; borrow: ReturnType<typeof riskEvent>; id: string };

    const post = (event: unknown) => call(base, 'POST', '/v1/risk-events', BACKEND, event);
    const view = async (caseId: string, who = REVIEWER) => {
      const got = await call(base, 'GET', `/v1/cases/${caseId}`, who);
      assert.equal(got.status, 200, got.text);
      return got.json;
    };
    const rows = (accountId: string) =>
      store.db.query<{ event_id: string; case_id: string; evidence: string }>(
        'SELECT event_id, case_id, evidence FROM event_evidence WHERE account_id = ? ORDER BY event_id',
        [accountId],
      );
    /** An ended case: opened by an identity check, lifted at once by a senior (break glass), archived. */
    const endedCase = async () => {
      const opened = await post(riskEvent(uniqueAccount('ev-end'), 'IDENTITY_CHECK', { matched: false }));
      assert.equal(opened.status, 200, opened.text);
      const caseId = opened.json.caseId as string;
      const lifted = await call(base, 'POST', `/v1/cases/${caseId}/break-glass`, SENIOR, {
        action: 'LIFT',
        rationale: 'Verified in branch.',
        requestId: `bg-${randomUUID()}`,
      });
      assert.equal(lifted.status, 200, lifted.text);
      const accountId = opened.json.accountId as string;
      await eventually(async () => (await store.archive.find(caseId)) !== null, 30_000, 'archived');
      await eventually(
        async () => (await store.restrictions.of([accountId]))[0]?.open === false,
        30_000,
        'the account has no open case',
      );
      return { caseId, accountId, eventId: opened.json.eventId as string };
    };

    before(async function () {
      this.timeout(300_000);
      dataDir = mkdtempSync(join(tmpdir(), `cordon-evidence-${dialect}-`));
      pg = dialect === 'postgres' ? await startPostgres() : undefined;
      store = await openStore({
        url: pg?.url,
        sqliteFile: join(dataDir, 'cordon.sqlite'),
        codecKeys: parseCodecKeys(TEST_CODEC_KEYS),
      });
      source = await bureau();
      r = await startOn(store, dataDir, {
        env: {
          CORDON_POLICY_FILE: policyFile(dataDir),
          // The device source listens nowhere: it is unavailable, and the decision says so.
          CORDON_DATA_SOURCES: JSON.stringify([
            { name: 'bureau', url: source.url },
            { name: 'device', url: `http://127.0.0.1:${await freePort()}/` },
          ]),
          CORDON_TOKENS: TOKENS,
          CORDON_ERASURE_MIN_HOLD_DAYS: '0',
        },
      });
      base = r.api.url;
      const accountId = uniqueAccount('ev-a');
      const borrow = riskEvent(accountId, 'BORROW_REQUEST', BORROW);
      const opened = await post(borrow);
      assert.equal(opened.status, 200, opened.text);
      assert.equal(opened.json.decision.tier, 'FREEZE', opened.text);
      const id = riskEvent(accountId, 'IDENTITY_CHECK', { matched: false, field: 'name' });
      const added = await post(id);
      assert.equal(added.json.caseId, opened.json.caseId, added.text);
      a = { accountId, caseId: opened.json.caseId, borrow, id: id.eventId };
    });

    after(async () => {
      await r?.close();
      await store?.db.close();
      await new Promise((done) => source?.close(done));
      await pg?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("a reviewer reads, per reason, each event's attributes, the fields its rules read and the sources' answers", async () => {
      const v = await view(a.caseId);
      assert.deepEqual(Object.keys(v.evidence).sort(), v.reasons.map((x: { code: string }) => x.code).sort());
      const event = {
        eventId: a.borrow.eventId,
        eventType: 'BORROW_REQUEST',
        occurredAt: a.borrow.occurredAt,
        recorded: true,
        retracted: false,
        attributes: BORROW,
        sources: [
          { name: 'bureau', answer: BUREAU },
          { name: 'device', unavailable: true },
        ],
      };
      assert.deepEqual(v.evidence.ABNORMAL_BORROWING_PATTERN, [
        {
          ...event,
          rules: [
            { ruleId: 'borrow-burst', fields: { requestsLast24h: 6 } },
            { ruleId: 'borrow-near-limit', fields: { amount: 9500, creditLimit: 10000 } },
          ],
        },
      ]);
      assert.deepEqual(v.evidence.MULTI_LENDER_BORROWING, [
        {
          ...event,
          rules: [{ ruleId: 'bureau-many-lenders', fields: { 'source.bureau.lendersLast30d': 6 } }],
        },
      ]);
      // The second event gave a reason of its own, and only that one.
      const [identity] = v.evidence.IDENTITY_MISMATCH;
      assert.equal(v.evidence.IDENTITY_MISMATCH.length, 1);
      assert.equal(identity.eventId, a.id);
      assert.deepEqual(identity.attributes, { matched: false, field: 'name' });
      assert.deepEqual(identity.rules, [{ ruleId: 'identity-mismatch', fields: { matched: false } }]);
      // A senior reads the same; the OpenAPI document describes it.
      assert.deepEqual((await view(a.caseId, SENIOR)).evidence, v.evidence);
      const doc = (await (await fetch(`${base}/openapi.json`)).json()) as any;
      const described = doc.components.schemas.Case.properties.evidence;
      assert.match(described.description, /per reason code/);
      const listed = described.additionalProperties.items.oneOf ?? described.additionalProperties.items.anyOf;
      assert.deepEqual(listed.map((o: any) => o.properties.recorded.const).sort(), [false, true]);
    });

    it("the backend's role sees which attributes and answers there were, personal values masked", async () => {
      const got = await call(base, 'GET', `/v1/cases/${a.caseId}`, BACKEND);
      assert.equal(got.status, 200, got.text);
      const [borrow] = got.json.evidence.ABNORMAL_BORROWING_PATTERN;
      assert.deepEqual(borrow.attributes, { amount: M, requestsLast24h: M, creditLimit: M });
      assert.deepEqual(borrow.rules, [
        { ruleId: 'borrow-burst', fields: { requestsLast24h: M } },
        { ruleId: 'borrow-near-limit', fields: { amount: M, creditLimit: M } },
      ]);
      assert.deepEqual(borrow.sources, [
        { name: 'bureau', answer: { lendersLast30d: M, inquiries: M } },
        { name: 'device', unavailable: true },
      ]);
      assert.equal(borrow.eventId, a.borrow.eventId);
      assert.equal(borrow.occurredAt, a.borrow.occurredAt);
      // Which identity field was checked is a name of the platform's, not a fact about the person.
      assert.deepEqual(got.json.evidence.IDENTITY_MISMATCH[0].attributes, { matched: M, field: 'name' });
      const shown = JSON.stringify(got.json.evidence);
      for (const secret of ['9500', '10000', '"inquiries":11'])
        assert.ok(!shown.includes(secret), `${secret} is not shown to the backend`);
    });

    it("a staff member's opening rests on what they wrote: the tier and reason read, the rationale personal", async () => {
      const rationale = `Seen in a manual audit ${randomUUID()}`;
      const opened = await call(base, 'POST', '/v1/cases', REVIEWER, {
        accountId: uniqueAccount('ev-staff'),
        tier: 'LIMIT',
        reason: 'ABNORMAL_FUND_FLOWS',
        rationale,
        requestId: `open-${randomUUID()}`,
      });
      assert.equal(opened.status, 200, opened.text);
      const [reviewer] = (await view(opened.json.caseId)).evidence.ABNORMAL_FUND_FLOWS;
      assert.equal(reviewer.eventType, 'STAFF_REPORT');
      assert.deepEqual(reviewer.attributes, { tier: 'LIMIT', reason: 'ABNORMAL_FUND_FLOWS', rationale });
      assert.deepEqual(reviewer.rules, [
        { ruleId: 'staff-report', fields: { tier: 'LIMIT', reason: 'ABNORMAL_FUND_FLOWS' } },
      ]);
      assert.deepEqual(reviewer.sources, [], "no data source is asked about a person's decision");
      const [backend] = (await view(opened.json.caseId, BACKEND)).evidence.ABNORMAL_FUND_FLOWS;
      assert.deepEqual(backend.attributes, { tier: 'LIMIT', reason: 'ABNORMAL_FUND_FLOWS', rationale: M });
    });

    it('is kept once per event, sealed: a retried event, even sent several times at once, writes no second record', async () => {
      const before = await rows(a.accountId);
      assert.deepEqual(before.map((x) => x.event_id).sort(), [a.borrow.eventId, a.id].sort());
      for (const row of before) {
        assert.ok(row.evidence.startsWith('cdk1:'), 'sealed under the account key');
        for (const plain of ['9500', 'amount', 'bureau', 'lendersLast30d'])
          assert.ok(!row.evidence.includes(plain), `no ${plain} in plaintext`);
      }
      const again = await post(a.borrow);
      assert.equal(again.json.duplicate, true, again.text);
      assert.deepEqual(await rows(a.accountId), before, 'the same rows, the same sealed bytes');
      // The first answer lost after the evidence was kept (the process died before recording the answer): the
      // retry goes the whole way again, the case answers it as a repeat, and the first record stays as it was.
      await store.db.run('DELETE FROM event_ids WHERE account_id = ? AND event_id = ?', [
        a.accountId,
        a.borrow.eventId,
      ]);
      const retried = await post(a.borrow);
      assert.equal(retried.status, 200, retried.text);
      assert.equal(retried.json.duplicate, true, 'the case knew the event');
      assert.deepEqual(await rows(a.accountId), before, 'not written again');

      const accountId = uniqueAccount('ev-burst');
      const event = riskEvent(accountId, 'BORROW_REQUEST', BORROW);
      const answers = await Promise.all([1, 2, 3, 4].map(() => post(event)));
      for (const x of answers) assert.equal(x.status, 200, x.text);
      assert.equal(new Set(answers.map((x) => x.json.caseId)).size, 1);
      const kept = await rows(accountId);
      assert.equal(kept.length, 1, 'one record for the event');
      assert.equal(kept[0]!.case_id, answers[0]!.json.caseId);
    });

    it('an event with nothing kept (answered before this release) is listed as not recorded, never a 500', async () => {
      const accountId = uniqueAccount('ev-old');
      const event = riskEvent(accountId, 'IDENTITY_CHECK', { matched: false, field: 'birthDate' });
      const opened = await post(event);
      assert.equal(opened.status, 200, opened.text);
      // As an event answered by 0.4 left it: no record at all.
      await store.db.run('DELETE FROM event_evidence WHERE account_id = ?', [accountId]);
      for (const who of [REVIEWER, BACKEND])
        assert.deepEqual((await view(opened.json.caseId, who)).evidence, {
          IDENTITY_MISMATCH: [
            {
              eventId: event.eventId,
              eventType: 'IDENTITY_CHECK',
              occurredAt: null,
              recorded: false,
              retracted: false,
            },
          ],
        });
    });

    it("an account's erasure removes what its events brought", async () => {
      const ended = await endedCase();
      assert.equal((await rows(ended.accountId)).length, 1);
      assert.equal((await view(ended.caseId)).evidence.IDENTITY_MISMATCH[0].recorded, true);
      const requested = await requestErasure(base, ended.accountId);
      assert.equal(requested.status, 202, requested.text);
      const erasureId = requested.json.erasureId as string;
      assert.equal((await approve(base, erasureId)).status, 202);
      const record = await eventually(
        async () => {
          const got = await call(base, 'GET', `/v1/erasures/${erasureId}`, ADMIN_ONE);
          assert.notEqual(got.json.status, 'FAILED', got.text);
          return got.json.status === 'DONE' && got.json;
        },
        150_000,
        'the erasure done',
      );
      assert.equal(record.counts.eventEvidence, 1, JSON.stringify(record.counts));
      assert.deepEqual(await rows(ended.accountId), []);
      const after = await view(ended.caseId);
      assert.equal(after.erased.erasureId, erasureId);
      assert.deepEqual(after.evidence.IDENTITY_MISMATCH, [
        {
          eventId: ended.eventId,
          eventType: 'IDENTITY_CHECK',
          occurredAt: null,
          recorded: false,
          retracted: false,
        },
      ]);
      assert.equal((await rows(a.accountId)).length, 2, "another account's records stay");
    });

    it("the retention removes a case's evidence with its archived view, and nothing else", async () => {
      const ended = await endedCase();
      assert.equal((await rows(ended.accountId)).length, 1);
      await store.db.run('UPDATE case_archive SET expires_at = ? WHERE case_id = ?', [
        Date.now() - 1,
        ended.caseId,
      ]);
      await store.purge(7 * 24 * 3_600_000);
      assert.equal(await store.archive.find(ended.caseId), null, 'the archived view is gone');
      assert.deepEqual(await rows(ended.accountId), [], 'and what its events brought');
      assert.equal((await rows(a.accountId)).length, 2, 'an open case keeps its records');
    });

    if (dialect === 'sqlite')
      describe('on the console case page, in Chromium', function () {
        requires('chromium');
        let browser: Browser;
        const pages: ReviewerPage[] = [];
        const open = async (locale: string, caseId: string) => {
          const p = await openPage(browser, base, locale);
          p.page.setDefaultTimeout(10_000);
          pages.push(p);
          await signIn(p.page, 'dev-reviewer-1', `/console/cases/${encodeURIComponent(caseId)}`);
          return p;
        };

        before(async () => {
          browser = await launchBrowser();
        });
        afterEach(async function () {
          for (const p of pages.splice(0)) {
            // Awaited: a close left running rejects once the browser is gone.
            await p.context.close();
            if (this.currentTest?.state === 'passed')
              assert.deepEqual(p.problems, [], 'no page or CSP errors');
          }
        });
        after(() => browser?.close());

        for (const [locale, words] of [
          [
            'en-US',
            { title: 'What it rests on', unavailable: 'unavailable', read: 'Rule borrow-near-limit read' },
          ],
          ['zh-CN', { title: '判定依据', unavailable: '不可用', read: '规则 borrow-near-limit 读取了' }],
        ] as const)
          it(`${locale}: under each reason, its events, the attributes its rules read highlighted, the sources' answers`, async () => {
            const { page } = await open(locale, a.caseId);
            const borrow = page.locator('div.evidence[data-evidence-for="ABNORMAL_BORROWING_PATTERN"]');
            assert.match(await borrow.innerText(), new RegExp(words.title));
            const event = borrow.locator(`.evidence-event[data-event-id="${a.borrow.eventId}"]`);
            assert.match(await event.innerText(), /BORROW_REQUEST/);
            // Read by this reason's rules: highlighted; numbers as the reviewer's language writes them.
            assert.equal(await event.locator('mark[data-attribute="amount"]').innerText(), 'amount: 9,500');
            assert.equal(
              await event.locator('mark[data-attribute="requestsLast24h"]').innerText(),
              'requestsLast24h: 6',
            );
            const rule = await event.locator('[data-rule="borrow-near-limit"]').innerText();
            assert.match(rule, new RegExp(`${words.read}.*amount: 9,500.*creditLimit: 10,000`));
            assert.match(
              await event.locator('[data-source="bureau"]').innerText(),
              /lendersLast30d: 6.*inquiries: 11/,
            );
            assert.match(
              await event.locator('[data-source="device"]').innerText(),
              new RegExp(words.unavailable),
            );
            // Under the bureau's reason, the bureau's signal is what was read, not the amount.
            const lenders = page.locator('div.evidence[data-evidence-for="MULTI_LENDER_BORROWING"]');
            assert.equal(
              await lenders.locator('mark[data-signal="lendersLast30d"]').innerText(),
              'lendersLast30d: 6',
            );
            assert.equal(
              await lenders.locator('span[data-signal="inquiries"]').count(),
              1,
              'not read: plain',
            );
            assert.equal(await lenders.locator('mark[data-attribute]').count(), 0, 'no attribute read');
            const identity = page.locator('div.evidence[data-evidence-for="IDENTITY_MISMATCH"]');
            assert.equal(
              await identity.locator('mark[data-attribute="matched"]').innerText(),
              'matched: false',
            );
            assert.equal(await identity.locator('span[data-attribute="field"]').innerText(), 'field: name');
          });

        it('an event with nothing kept says so on the page', async () => {
          const accountId = uniqueAccount('ev-page');
          const opened = await post(riskEvent(accountId, 'IDENTITY_CHECK', { matched: false }));
          await store.db.run('DELETE FROM event_evidence WHERE account_id = ?', [accountId]);
          const { page } = await open('en-US', opened.json.caseId);
          const event = page.locator('div.evidence[data-evidence-for="IDENTITY_MISMATCH"] .evidence-event');
          assert.equal(await event.getAttribute('data-recorded'), 'false');
          assert.match(await event.innerText(), /Nothing was kept of this event/);
        });
      });
  });
}

describe('the evidence each reason rests on', () => {
  suite('sqlite');
  suite('postgres');
});
