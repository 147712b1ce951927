import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CaseView } from '../core/contracts';
import type { Decision } from '../core/model';
import { caseTermsOf, type Policy } from '../core/policy';
import { parsePolicy } from '../infra/policy-loader';
import { Backtest } from '../lab/backtest';
import { CaseTracker } from '../lab/cases';
import { checkEvent, checkEventWithZod } from '../lab/event-validator';
import { generateEvents, PATTERNS } from '../lab/gen';
import { renderHtml } from '../lab/html';
import { endingOf, overturnRates, overturnRatesAsync, type OverturnCase } from '../lab/overturns';
import { diffPolicies, policyProblems } from '../lab/policy-tools';
import { shadowCompare } from '../lab/shadow';
import { precision, recall, wilson } from '../lab/stats';
import { DEFAULT_PARAMETERS, forecast, observeParameters, resolveParameters } from '../lab/whatif';

const DEFAULT_FILE = resolve(__dirname, '..', 'policy', 'default.json');
const rawDefault = () => JSON.parse(readFileSync(DEFAULT_FILE, 'utf8')) as Policy;
const loadedDefault = () => parsePolicy(rawDefault());

const base = { eventId: 'e-1', accountId: 'acct-1', occurredAt: '2026-10-01T10:00:00Z' };
const ev = (type: string, attributes: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  ...base,
  type,
  attributes,
  ...extra,
});

describe('policy lab: fast event validator', () => {
  const pathSet = (problems: { path: (string | number)[] }[]) =>
    [...new Set(problems.map((p) => p.path.join('.')))].sort();

  const bad: unknown[] = [
    null,
    42,
    'LOGIN',
    [],
    {},
    { type: 'NOPE' },
    { type: 7 },
    { ...base, type: 'STAFF_REPORT', attributes: {} },
    ev('LOGIN', {}),
    ev('LOGIN', { newDevice: 'yes' }),
    ev('LOGIN', { newDevice: true, geoDistanceKm: -1, minutesSinceLastLogin: 'x' }),
    ev('LOGIN', { newDevice: true, geoDistanceKm: 50_000 }),
    ev('LOGIN', { newDevice: true, extra: 1 }),
    ev('LOGIN', { newDevice: true }, { extra: true }),
    ev('LOGIN', { newDevice: true }, { eventId: '' }),
    ev('LOGIN', { newDevice: true }, { eventId: 'has space' }),
    ev('LOGIN', { newDevice: true }, { accountId: 'a.b' }),
    ev('LOGIN', { newDevice: true }, { accountId: 'x'.repeat(65) }),
    ev('LOGIN', { newDevice: true }, { occurredAt: '2026-10-01' }),
    ev('LOGIN', { newDevice: true }, { occurredAt: '2026-02-30T10:00:00Z' }),
    ev('LOGIN', { newDevice: true }, { occurredAt: 1234 }),
    ev('LOGIN', { newDevice: true }, { locale: 'fr' }),
    ev('LOGIN', { newDevice: true }, { contact: { email: 'nope', phone: '1', timeZone: 'Mars/Base' } }),
    ev('LOGIN', { newDevice: true }, { contact: 'x' }),
    ev('LOGIN', { newDevice: true }, { contact: { fax: '1' } }),
    { ...base, type: 'LOGIN' },
    { ...base, type: 'LOGIN', attributes: null },
    { ...base, type: 'LOGIN', attributes: [] },
    { type: 'LOGIN', attributes: { newDevice: true } },
    ev('LOGIN_FAILED', { consecutiveFailures: 0 }),
    ev('LOGIN_FAILED', { consecutiveFailures: 1.5 }),
    ev('LOGIN_FAILED', { consecutiveFailures: 2_000_000 }),
    ev('IDENTITY_CHECK', { matched: false, field: '' }),
    ev('IDENTITY_CHECK', { matched: false, field: 'x'.repeat(65) }),
    ev('CREDIT_REPORT', { lendersLast30d: -1, scoreDelta: 5000, overdueDays: 0.5 }),
    ev('CREDIT_REPORT', { lendersLast30d: 1 }),
    ev('BORROW_REQUEST', { amount: -5, requestsLast24h: 1, creditLimit: 2e12 }),
    ev('TRANSFER_ATTEMPT', { toNewPayee: 1, amount: '5', duringCall: 'no', justBorrowed: null }),
    ev('FRAUD_REPORT', { source: '', confirmed: 'true' }),
    ev('DATA_SOURCE_ERROR', {}),
    ev('REGULATORY_HOLD', { reference: 'x'.repeat(129) }),
    ev('VERIFICATION_FAILED', { method: 'otp' }),
    ev('USER_ACTION_BURST', { action: 'dance' }),
    { ...ev('LOGIN', { newDevice: true }), __proto__: null },
    JSON.parse(
      '{"type":"LOGIN","eventId":"a","accountId":"b","occurredAt":"2026-10-01T10:00:00Z","attributes":{"newDevice":true,"__proto__":1}}',
    ),
  ];

  it('names the same field paths as the zod schema on bad inputs', () => {
    for (const input of bad) {
      const fast = checkEvent(input);
      const zod = checkEventWithZod(input);
      assert.equal(fast.ok, zod.ok, `ok differs for ${JSON.stringify(input)}`);
      if (!fast.ok && !zod.ok)
        assert.deepEqual(
          pathSet(fast.problems),
          pathSet(zod.problems),
          `paths differ for ${JSON.stringify(input)}`,
        );
    }
  });

  it('accepts what the zod schema accepts (every generated event, with optional fields)', () => {
    let n = 0;
    for (const { event } of generateEvents({ accounts: 300, days: 3, seed: 'v' })) {
      assert.equal(checkEvent(event).ok, true, JSON.stringify(event));
      assert.equal(checkEventWithZod(event).ok, true);
      n++;
    }
    assert.ok(n > 300);
    const full = ev(
      'LOGIN',
      { newDevice: true, geoDistanceKm: 10, minutesSinceLastLogin: 5 },
      {
        locale: 'zh-CN',
        contact: { email: 'a@example.com', timeZone: 'Asia/Shanghai' },
        occurredAt: '2026-10-01T10:00:00.123+08:00',
      },
    );
    assert.equal(checkEvent(full).ok, true);
    assert.equal(checkEventWithZod(full).ok, true);
  });
});

