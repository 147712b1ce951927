// When a policy's guards would trip over a file (lab/guard-trips.ts): the same thresholds as the live path
// (core/guards.ts), by the events' own time, once per rule, checked against a direct count of the matches.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import type { Decision } from '../core/model';
import { PolicySchema, type Policy } from '../core/policy';
import { parsePolicy } from '../infra/policy-loader';
import { runBacktest } from '../cli/run-backtest';
import { Backtest, type BacktestReport } from '../lab/backtest';
import { formatBacktest } from '../lab/format';
import { generateEvents } from '../lab/gen';
import { GuardTrips, replayGuards } from '../lab/guard-trips';
import { renderHtml } from '../lab/html';
import type { WhatIfForecast } from '../lab/whatif';
import { defaultPolicy } from './helpers/deps';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');

function policy(guard: Record<string, unknown>) {
  const raw = JSON.parse(JSON.stringify(defaultPolicy().policy));
  raw.rules.find((r: { id: string }) => r.id === 'identity-mismatch').guard = guard;
  return PolicySchema.parse(raw);
}
const decision = (tier: Decision['tier'], ruleId = 'identity-mismatch'): Decision => ({
  tier,
  score: 50,
  reasons: [{ code: 'IDENTITY_MISMATCH', contribution: 50, ruleId }],
  policyVersion: 'v',
  policyHash: 'h',
  lockout: false,
  verificationAllowed: true,
  unavailableSources: [],
});

/** The first of the sorted match times at which a direct count of the hour and the week before crosses the guard. */
function directFirstTrip(sorted: number[], cap: number | undefined, times: number | undefined) {
  for (let i = 0; i < sorted.length; i++) {
    const t = sorted[i]!;
    let hour = 0;
    let trailing = 0;
    for (let j = 0; j <= i; j++) {
      const x = sorted[j]!;
      if (x > t - HOUR && x <= t) hour++;
      else if (x > t - HOUR - 168 * HOUR && x <= t - HOUR) trailing++;
    }
    const baseline = Math.max(trailing / 168, 10);
    if ((cap !== undefined && hour > cap) || (times !== undefined && hour > times * baseline))
      return { t, hour, baseline };
  }
  return undefined;
}

