// The lab with features: `gen --entities` (off: today's bytes; on: entities and their patterns, every event
// valid), and `backtest` with a four-feature policy over such a file: the decisions are those of scoring each
// event, in file order, with the naive reference's feature values, --threads gives the same report, and so does
// the feature thread (the windows in a worker while this thread parses and scores).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RiskEventSchema } from '../core/events';
import type { Policy } from '../core/policy';
import { scoreEvent } from '../core/scoring';
import { parsePolicy } from '../infra/policy-loader';
import { runBacktest } from '../cli/run-backtest';
import { Backtest } from '../lab/backtest';
import { checkEvent } from '../lab/event-validator';
import { ENTITY_PATTERNS, generateEvents, type GenOptions } from '../lab/gen';
import { ReferenceWindows } from './helpers/feature-reference';

const DEFAULT_FILE = resolve(__dirname, '..', 'policy', 'default.json');

/** The default policy plus four features and rules on them (velocity, sum, distinct by account and by device). */
export function fourFeaturePolicy() {
  const p = JSON.parse(readFileSync(DEFAULT_FILE, 'utf8')) as Policy & Record<string, unknown>;
  p.version = 'features-test';
  p.features = {
    failedLogins10m: { aggregate: 'count', eventTypes: ['LOGIN_FAILED'], by: 'account', window: '10m' },
    transfers24h: {
      aggregate: 'sum',
      eventTypes: ['TRANSFER_ATTEMPT'],
      field: 'amount',
      by: 'account',
      window: '24h',
    },
    failuresPerIp10m: { aggregate: 'count', eventTypes: ['LOGIN_FAILED'], by: 'entity:ip', window: '10m' },
    accountsPerDevice30d: { aggregate: 'distinct', field: 'account', by: 'entity:device', window: '30d' },
  };
  const rule = (id: string, reason: string, field: string, value: number, weight: number) => ({
    id,
    eventType: '*',
    reason,
    when: [{ field: `feature.${field}`, op: 'gte', value }],
    weight,
  });
  p.rules = [
    ...p.rules,
    rule('login-velocity', 'CREDENTIAL_BRUTE_FORCE', 'failedLogins10m', 5, 35),
    rule('transfer-volume', 'ABNORMAL_FUND_FLOWS', 'transfers24h', 8000, 30),
    rule('stuffing-ip', 'CREDENTIAL_BRUTE_FORCE', 'failuresPerIp10m', 20, 30),
    rule('device-farm', 'ACCOUNT_TAKEOVER_SUSPECTED', 'accountsPerDevice30d', 5, 50),
  ] as Policy['rules'];
  return parsePolicy(p);
}

const lines = (o: GenOptions) => [...generateEvents(o)].map((x) => JSON.stringify(x));