describe('policy lab: generator', () => {
  const take = (seed: string) =>
    [...generateEvents({ accounts: 400, days: 4, seed })].map((x) => JSON.stringify(x));

  it('is reproducible, seed-dependent, time-ordered, and covers every event type and pattern', () => {
    const a = take('7');
    assert.deepEqual(a, take('7'));
    assert.notDeepEqual(a, take('8'));
    const items = a.map(
      (l) =>
        JSON.parse(l) as {
          event: { type: string; occurredAt: string };
          label: { fraud: boolean; pattern: string };
        },
    );
    const times = items.map((i) => Date.parse(i.event.occurredAt));
    assert.ok(
      times.every((t, i) => i === 0 || t >= times[i - 1]!),
      'time order',
    );
    const types = new Set(items.map((i) => i.event.type));
    for (const t of [
      'LOGIN_FAILED',
      'LOGIN',
      'IDENTITY_CHECK',
      'CREDIT_REPORT',
      'BORROW_REQUEST',
      'TRANSFER_ATTEMPT',
      'FRAUD_REPORT',
      'DATA_SOURCE_ERROR',
      'REGULATORY_HOLD',
      'VERIFICATION_FAILED',
      'USER_ACTION_BURST',
    ])
      assert.ok(types.has(t), `type ${t}`);
    const patterns = new Set(items.map((i) => i.label.pattern));
    for (const p of PATTERNS) assert.ok(patterns.has(p), `pattern ${p}`);
    assert.ok(items.some((i) => i.label.fraud) && items.some((i) => !i.label.fraud));
  });
});