describe('the lab: when guards would trip (lab/guard-trips.ts)', () => {
  it('trips past the hourly cap at the match that crosses it, once; harmless decisions and other rules do not count', () => {
    const g = new GuardTrips(policy({ maxPerHour: 3 }));
    const at = (m: number) => new Date(T0 + m * 60_000).toISOString();
    g.observe(decision('FREEZE'), at(0));
    g.observe(decision('NONE'), at(1));
    g.observe(decision('FREEZE', 'other-rule'), at(2));
    g.observe(decision('FREEZE'), at(3));
    g.observe(decision('FREEZE'), at(61)); // the first has left the hour: 2 in (1, 61]
    assert.deepEqual(g.trips(), []);
    g.observe(decision('FREEZE'), at(62));
    g.observe(decision('FREEZE'), at(63)); // (3, 63]: 61, 62, 63, not past 3
    assert.deepEqual(g.trips(), []);
    g.observe(decision('FREEZE'), at(64));
    assert.deepEqual(g.trips(), [
      {
        ruleId: 'identity-mismatch',
        at: at(64),
        cause: 'MAX_PER_HOUR',
        hourCount: 4,
        baselinePerHour: 10,
        onTrip: 'alert',
      },
    ]);
    g.observe(decision('FREEZE'), at(65));
    assert.equal(g.trips().length, 1, 'once per rule');
  });

  it('property: the trip is at the first match whose hour (or baseline multiple) a direct count finds crossed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10 * 24 * 60 }), { minLength: 1, maxLength: 120, size: 'max' }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom(undefined, 2, 3),
        (minutes, cap, times) => {
          const sorted = [...minutes].sort((a, b) => a - b).map((m) => T0 + m * 60_000);
          const guard = { maxPerHour: cap, ...(times ? { maxTimesBaseline: times } : {}) };
          const g = new GuardTrips(policy(guard));
          for (const t of sorted) g.observe(decision('FREEZE'), new Date(t).toISOString());
          const expected = directFirstTrip(sorted, cap, times);
          const trips = g.trips();
          if (expected === undefined) assert.deepEqual(trips, []);
          else assert.equal(trips[0]?.at, new Date(expected.t).toISOString());
        },
      ),
    );
  });

  it('a week of steady matches lifts the baseline above its floor; a burst past three times it trips, as a direct count finds', () => {
    // 20 an hour for 16 days (the week before the burst's hour: a baseline of 20; the days before it dropped
    // as the week slid), and 45 more within a minute on day 15.
    const steady = Array.from({ length: 16 * 24 * 20 }, (_, i) => T0 + i * 180_000);
    const burstAt = T0 + 15 * 24 * HOUR + 30 * 60_000;
    const times = [...steady, ...Array.from({ length: 45 }, (_, i) => burstAt + i * 1000)].sort(
      (a, b) => a - b,
    );
    const g = new GuardTrips(policy({ maxTimesBaseline: 3 }));
    for (const t of times) g.observe(decision('FREEZE'), new Date(t).toISOString());
    const expected = directFirstTrip(times, undefined, 3);
    assert.ok(expected && expected.t >= burstAt && expected.baseline === 20, JSON.stringify(expected));
    assert.deepEqual(g.trips(), [
      {
        ruleId: 'identity-mismatch',
        at: new Date(expected.t).toISOString(),
        cause: 'TIMES_BASELINE',
        hourCount: expected.hour,
        baselinePerHour: 20,
        onTrip: 'alert',
      },
    ]);
  });

  it('property: shards of the accounts, their matches replayed in file order, give the one-pass trips (out of order too)', () => {
    const twoGuards = (() => {
      const raw = JSON.parse(JSON.stringify(policy({ maxPerHour: 4 })));
      raw.rules.find((r: { id: string }) => r.id === 'credit-multi-lender').guard = { maxTimesBaseline: 2 };
      return PolicySchema.parse(raw);
    })();
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            // Some crowded into a few hours (trips), some spread over days (baselines).
            minute: fc.oneof(fc.integer({ min: 0, max: 240 }), fc.integer({ min: 0, max: 9 * 24 * 60 })),
            rule: fc.constantFrom('identity-mismatch', 'credit-multi-lender', 'login-new-device'),
            tier: fc.constantFrom<Decision['tier']>('NONE', 'STEP_UP', 'FREEZE'),
            shard: fc.integer({ min: 0, max: 2 }),
          }),
          { maxLength: 150, size: 'max' },
        ),
        fc.boolean(),
        (items, sorted) => {
          // Mostly in time order, as files are; unsorted, some lines go back in time.
          if (sorted) items.sort((a, b) => a.minute - b.minute);
          const one = new GuardTrips(twoGuards);
          const shards = [0, 1, 2].map(() => new GuardTrips(twoGuards, { keepMatches: true }));
          items.forEach((x, i) => {
            const d = decision(x.tier, x.rule);
            const t = T0 + x.minute * 60_000;
            one.observeAt(d, t, i + 1);
            shards[x.shard]!.observeAt(d, t, i + 1);
          });
          const merged = replayGuards(shards.map((g) => g.report()));
          assert.deepEqual(merged?.trips, one.trips());
          assert.equal(merged?.matches, undefined, 'the merged section keeps no matches');
        },
      ),
    );
  });
});

// A file where a guarded rule misfires: a source answers "no match" for 30 accounts' identity checks within five
// minutes, on top of a generated stream whose own identity mismatches are few and far apart.
const BURST_AT = Date.parse('2026-10-02T18:00:00Z');
const burst = Array.from({ length: 30 }, (_, i) => ({
  eventId: `burst-${i}`,
  accountId: `acct-burst-${String(i).padStart(2, '0')}`,
  type: 'IDENTITY_CHECK',
  occurredAt: new Date(BURST_AT + i * 10_000).toISOString(),
  attributes: { matched: false },
}));
const background = [...generateEvents({ accounts: 400, days: 3, seed: 'guards' })];
// Bare events (the burst) and {event, label} lines (the generated stream), merged in time order.
const burstFile = [
  ...background.map((x) => ({ at: x.event.occurredAt, text: JSON.stringify(x) })),
  ...burst.map((e) => ({ at: e.occurredAt, text: JSON.stringify(e) })),
]
  .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
  .map((x) => x.text);
const quietFile = background.map((x) => JSON.stringify(x));

