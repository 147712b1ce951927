// Issue 20, rule guards (the pure part is test/guards-rules.test.ts): the store on SQLite and PostgreSQL (one
// trip however many processes cross the threshold at once; a re-armed guard counts anew), and the live path over
// real HTTP with a worker on the Temporal dev server: a misfiring rule trips its guard, an `alert` rule keeps
// restricting, a `capAtStepUp` rule asks users to verify instead of freezing them until a senior re-arms it.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../infra/database';
import { Store } from '../infra/store';
import { quiet } from './helpers/deps';
import { guardedPolicy } from './helpers/guarded-policy';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, eventually, recordHistory, startApiHarness, type ApiHarness } from './helpers/harness';
import type { WebhookEvent } from '../core/messages';
import { sharedPostgres } from './helpers/postgres';
import { requires } from './helpers/requirements';
import { launchBrowser, openPage, signIn } from './helpers/browser';
import type { Browser } from 'playwright-core';

const HOUR = 3_600_000;

describe('rule guards (issue 20)', () => {
  for (const dialect of ['sqlite', 'postgres'] as const)
    describe(`the store (${dialect})`, function () {
      if (dialect === 'postgres') requires('postgres');
      this.timeout(60_000);
      let stores: Store[];
      const rule = `r-${Math.random().toString(36).slice(2, 10)}`;
      before(async () => {
        const url = dialect === 'postgres' ? (await sharedPostgres()).url : undefined;
        const sqliteFile = join(mkdtempSync(join(tmpdir(), 'cordon-guards-')), 'cordon.sqlite');
        const db = await openDatabase({ url, sqliteFile });
        const other = dialect === 'postgres' ? await openDatabase({ url, sqliteFile }) : db;
        stores = [new Store(db), new Store(other)];
      });
      after(async () => {
        for (const s of new Set(stores.map((x) => x.db))) await s.close();
      });

      it('counts a retried match once; one trip however many processes cross at once; re-armed, it counts anew', async () => {
        const now = Date.now();
        const [a, b] = stores as [Store, Store];
        assert.equal(
          await a.guards.match({ ruleId: rule, accountId: 'x', eventId: 'e1', caseId: 'c1', at: now - 10 }),
          true,
        );
        assert.equal(
          await b.guards.match({ ruleId: rule, accountId: 'x', eventId: 'e1', caseId: 'c1', at: now - 5 }),
          false,
        );
        await a.guards.match({
          ruleId: rule,
          accountId: 'y',
          eventId: 'e2',
          caseId: 'c2',
          at: now - 2 * HOUR,
        });
        assert.deepEqual(await b.guards.counts(rule, now), { hour: 1, trailing: 1 });
        const tripped = await Promise.all(
          [a, b, a, b].map((s, i) =>
            s.guards.trip({
              ruleId: rule,
              trippedAt: now + i,
              hourCount: 1,
              baselinePerHour: 10,
              onTrip: 'alert',
            }),
          ),
        );
        assert.equal(tripped.filter(Boolean).length, 1, 'one trip');
        assert.equal((await b.guards.open()).filter((t) => t.ruleId === rule).length, 1);
        assert.ok(await a.guards.rearm(rule, 'senior-1', now + 100));
        assert.equal(await b.guards.rearm(rule, 'senior-2', now + 101), null, 'nothing left to re-arm');
        assert.equal((await b.guards.counts(rule, now + 200)).hour, 0, 'counts anew after the re-arming');
        assert.equal(
          await b.guards.trip({
            ruleId: rule,
            trippedAt: now + 300,
            hourCount: 5,
            baselinePerHour: 10,
            onTrip: 'alert',
          }),
          true,
          'a new trip after the re-arming',
        );
      });
    });

  describe('the live path over HTTP, and the console in headless Chromium', function () {
    requires('temporal', 'chromium');
    this.timeout(180_000);
    let env: ApiHarness;
    let browser: Browser;
    const call = (method: string, path: string, token: string, body?: unknown) =>
      callApi(env.api.url, method, path, token, body);
    before(async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'cordon-guards-api-')), 'policy.json');
      writeFileSync(file, JSON.stringify(guardedPolicy()));
      env = await startApiHarness(quiet, { CORDON_POLICY_FILE: file });
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await env?.close();
    });

    it('a misfiring rule trips its guard; capped, it asks users to verify instead of freezing them, until a senior re-arms it (histories-)', async () => {
      const mismatch = async () => {
        const r = await call(
          'POST',
          '/v1/risk-events',
          'dev-backend',
          riskEvent(uniqueAccount('g'), 'IDENTITY_CHECK', { matched: false }),
        );
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return r.body;
      };
      const first = [await mismatch(), await mismatch(), await mismatch(), await mismatch()];
      assert.deepEqual(
        first.map((x) => x.decision.tier),
        ['FREEZE', 'FREEZE', 'FREEZE', 'FREEZE'],
        'the fourth match trips it; its own decision stands',
      );
      // A retried event counts nothing more.
      const retried = await call('POST', '/v1/risk-events', 'dev-backend', {
        ...riskEvent(first[0].accountId, 'IDENTITY_CHECK', { matched: false }),
        eventId: first[0].eventId,
      });
      assert.equal(retried.body.duplicate, true);
      const listed = await call('GET', '/v1/guards', 'dev-reviewer-1');
      assert.equal(listed.status, 200);
      const g = listed.body.guards.find((x: { ruleId: string }) => x.ruleId === 'identity-mismatch');
      assert.equal(g.hourCount, 4);
      assert.equal(g.trip.onTrip, 'capAtStepUp');
      assert.equal(g.trip.hourCount, 4);
      // Each case the rule restricted in that hour notes the trip in its timeline, once.
      for (const { caseId } of first) {
        const entries = await eventually(async () => {
          const view = await call('GET', `/v1/cases/${caseId}`, 'dev-reviewer-1');
          const found = (
            view.body.timeline as { type: string; ruleId?: string; hourCount?: number }[]
          ).filter((e) => e.type === 'GUARD_TRIPPED');
          return found.length ? found : false;
        }, 30_000);
        assert.equal(entries.length, 1, caseId);
        assert.equal(entries[0]!.ruleId, 'identity-mismatch');
        assert.equal(entries[0]!.hourCount, 4);
      }
      // A case whose timeline notes a guard's trip: kept for the replay test of every release.
      await recordHistory('guard-tripped-noted', env.h.handle(first[0].accountId));
      const capped = await mismatch();
      assert.equal(capped.decision.tier, 'STEP_UP', 'asked to verify, not frozen');
      assert.deepEqual(capped.decision.guardedRules, ['identity-mismatch']);
      assert.equal(capped.status, 'VERIFICATION_REQUIRED');
      // Metrics: the trip counted, the guard shown as tripped.
      const metrics = await fetch(`${env.api.url}/metrics`).then((r) => r.text());
      assert.match(metrics, /cordon_guard_trips_total\{rule="identity-mismatch"\} 1/);
      assert.match(metrics, /cordon_guard_tripped\{rule="identity-mismatch"\} 1/);
      // Only a senior re-arms it (logged): over the API a reviewer is refused; in the console a reviewer reads the
      // banner without a button, a senior clicks it; then the rule freezes as written.
      assert.equal((await call('POST', '/v1/guards/identity-mismatch/rearm', 'dev-reviewer-1')).status, 403);
      {
        const reviewer = await openPage(browser, env.api.url, 'zh-CN');
        try {
          await signIn(reviewer.page, 'dev-reviewer-1', '/console/queue');
          const banner = reviewer.page.locator('#guards .guard[data-rule="identity-mismatch"]');
          assert.match(await banner.innerText(), /过去一小时限制了 4 个账户/);
          assert.equal(await banner.locator('button').count(), 0, 'no button for a reviewer');
        } finally {
          await reviewer.context.close();
        }
        const senior = await openPage(browser, env.api.url, 'en-US');
        try {
          await signIn(senior.page, 'dev-senior', '/console/queue');
          const banner = senior.page.locator('#guards .guard[data-rule="identity-mismatch"]');
          assert.match(
            await banner.innerText(),
            /4 restrictions in the last hour against a baseline of 10 an hour/,
          );
          assert.match(await banner.innerText(), /asks users to verify/);
          await Promise.all([
            senior.page.waitForURL(/rearmed=identity-mismatch/),
            banner.locator('button').click(),
          ]);
          assert.match(await senior.page.locator('p.notice').innerText(), /identity-mismatch is re-armed/);
          assert.equal(await senior.page.locator('#guards .guard[data-rule="identity-mismatch"]').count(), 0);
          assert.deepEqual(senior.problems, []);
        } finally {
          await senior.context.close();
        }
      }
      const listedAfter = await call('GET', '/v1/guards', 'dev-senior');
      const rearmed = {
        body: {
          trip: listedAfter.body.recentTrips.find(
            (t: { ruleId: string }) => t.ruleId === 'identity-mismatch',
          ),
        },
      };
      assert.equal(rearmed.body.trip.rearmedBy, 'senior');
      const again = await call('POST', '/v1/guards/identity-mismatch/rearm', 'dev-senior');
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'GUARD_NOT_TRIPPED');
      assert.equal(
        (await call('POST', '/v1/guards/no-such-rule/rearm', 'dev-senior')).body.code,
        'GUARD_NOT_FOUND',
      );
      const after = await mismatch();
      assert.equal(after.decision.tier, 'FREEZE');
      assert.equal(after.decision.guardedRules, undefined);
    });

    it('an alert guard trips but the rule keeps restricting', async () => {
      const report = () =>
        call(
          'POST',
          '/v1/risk-events',
          'dev-backend',
          riskEvent(uniqueAccount('f'), 'FRAUD_REPORT', { source: 'network', confirmed: true }),
        );
      const tiers = [];
      for (let i = 0; i < 4; i++) tiers.push((await report()).body.decision.tier);
      assert.deepEqual(tiers, ['CLOSE', 'CLOSE', 'CLOSE', 'CLOSE']);
      const listed = await call('GET', '/v1/guards', 'dev-analyst');
      const g = listed.body.guards.find((x: { ruleId: string }) => x.ruleId === 'fraud-report-confirmed');
      assert.equal(g.trip.onTrip, 'alert');
      assert.equal(g.trip.hourCount, 3, 'tripped by the third match (past 2)');
      // The backend hears of it once, through its webhook (a message of no case or account) and its change feed.
      const sent = await eventually(async () => {
        const events = (env.h.backend.events as unknown as WebhookEvent[]).filter(
          (e) => e.type === 'guard.tripped' && e.ruleId === 'fraud-report-confirmed',
        );
        return events.length ? events : false;
      }, 30_000);
      assert.equal(sent.length, 1);
      assert.deepEqual(
        { ...sent[0], at: undefined, idempotencyKey: undefined },
        {
          type: 'guard.tripped',
          accountId: null,
          caseId: null,
          ruleId: 'fraud-report-confirmed',
          onTrip: 'alert',
          hourCount: 3,
          baselinePerHour: 10,
          at: undefined,
          idempotencyKey: undefined,
        },
      );
      const feed = await call('GET', '/v1/changes?after=0&limit=1000', 'dev-backend');
      assert.ok(
        feed.body.items.some(
          (c: { type: string; event: { ruleId?: string } }) =>
            c.type === 'guard.tripped' && c.event.ruleId === 'fraud-report-confirmed',
        ),
        JSON.stringify(feed.body).slice(0, 500),
      );
    });
  });
});