describe('policy lab: statistics', () => {
  it('Wilson 95% intervals match known values', () => {
    const close = (x: number, y: number) => assert.ok(Math.abs(x - y) < 5e-5, `${x} != ${y}`);
    const i0 = wilson(0, 10)!;
    close(i0.low, 0);
    close(i0.high, 0.2775);
    const i1 = wilson(1, 10)!;
    close(i1.low, 0.0179);
    close(i1.high, 0.4042);
    const i5 = wilson(5, 10)!;
    close(i5.low, 0.2366);
    close(i5.high, 0.7634);
    const i10 = wilson(10, 10)!;
    close(i10.low, 0.7225);
    close(i10.high, 1);
    assert.equal(wilson(0, 0), null);
  });

  it('precision and recall from counts', () => {
    assert.equal(precision(3, 1), 0.75);
    assert.equal(precision(0, 0), null);
    assert.equal(recall(3, 4), 0.75);
    assert.equal(recall(0, 0), null);
  });
});

describe('policy lab: backtest aggregation', () => {
  const line = (
    type: string,
    attributes: Record<string, unknown>,
    fraud: boolean | undefined,
    i: number,
    account = `acct-${i}`,
  ) =>
    JSON.stringify(
      fraud === undefined
        ? ev(type, attributes, { eventId: `e-${i}`, accountId: account })
        : {
            event: ev(type, attributes, { eventId: `e-${i}`, accountId: account }),
            label: { fraud, pattern: fraud ? 'x' : 'legitimate' },
          },
    );

  it('precision and recall per rule and overall equal the hand-computed values', () => {
    const bt = new Backtest({ policy: loadedDefault() });
    const lines = [
      line('IDENTITY_CHECK', { matched: false }, true, 1), // identity-mismatch TP, FREEZE
      line('IDENTITY_CHECK', { matched: false }, false, 2), // identity-mismatch FP, FREEZE
      line('IDENTITY_CHECK', { matched: false }, true, 3), // TP
      line('LOGIN', { newDevice: false }, true, 4), // missed fraud: FN
      line('LOGIN', { newDevice: false }, false, 5), // TN
      line('LOGIN', { newDevice: true }, false, 6), // login-new-device FP, score 10: NONE (TN overall)
      line('FRAUD_REPORT', { source: 's', confirmed: true }, true, 7), // fraud-report-confirmed TP, CLOSE
      line('LOGIN', { newDevice: false }, undefined, 8), // unlabelled: counted, not in precision/recall
      'not json',
      '',
      line('LOGIN', { newDevice: 'x' }, false, 9),
    ];
    lines.forEach((l, i) => bt.addLine(l, i + 1));
    const r = bt.report();
    assert.equal(r.events, 8);
    assert.equal(r.malformed.count, 2);
    assert.deepEqual(
      r.malformed.listed.map((m) => m.line),
      [9, 11],
    );
    assert.match(r.malformed.listed[1]!.problems.join(), /event\.attributes\.newDevice/);
    assert.equal(r.labelled.events, 7);
    assert.equal(r.labelled.fraud, 4);
    const rule = (id: string) => r.policy.rules.find((x) => x.ruleId === id)!;
    assert.equal(rule('identity-mismatch').hits, 3);
    assert.equal(rule('identity-mismatch').contribution, 150);
    assert.equal(rule('identity-mismatch').precision, 2 / 3);
    assert.equal(rule('identity-mismatch').recall, 2 / 4);
    assert.equal(rule('login-new-device').precision, 0);
    assert.equal(rule('login-new-device').recall, 0);
    assert.equal(rule('fraud-report-confirmed').precision, 1);
    assert.equal(rule('fraud-report-confirmed').recall, 1 / 4);
    assert.equal(rule('borrow-burst').precision, null);
    // Overall: flagged = FREEZE x3 + CLOSE: TP 3, FP 1, FN 1 (the plain login), TN 2.
    assert.deepEqual(
      { ...r.policy.overall! },
      {
        truePositives: 3,
        falsePositives: 1,
        falseNegatives: 1,
        trueNegatives: 2,
        precision: 0.75,
        recall: 0.75,
      },
    );
    assert.equal(r.policy.tiers.FREEZE, 3);
    assert.equal(r.policy.tiers.CLOSE, 1);
    assert.equal(r.policy.restrictedAccounts, 4);
  });

  it('compares two policies event by event and account by account', () => {
    const raw = rawDefault();
    raw.version = 'stricter';
    raw.rules.find((x) => x.id === 'login-new-device')!.weight = 30; // a new device alone: STEP_UP
    const bt = new Backtest({ policy: loadedDefault(), against: parsePolicy(raw) });
    bt.addLine(line('LOGIN', { newDevice: true }, false, 1, 'acct-a'), 1);
    bt.addLine(line('LOGIN', { newDevice: true }, false, 2, 'acct-a'), 2);
    bt.addLine(line('IDENTITY_CHECK', { matched: false }, true, 3, 'acct-b'), 3);
    const r = bt.report();
    assert.equal(r.diff!.changedEvents, 2);
    assert.deepEqual(r.diff!.tierChanges, [{ from: 'NONE', to: 'STEP_UP', count: 2 }]);
    assert.equal(r.diff!.accounts.onlyAgainst, 1);
    assert.equal(r.diff!.accounts.onlyPolicy, 0);
    assert.equal(r.diff!.accounts.both, 1);
    assert.equal(r.diff!.accounts.examplesOnlyAgainst[0]!.accountId, 'acct-a');
    assert.equal(r.diff!.accounts.examplesOnlyAgainst[0]!.line, 1);
    // The second new-device login lands in the case the first opened: one case, not two.
    assert.equal(r.against!.casesOpened.STEP_UP, 1);
    const html = renderHtml(r);
    assert.match(html, /<svg/);
    assert.doesNotMatch(html, /https?:/);
  });
});