/** The default policy with guards: identity-mismatch's by `guard`, under another version. */
function guarded(version: string, guard: Record<string, unknown>, features = false): Policy {
  const raw = JSON.parse(JSON.stringify(defaultPolicy().policy));
  raw.version = version;
  raw.rules.find((r: { id: string }) => r.id === 'identity-mismatch').guard = guard;
  if (features) {
    // A feature and a guarded rule reading it: the backtest then takes its feature path.
    raw.features = {
      checks1d: { aggregate: 'count', eventTypes: ['IDENTITY_CHECK'], by: 'account', window: '1d' },
    };
    raw.rules.push({
      id: 'identity-mismatch-first',
      eventType: 'IDENTITY_CHECK',
      reason: 'IDENTITY_MISMATCH',
      when: [
        { field: 'matched', op: 'eq', value: false },
        { field: 'feature.checks1d', op: 'lte', value: 1 },
      ],
      weight: 5,
      guard: { maxPerHour: 15 },
    });
  }
  return raw as Policy;
}
const CAPPED = guarded('guarded-cap', { maxPerHour: 12, onTrip: 'capAtStepUp' });
const BASELINE = guarded('guarded-baseline', { maxTimesBaseline: 2 });
const capTrip = {
  ruleId: 'identity-mismatch',
  at: burst[12]!.occurredAt, // the 13th match in the hour: past 12
  cause: 'MAX_PER_HOUR',
  hourCount: 13,
  baselinePerHour: 10,
  onTrip: 'capAtStepUp',
};
const baselineTrip = {
  ruleId: 'identity-mismatch',
  at: burst[20]!.occurredAt, // the 21st: past twice the baseline's floor of 10
  cause: 'TIMES_BASELINE',
  hourCount: 21,
  baselinePerHour: 10,
  onTrip: 'alert',
};

function backtest(lines: string[], policy: Policy, against?: Policy, featureThread = false): BacktestReport {
  const bt = new Backtest({
    policy: parsePolicy(policy),
    ...(against ? { against: parsePolicy(against) } : {}),
    featureThread,
  });
  lines.forEach((t, i) => bt.addLine(t, i + 1));
  return bt.report();
}