describe('lab with features', () => {
  it('gen-entities: off gives the bytes of before entities; on, entities and the three patterns, every event valid', () => {
    const hash = (o: GenOptions) =>
      createHash('sha256')
        .update(lines(o).join('\n') + '\n')
        .digest('hex')
        .slice(0, 16);
    // `cordon gen --accounts 500 --days 3 --seed 7` before entities existed.
    assert.equal(hash({ accounts: 500, days: 3, seed: '7' }), 'e47b981a02520433');
    assert.equal(hash({ accounts: 500, days: 3, seed: '7', entities: false }), 'e47b981a02520433');
    const on = [...generateEvents({ accounts: 2000, days: 3, seed: '7', entities: true })];
    const patterns = new Set(on.map((x) => x.label.pattern));
    for (const p of ENTITY_PATTERNS) assert.ok(patterns.has(p), p);
    assert.ok(on.filter((x) => 'entities' in x.event).length > on.length / 2);
    for (const x of on) {
      assert.equal(checkEvent(x.event).ok, true, JSON.stringify(x.event));
      assert.equal(RiskEventSchema.safeParse(x.event).success, true, JSON.stringify(x.event));
    }
    // In time order, and the same bytes every time.
    for (let i = 1; i < on.length; i++) assert.ok(on[i - 1]!.event.occurredAt <= on[i]!.event.occurredAt);
    assert.deepEqual(
      lines({ accounts: 300, days: 2, seed: 'x', entities: true }),
      lines({ accounts: 300, days: 2, seed: 'x', entities: true }),
    );
  });

  it('lab-features: backtest decides each event as scoring it with the reference features in file order; the feature rules catch the patterns', () => {
    const loaded = fourFeaturePolicy();
    const items = [...generateEvents({ accounts: 1500, days: 4, seed: 'lab', entities: true })];
    // A retried line and a late line, as real files have.
    items.splice(200, 0, items[100]!);
    items.splice(900, 0, { ...items[500]!, event: { ...items[500]!.event, eventId: 'late-1' } });
    const ref = new ReferenceWindows(loaded.policy.features!);
    const tiers: Record<string, number> = { NONE: 0, STEP_UP: 0, LIMIT: 0, PROTECT: 0, FREEZE: 0, CLOSE: 0 };
    const hits = new Map<string, number>();
    for (const { event } of items) {
      ref.record(event);
      const d = scoreEvent(loaded, event, [], ref.valuesFor(event));
      tiers[d.tier]!++;
      for (const r of d.reasons) hits.set(r.ruleId, (hits.get(r.ruleId) ?? 0) + 1);
    }
    const backtest = new Backtest({ policy: loaded });
    items.forEach((x, i) => backtest.addLine(JSON.stringify(x), i + 1));
    const report = backtest.report();
    assert.deepEqual(report.policy.tiers, tiers);
    for (const r of report.policy.rules) assert.equal(r.hits, hits.get(r.ruleId) ?? 0, r.ruleId);
    const by = new Map(report.policy.rules.map((r) => [r.ruleId, r]));
    for (const id of ['login-velocity', 'stuffing-ip', 'device-farm', 'transfer-volume'])
      assert.ok(by.get(id)!.hits > 0, `${id} never matched`);
    // The device-farm rule hits fraud far more than legitimate events.
    assert.ok(by.get('device-farm')!.truePositives > by.get('device-farm')!.falsePositives);
  });

  it('lab-threads: backtest --threads 2 with cross-account features gives the one-thread report', async function () {
    this.timeout(120_000);
    const dir = mkdtempSync(join(tmpdir(), 'cordon-features-'));
    try {
      const file = join(dir, 'events.jsonl');
      writeFileSync(
        file,
        lines({ accounts: 1500, days: 3, seed: 'threads', entities: true }).join('\n') + '\n',
      );
      const policy = fourFeaturePolicy();
      const strip = (r: Awaited<ReturnType<typeof runBacktest>>) => {
        const { elapsedMs: _e, eventsPerSecond: _r, ...rest } = r;
        return rest;
      };
      const one = strip(await runBacktest(file, { policy, threads: 1, progress: null }));
      const two = strip(await runBacktest(file, { policy, threads: 2, progress: null }));
      assert.deepEqual(two, one);
      assert.ok(one.policy.rules.find((r) => r.ruleId === 'device-farm')!.hits > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lab-feature-thread: the features computed in a second thread give the one-thread report, against a second policy too, retries and late events included', function () {
    this.timeout(120_000);
    const policy = fourFeaturePolicy();
    // The second policy: other windows, a sum and a distinct the first does not have, a feature by payee.
    const raw = JSON.parse(JSON.stringify(policy.policy)) as Policy & Record<string, unknown>;
    raw.version = 'features-test-2';
    raw.features = {
      failedLogins1h: { aggregate: 'count', eventTypes: ['LOGIN_FAILED'], by: 'account', window: '1h' },
      payees7d: {
        aggregate: 'distinct',
        eventTypes: ['TRANSFER_ATTEMPT'],
        field: 'entity:payee',
        by: 'account',
        window: '7d',
      },
      senders1d: { aggregate: 'distinct', field: 'account', by: 'entity:payee', window: '1d' },
      borrowed3d: {
        aggregate: 'sum',
        eventTypes: ['BORROW_REQUEST'],
        field: 'amount',
        by: 'account',
        window: '3d',
      },
    };
    raw.rules = [
      ...raw.rules.filter((r) => !r.when.some((c) => c.field.startsWith('feature.'))),
      {
        id: 'mule-senders',
        eventType: 'TRANSFER_ATTEMPT',
        reason: 'ABNORMAL_FUND_FLOWS',
        when: [{ field: 'feature.senders1d', op: 'gte', value: 5 }],
        weight: 40,
      },
    ] as Policy['rules'];
    const against = parsePolicy(raw);
    const items = [...generateEvents({ accounts: 3000, days: 4, seed: 'thread', entities: true })];
    // Retried and late lines and a malformed line, as real files have.
    items.splice(300, 0, items[120]!);
    items.splice(2000, 0, { ...items[1500]!, event: { ...items[1500]!.event, eventId: 'late-1' } });
    items.splice(5000, 0, { ...items[10]!, event: { ...items[10]!.event, eventId: 'late-2' } });
    const texts = items.map((x) => JSON.stringify(x));
    texts.splice(700, 0, '{"event": not json');
    const run = (featureThread: boolean) => {
      const backtest = new Backtest({ policy, against, featureThread, examples: 50 });
      texts.forEach((t, i) => backtest.addLine(t, i + 1));
      return backtest.report();
    };
    const one = run(false);
    const two = run(true);
    assert.deepEqual(two, one);
    // The file reached the features: rules on them matched, and the policies differ on some events.
    assert.ok(one.policy.rules.find((r) => r.ruleId === 'device-farm')!.hits > 0);
    assert.ok(one.against!.rules.find((r) => r.ruleId === 'mule-senders')!.hits > 0);
    assert.ok(one.diff!.changedEvents > 0);
    assert.equal(one.malformed.count, 1);
  });
});