describe('policy lab: account cases', () => {
  it('opens one case per account, escalates, never de-escalates, and expires after the user deadline', () => {
    const t = new CaseTracker(caseTermsOf(loadedDefault()));
    const d = (tier: Decision['tier'], lockout = false) => ({ tier, lockout });
    assert.deepEqual(t.apply('a', 0, d('STEP_UP')), { kind: 'OPENED', tier: 'STEP_UP' });
    assert.deepEqual(t.apply('a', 1000, d('STEP_UP')), { kind: 'UNCHANGED' });
    assert.deepEqual(t.apply('a', 2000, d('FREEZE')), { kind: 'ESCALATED', tier: 'FREEZE' });
    assert.deepEqual(t.apply('a', 3000, d('LIMIT')), { kind: 'UNCHANGED' });
    assert.deepEqual(t.apply('a', 4000, d('NONE')), { kind: 'UNCHANGED' });
    // FREEZE's user deadline is 7 days.
    assert.deepEqual(t.apply('a', 2000 + 7 * 86_400_000, d('LIMIT')), { kind: 'OPENED', tier: 'LIMIT' });
    assert.deepEqual(t.apply('b', 0, d('NONE')), { kind: 'NONE' });
  });
});

describe('policy lab: policies', () => {
  it('validation lists every problem with its path', () => {
    const raw = rawDefault() as unknown as Record<string, unknown> & {
      rules: Record<string, unknown>[];
      thresholds: Record<string, number>;
    };
    raw.thresholds.LIMIT = 10; // below STEP_UP
    raw.rules[0]!.weight = -5;
    raw.rules[1]!.reason = 'NOT_A_REASON';
    raw.rules[2]!.id = raw.rules[3]!.id;
    raw.surprise = true;
    const paths = policyProblems(raw).map((p) => p.path);
    for (const p of ['thresholds', 'rules.0.weight', 'rules.1.reason', 'rules.3.id', '(root)'])
      assert.ok(paths.includes(p), `${p} in ${paths.join()}`);
    assert.deepEqual(policyProblems(rawDefault()), []);
    const dead = rawDefault();
    (dead.rules[0]!.when[0] as { field: string }).field = 'consecutiveFailure';
    assert.deepEqual(
      policyProblems(dead).map((p) => p.path),
      ['rules.0.when.0.field'],
    );
  });

  it('diff lists rules, weights, thresholds and terms that differ', () => {
    const a = parsePolicy(rawDefault()).policy;
    const raw = rawDefault();
    raw.version = 'b';
    raw.thresholds.FREEZE = 90;
    raw.rules.find((r) => r.id === 'borrow-burst')!.weight = 50;
    raw.rules = raw.rules.filter((r) => r.id !== 'user-action-burst');
    raw.rules.push({
      id: 'new-rule',
      eventType: 'LOGIN',
      reason: 'NEW_DEVICE_LOCATION_JUMP',
      when: [],
      weight: 1,
    } as never);
    raw.tiers.FREEZE.reviewSla = '12h';
    const d = diffPolicies(a, parsePolicy(raw).policy);
    assert.deepEqual(
      d.thresholds.map((c) => c.path),
      ['thresholds.FREEZE'],
    );
    assert.deepEqual(
      d.weights.map((c) => [c.path, c.before, c.after]),
      [['rules.borrow-burst.weight', 35, 50]],
    );
    assert.deepEqual(d.rules.map((c) => `${c.kind} ${c.path}`).sort(), [
      'added rules.new-rule',
      'removed rules.user-action-burst',
    ]);
    assert.deepEqual(
      d.terms.map((c) => c.path),
      ['tiers.FREEZE.reviewSla'],
    );
    assert.deepEqual(
      d.other.map((c) => c.path),
      ['version'],
    );
  });
});