describe('the lab: guard trips in backtest and whatif', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cordon-guards-'));
    writeFileSync(join(dir, 'burst.jsonl'), burstFile.join('\n') + '\n');
    writeFileSync(join(dir, 'capped.json'), JSON.stringify(CAPPED));
    writeFileSync(join(dir, 'baseline.json'), JSON.stringify(BASELINE));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("backtest lists each policy's trip at the right event with its cause; a policy without guards has no section", () => {
    // No identity mismatch of the generated stream near the burst: the trips fall on known burst events.
    const near = background.filter(
      ({ event: e }) =>
        e.type === 'IDENTITY_CHECK' &&
        e.attributes.matched === false &&
        Math.abs(Date.parse(e.occurredAt) - BURST_AT) < 2 * 3_600_000,
    );
    assert.deepEqual(near, []);
    const r = backtest(burstFile, CAPPED, BASELINE);
    assert.deepEqual(r.policy.guards, {
      rules: [{ ruleId: 'identity-mismatch', guard: { maxPerHour: 12, onTrip: 'capAtStepUp' } }],
      trips: [capTrip],
    });
    assert.deepEqual(r.against?.guards?.trips, [baselineTrip]);
    const text = formatBacktest(r);
    assert.match(text, /Guards \(guarded-cap\): 1 guarded rule; 1 would trip\n/);
    assert.match(
      text,
      /identity-mismatch {2}2026-10-02T18:02:00\.000Z {2}MAX_PER_HOUR +13 +10 {2}capAtStepUp/,
    );
    assert.match(text, /identity-mismatch {2}2026-10-02T18:03:20\.000Z {2}TIMES_BASELINE +21 +10 {2}alert/);
    const page = renderHtml(r);
    assert.match(page, /<h2>Guards of guarded-cap<\/h2>/);
    assert.match(page, /<td>2026-10-02T18:03:20\.000Z<\/td><td>TIMES_BASELINE<\/td>/);

    const plain = backtest(burstFile, defaultPolicy().policy);
    assert.equal(plain.policy.guards, undefined);
    assert.doesNotMatch(formatBacktest(plain), /Guards/);
    assert.doesNotMatch(renderHtml(plain), /Guards of/);
  });

  it('a policy with guards over a file without the burst: the rule matched, no guard would trip', () => {
    const r = backtest(quietFile, CAPPED, BASELINE);
    assert.ok(r.policy.rules.find((x) => x.ruleId === 'identity-mismatch')!.hits > 0, 'the rule matched');
    assert.deepEqual(r.policy.guards?.trips, []);
    assert.deepEqual(r.against?.guards?.trips, []);
    const text = formatBacktest(r);
    assert.match(text, /Guards \(guarded-cap\): 1 guarded rule; no guard would trip\n/);
    assert.match(text, /Guards \(guarded-baseline\): 1 guarded rule; no guard would trip\n/);
    assert.match(renderHtml(r), /1 guarded rule \(identity-mismatch\): no guard would trip/);
  });

  it("--threads 2 (the accounts shared out) gives one thread's trips, from the burst's matches in both threads", async () => {
    const file = join(dir, 'burst.jsonl');
    const run = (threads: number) =>
      runBacktest(file, {
        policy: parsePolicy(CAPPED),
        against: parsePolicy(BASELINE),
        threads,
        progress: null,
      });
    const one = await run(1);
    const two = await run(2);
    assert.deepEqual(one.policy.guards?.trips, [capTrip]);
    assert.deepEqual(two.policy.guards, one.policy.guards);
    assert.deepEqual(two.against?.guards, one.against?.guards);
    assert.deepEqual(two.against?.guards?.trips, [baselineTrip]);
  });

  it('the features computed in a second thread give the same trips, a guarded feature rule included', () => {
    const policy = guarded('guarded-features', { maxPerHour: 12, onTrip: 'capAtStepUp' }, true);
    const one = backtest(burstFile, policy, BASELINE, false);
    const two = backtest(burstFile, policy, BASELINE, true);
    assert.deepEqual(one.policy.guards?.trips, [
      capTrip,
      {
        ruleId: 'identity-mismatch-first',
        at: burst[15]!.occurredAt,
        cause: 'MAX_PER_HOUR',
        hourCount: 16,
        baselinePerHour: 10,
        onTrip: 'alert',
      },
    ]);
    assert.deepEqual(two.policy.guards, one.policy.guards);
    assert.deepEqual(two.against?.guards, one.against?.guards);
  });

  it('the command line: backtest prints the section and writes it in --json and --html; whatif prints it too', async () => {
    const json = join(dir, 'report.json');
    const html = join(dir, 'report.html');
    const bt = await cordon([
      'backtest',
      join(dir, 'burst.jsonl'),
      '--policy',
      join(dir, 'capped.json'),
      '--against',
      join(dir, 'baseline.json'),
      '--json',
      json,
      '--html',
      html,
    ]);
    assert.equal(bt.code, 0, bt.stderr);
    assert.match(
      bt.stdout,
      /\nGuards \(guarded-cap\): 1 guarded rule; 1 would trip\nrule +at +cause +hour count +baseline\/h +on trip\n[- ]+\nidentity-mismatch {2}2026-10-02T18:02:00\.000Z {2}MAX_PER_HOUR +13 +10 {2}capAtStepUp\n/,
    );
    assert.match(bt.stdout, /\nGuards \(guarded-baseline\): 1 guarded rule; 1 would trip\n/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BacktestReport;
    assert.deepEqual(report.policy.guards?.trips, [capTrip]);
    assert.deepEqual(report.against?.guards?.trips, [baselineTrip]);
    assert.match(readFileSync(html, 'utf8'), /<td>2026-10-02T18:02:00\.000Z<\/td><td>MAX_PER_HOUR<\/td>/);

    const forecastJson = join(dir, 'whatif.json');
    const whatif = await cordon([
      'whatif',
      join(dir, 'burst.jsonl'),
      '--policy',
      join(dir, 'capped.json'),
      '--no-database',
      '--json',
      forecastJson,
    ]);
    assert.equal(whatif.code, 0, whatif.stderr);
    assert.match(
      whatif.stdout,
      /\nGuards \(guarded-cap\): 1 guarded rule; 1 would trip\n[^]*2026-10-02T18:02:00\.000Z {2}MAX_PER_HOUR/,
    );
    const forecasts = (JSON.parse(readFileSync(forecastJson, 'utf8')) as { forecasts: WhatIfForecast[] })
      .forecasts;
    assert.deepEqual(forecasts[0]?.guards?.trips, [capTrip]);
  });
});

const ROOT = resolve(__dirname, '..');

/** Runs `cordon <args>` as a user does (the package bin), as test/cli.test.ts does. */
function cordon(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(ROOT, 'cli', 'cordon'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, CORDON_DATA_DIR: join(tmpdir(), 'cordon-guards-none') },
        encoding: 'utf8',
      },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