describe('policy lab: what-if model', () => {
  it('forecasts verifications, appeals, reviews, reviewers and breaches by hand-computed values', () => {
    const terms = caseTermsOf(loadedDefault());
    const zero = { STEP_UP: 0, LIMIT: 0, PROTECT: 0, FREEZE: 0, CLOSE: 0 };
    const p = {
      verifyRate: 0.5,
      passRate: 0.5,
      appealRate: 0.5,
      reviewMinutes: 60,
      reviewers: 1,
      shiftHours: 8,
    };
    const f = forecast([{ day: '2026-10-01', opened: { ...zero, FREEZE: 40 } }], terms, p);
    const d0 = f.days[0]!;
    // 40 FREEZE: 20 verify, 10 pass, 10 fail -> review; 20 rest, 10 appeal -> review; 10 wait 7 days -> review.
    assert.equal(d0.verifications, 20);
    assert.equal(d0.restoredByVerification, 10);
    assert.equal(d0.appeals, 10);
    assert.equal(d0.reviews, 20);
    assert.equal(d0.reviewerHours, 20);
    // 24 h SLA: the day's 20 hours need ceil(20 / 8) = 3 reviewers; one reviewer does 8, so 12 breach.
    assert.equal(d0.reviewersNeeded, 3);
    assert.equal(d0.slaBreaches, 12);
    const late = f.days.find((d) => d.day === '2026-10-08')!;
    assert.equal(late.reviews, 10);
    assert.equal(f.totals.reviews, 30);
    // LIMIT: no verification (verificationRestores false), UPHOLD at the deadline: only appeals are reviewed.
    const g = forecast([{ day: '2026-10-01', opened: { ...zero, LIMIT: 10 } }], terms, p);
    assert.equal(g.totals.verifications, 0);
    assert.equal(g.totals.reviews, 5);
    // 5 hours due within 72 h (day 3): nothing is due on the first day, one reviewer meets the deadline.
    assert.equal(g.days[0]!.reviewersNeeded, 0);
    assert.equal(g.days.find((d) => d.day === '2026-10-03')!.reviewersNeeded, 1);
    assert.equal(g.totals.peakReviewersNeeded, 1);
    assert.equal(g.totals.slaBreaches, 0);
    // The 10 late FREEZE reviews (10 h, due the day they arrive) need 2; the first day's 20 h need 3.
    assert.equal(late.reviewersNeeded, 2);
    assert.equal(f.totals.peakReviewersNeeded, 3);
    assert.equal(
      forecast([{ day: '2026-10-01', opened: { ...zero, FREEZE: 40 } }], terms, { ...p, reviewers: 3 }).totals
        .slaBreaches,
      0,
    );
  });

  it('takes parameters from options, then case records, then defaults, and says which', () => {
    const at = (m: number) => new Date(Date.UTC(2026, 9, 1, 10, m)).toISOString();
    const cases = Array.from({ length: 20 }, (_, i) => ({
      tier: 'FREEZE',
      timeline: [
        { at: at(0), type: 'RISK_EVENT', actor: { kind: 'backend', id: 'b' } },
        ...(i < 10
          ? [{ at: at(1), type: 'VERIFICATION', actor: { kind: 'user', id: 'u' }, passed: i < 4 }]
          : []),
        ...(i < 5 ? [{ at: at(2), type: 'APPEAL', actor: { kind: 'user', id: 'u' } }] : []),
        { at: at(10), type: 'CLAIM', actor: { kind: 'reviewer', id: `r${i % 2}` } },
        {
          at: at(10 + 20),
          type: 'DECISION',
          actor: { kind: 'reviewer', id: `r${i % 2}` },
          decision: 'UNLOCK',
        },
      ],
    }));
    const observed = observeParameters(cases, new Set(['FREEZE']));
    assert.deepEqual(observed.verifyRate, { value: 0.5, n: 20 });
    assert.deepEqual(observed.passRate, { value: 0.4, n: 10 });
    assert.deepEqual(observed.appealRate, { value: 0.25, n: 20 });
    assert.deepEqual(observed.reviewMinutes, { value: 20, n: 20 });
    assert.deepEqual(observed.reviewers, { value: 2, n: 20 });
    const s = resolveParameters({ reviewers: 9 }, observed);
    assert.equal(s.values.reviewers, 9);
    assert.equal(s.sources.reviewers.source, 'option');
    assert.equal(s.values.passRate, 0.4);
    assert.equal(s.sources.passRate.source, 'database');
    assert.equal(s.sources.shiftHours.source, 'default');
    assert.equal(s.values.shiftHours, DEFAULT_PARAMETERS.shiftHours);
    assert.equal(resolveParameters({}, null).sources.passRate.source, 'default');
  });
});

describe('policy lab: live report computations', () => {
  const view = (
    i: number,
    outcome: CaseView['outcome'],
    entries: { type: string; actor?: string; [k: string]: unknown }[],
    reasons: [string, string][] = [['identity-mismatch', 'IDENTITY_MISMATCH']],
  ): OverturnCase => ({
    caseId: `acct-${i}.000000000000`,
    openedAt: '2026-10-02T00:00:00.000Z',
    outcome,
    tier: 'FREEZE',
    reasons: reasons.map(([ruleId, code]) => ({ ruleId, code: code as never, contribution: 50 })),
    timeline: entries.map(({ type, actor, ...rest }) => ({
      at: '2026-10-02T00:00:00.000Z',
      type: type as never,
      actor: { kind: (actor ?? 'system') as never, id: 'x' },
      ...rest,
    })),
  });

  it('classifies how each restriction ended and computes overturn rates with Wilson intervals', () => {
    const cases: OverturnCase[] = [
      view(1, 'RESTORED', [
        { type: 'DECISION', actor: 'reviewer', decision: 'UNLOCK' },
        { type: 'OUTCOME', actor: 'reviewer' },
      ]),
      view(2, 'RESTORED', [
        { type: 'VERIFICATION', actor: 'user', passed: true },
        { type: 'OUTCOME', actor: 'user' },
      ]),
      view(3, 'UPHELD', [
        { type: 'DECISION', actor: 'reviewer', decision: 'UPHOLD' },
        { type: 'OUTCOME', actor: 'reviewer' },
      ]),
      view(
        4,
        'CLOSED',
        [{ type: 'OUTCOME', actor: 'reviewer' }],
        [['fraud-report-confirmed', 'EXTERNAL_FRAUD_REPORT']],
      ),
      view(
        5,
        'RESTORED',
        [{ type: 'LOCKOUT_EXPIRED' }, { type: 'OUTCOME' }],
        [['login-failures-lockout', 'CREDENTIAL_BRUTE_FORCE']],
      ),
      view(6, 'RESTORED', [
        { type: 'BREAK_GLASS', actor: 'reviewer', action: 'LIFT' },
        { type: 'OUTCOME', actor: 'reviewer' },
      ]),
      view(7, null, []),
      { ...view(8, 'UPHELD', []), openedAt: '2026-12-01T00:00:00.000Z' }, // outside the window
    ];
    assert.equal(endingOf(cases[0]!).ending, 'LIFTED_BY_REVIEWER');
    assert.equal(endingOf(cases[1]!).ending, 'LIFTED_BY_VERIFICATION');
    assert.equal(endingOf(cases[4]!).ending, 'SELF_LIFTED');
    assert.deepEqual(endingOf(cases[5]!), { ending: 'LIFTED_BY_REVIEWER', breakGlass: true });
    const r = overturnRates(cases, { from: Date.parse('2026-10-01'), to: Date.parse('2026-11-01') });
    assert.equal(r.cases, 7);
    const im = r.rules.find((x) => x.key === 'identity-mismatch')!;
    assert.equal(im.restrictions, 5);
    assert.equal(im.liftedByReviewer, 2);
    assert.equal(im.breakGlass, 1);
    assert.equal(im.liftedByVerification, 1);
    assert.equal(im.upheld, 1);
    assert.equal(im.open, 1);
    assert.equal(im.decided, 4);
    assert.equal(im.rate, 0.75);
    assert.deepEqual(im.interval, wilson(3, 4));
    const lockout = r.reasons.find((x) => x.key === 'CREDENTIAL_BRUTE_FORCE')!;
    assert.equal(lockout.selfLifted, 1);
    assert.equal(lockout.rate, null);
    assert.equal(r.reasons.find((x) => x.key === 'EXTERNAL_FRAUD_REPORT')!.rate, 0);
    assert.equal(r.overall.decided, 5);
    // The same from an async stream (the archive's pages).
    async function* stream() {
      for (const c of cases) yield c;
    }
    const window = { from: Date.parse('2026-10-01'), to: Date.parse('2026-11-01') };
    return overturnRatesAsync(stream(), window).then((s) => assert.deepEqual(s, r));
  });

  it('shadowCompare returns a disagreement or null', () => {
    const d = (tier: Decision['tier'], rules: [string, string][], version: string): Decision => ({
      tier,
      score: rules.length * 10,
      reasons: rules.map(([ruleId, code]) => ({ ruleId, code: code as never, contribution: 10 })),
      policyVersion: version,
      policyHash: 'h',
      lockout: false,
      verificationAllowed: true,
      unavailableSources: [],
    });
    assert.equal(shadowCompare(d('NONE', [], 'a'), d('NONE', [], 'b')), null);
    assert.equal(
      shadowCompare(
        d('FREEZE', [['x', 'IDENTITY_MISMATCH']], 'a'),
        d('FREEZE', [['y', 'IDENTITY_MISMATCH']], 'b'),
      ),
      null,
    );
    const s = shadowCompare(
      d('NONE', [['r1', 'NEW_DEVICE_LOCATION_JUMP']], 'a'),
      d(
        'STEP_UP',
        [
          ['r1', 'NEW_DEVICE_LOCATION_JUMP'],
          ['r2', 'ACCOUNT_TAKEOVER_SUSPECTED'],
        ],
        'b',
      ),
    )!;
    assert.equal(s.direction, 'STRICTER');
    assert.equal(s.restrictionChanged, true);
    assert.deepEqual(s.rulesOnlyCandidate, ['r2']);
    assert.deepEqual(s.candidateReasons, ['ACCOUNT_TAKEOVER_SUSPECTED', 'NEW_DEVICE_LOCATION_JUMP']);
    assert.equal(shadowCompare(d('FREEZE', [], 'a'), d('LIMIT', [], 'b'))!.direction, 'MILDER');
  });
});
