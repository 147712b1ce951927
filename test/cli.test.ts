// The policy lab's command line, run as a child process (the package bin: cli/cordon) on files in a
// temporary folder.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CaseView } from '../core/contracts';
import { openStore } from '../infra/store';
import type { BacktestReport } from '../lab/backtest';
import { generateEvents } from '../lab/gen';

const ROOT = resolve(__dirname, '..');
const BIN = join(ROOT, 'cli', 'cordon');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'lab');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cordon <args>` (async, so a test's own HTTP server keeps answering meanwhile). */
function cordon(args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd,
        env: { ...process.env, CORDON_DATA_DIR: dataDir, ...env },
        maxBuffer: 1 << 28,
        encoding: 'utf8',
      },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

let dir: string;
let dataDir: string;

describe('cordon command line', function () {
  this.timeout(120_000);

  const defaultPolicy = () => JSON.parse(readFileSync(join(ROOT, 'policy', 'default.json'), 'utf8'));
  const changedPolicy = () => {
    const p = defaultPolicy();
    p.version = 'lab-stricter';
    p.thresholds.STEP_UP = 10; // a new device alone steps up
    p.rules.find((r: { id: string }) => r.id === 'borrow-burst').weight = 50;
    p.tiers.FREEZE.reviewSla = '12h';
    return p;
  };
  const badPolicy = () => {
    const bad = defaultPolicy();
    bad.thresholds.CLOSE = 20;
    bad.rules[0].weight = 'heavy';
    bad.rules[1].eventType = 'LOGON';
    bad.rules[4].when[0].field = 'matches';
    bad.rules[5].id = bad.rules[6].id;
    bad.tiers.FREEZE.reviewSla = 'tomorrow';
    delete bad.lockout;
    return bad;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cordon-cli-'));
    dataDir = join(dir, 'data'); // empty: no case records unless a test writes some
    // The files the tests share (the gen test checks the command line writes the same bytes).
    let events = '';
    for (const item of generateEvents({ accounts: 300, days: 4, seed: '42' }))
      events += `${JSON.stringify(item)}\n`;
    writeFileSync(join(dir, 'events.jsonl'), events);
    writeFileSync(join(dir, 'changed.json'), JSON.stringify(changedPolicy(), null, 2));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(badPolicy()));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('gen', () => {
    it('is reproducible: the same seed gives the same bytes, another seed others; every type and pattern', async () => {
      const a = await cordon(['gen', '--accounts', '300', '--days', '4', '--seed', '42']);
      const b = await cordon(['gen', '--accounts', '300', '--days', '4', '--seed', '42']);
      const c = await cordon(['gen', '--accounts', '300', '--days', '4', '--seed', '43']);
      assert.equal(a.code, 0, a.stderr);
      assert.ok(a.stdout.length > 10_000);
      assert.equal(a.stdout, b.stdout);
      assert.notEqual(a.stdout, c.stdout);
      const items = a.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: { type: string }; label: { fraud: boolean; pattern: string } });
      const types = new Set(items.map((i) => i.event.type));
      assert.equal(types.size, 11, [...types].join());
      const patterns = new Set(items.map((i) => i.label.pattern));
      assert.deepEqual([...patterns].sort(), [
        'account-takeover',
        'data-source-outage',
        'legitimate',
        'many-lender-borrowing',
        'scam-after-borrowing',
      ]);
      assert.equal(
        a.stdout,
        readFileSync(join(dir, 'events.jsonl'), 'utf8'),
        'the same bytes as the generator',
      );
    });
  });

  describe('policy', () => {
    it('validate finds every problem with its path and exits 1; a valid file exits 0', async () => {
      const r = await cordon(['policy', 'validate', join(dir, 'bad.json')]);
      assert.equal(r.code, 1);
      for (const path of [
        'rules.0.weight',
        'rules.1.eventType',
        'tiers.FREEZE.reviewSla',
        'lockout',
        'rules.6.id',
        'rules.4.when.0.field',
      ])
        assert.match(
          r.stdout,
          new RegExp(`^  ${path.replace(/\./g, '\\.')}: `, 'm'),
          `${path} in\n${r.stdout}`,
        );
      const good = await cordon(['policy', 'validate', join(ROOT, 'policy', 'default.json')]);
      assert.equal(good.code, 0, good.stdout + good.stderr);
      assert.match(good.stdout, /valid \(version 2026-11-default-2\)/);
      const missing = await cordon(['policy', 'validate', join(dir, 'nope.json')]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /cannot read/);
    });

    it('diff lists the rules, weights, thresholds and terms that differ, exit 0', async () => {
      writeFileSync(join(dir, 'changed.json'), JSON.stringify(changedPolicy(), null, 2));
      const r = await cordon([
        'policy',
        'diff',
        join(ROOT, 'policy', 'default.json'),
        join(dir, 'changed.json'),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /~ thresholds\.STEP_UP: 30 -> 10/);
      assert.match(r.stdout, /~ rules\.borrow-burst\.weight: 35 -> 50/);
      assert.match(r.stdout, /~ tiers\.FREEZE\.reviewSla: 24h -> 12h/);
      assert.match(r.stdout, /^rules: no change/m);
      const same = await cordon([
        'policy',
        'diff',
        join(ROOT, 'policy', 'default.json'),
        join(ROOT, 'policy', 'default.json'),
      ]);
      assert.equal(same.code, 0);
      assert.match(same.stdout, /0 difference/);
    });
  });

  describe('backtest', () => {
    it('default against a changed policy: prints the difference, writes JSON and a self-contained HTML page', async () => {
      const json = join(dir, 'report.json');
      const html = join(dir, 'report.html');
      const r = await cordon([
        'backtest',
        join(dir, 'events.jsonl'),
        '--against',
        join(dir, 'changed.json'),
        '--json',
        json,
        '--html',
        html,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '', 'no progress line when stderr is not a terminal');
      assert.match(r.stdout, /Difference 2026-11-default-2 -> lab-stricter, event by event/);
      assert.match(r.stdout, /NONE +STEP_UP +\d+/);
      assert.match(
        r.stdout,
        /accounts restricted only by 2026-11-default-2: \d+; only by lab-stricter: [1-9]/,
      );
      const report = JSON.parse(readFileSync(json, 'utf8')) as BacktestReport;
      assert.equal(report.policy.version, '2026-11-default-2');
      assert.equal(report.against!.version, 'lab-stricter');
      assert.ok(report.diff!.changedEvents > 0);
      assert.ok(report.diff!.accounts.onlyAgainst > 0);
      assert.ok(report.against!.tiers.STEP_UP > report.policy.tiers.STEP_UP);
      const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').length;
      assert.equal(report.events, lines);
      const page = readFileSync(html, 'utf8');
      assert.match(page, /^<!doctype html>/);
      assert.match(page, /<svg/);
      assert.match(page, /<style>/);
      assert.doesNotMatch(page, /https?:\/\//, 'no reference to anything on a network');
      assert.doesNotMatch(page, /<script|<link|src=/);
      assert.match(page, /Precision per rule/);
      assert.match(page, /lab-stricter/);
    });

    it('worker threads sharing the accounts give the same report as one thread', async () => {
      const args = ['backtest', join(dir, 'events.jsonl'), '--against', join(dir, 'changed.json')];
      const one = await cordon([...args, '--threads', '1', '--json', join(dir, 't1.json')]);
      const two = await cordon([...args, '--threads', '2', '--json', join(dir, 't2.json')]);
      assert.equal(one.code, 0, one.stderr);
      assert.equal(two.code, 0, two.stderr);
      const read = (f: string) => {
        const {
          elapsedMs: _e,
          eventsPerSecond: _r,
          ...rest
        } = JSON.parse(readFileSync(join(dir, f), 'utf8')) as BacktestReport;
        return rest;
      };
      assert.deepEqual(read('t2.json'), read('t1.json'));
    });

    it('shows a progress line (count, rate, time left) when stderr is a terminal', function () {
      if (spawnSync('script', ['--version']).status !== 0) this.skip(); // util-linux's script gives a terminal
      const command = `"${process.execPath}" "${BIN}" backtest "${join(dir, 'events.jsonl')}" > /dev/null`;
      const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /\r[\d,]+ lines, [\d,]+\/s, [\d.]+%, \S+ left/);
    });

    it('counts malformed lines and lists them with their numbers, exit 0', async () => {
      const good = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').slice(0, 5);
      const file = join(dir, 'mixed.jsonl');
      writeFileSync(
        file,
        [
          good[0],
          '{broken',
          good[1],
          '{"eventId":"x","accountId":"a","type":"LOGIN","occurredAt":"yesterday","attributes":{}}',
          '',
          '{"event":{"eventId":"y","accountId":"a","type":"NOPE"},"label":{"fraud":false}}',
          good[2],
        ].join('\r\n') + '\r\n',
      );
      const r = await cordon(['backtest', file, '--json', join(dir, 'mixed.json')]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /events 3 of 7 lines; malformed 3/);
      assert.match(r.stdout, /line 2: not JSON/);
      assert.match(r.stdout, /line 4: .*occurredAt: .*attributes\.newDevice: required/);
      assert.match(r.stdout, /line 6: event\.type: /);
      const report = JSON.parse(readFileSync(join(dir, 'mixed.json'), 'utf8')) as BacktestReport;
      assert.deepEqual(
        report.malformed.listed.map((m) => m.line),
        [2, 4, 6],
      );
    });

    it('exits 1 when the file or a policy cannot be read', async () => {
      const missing = await cordon(['backtest', join(dir, 'missing.jsonl')]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /cannot read .*missing\.jsonl/);
      const folder = await cordon(['backtest', dir]);
      assert.equal(folder.code, 1);
      const badPolicy = await cordon([
        'backtest',
        join(dir, 'events.jsonl'),
        '--against',
        join(dir, 'bad.json'),
      ]);
      assert.equal(badPolicy.code, 1);
      assert.match(badPolicy.stderr, /invalid policy/);
    });

    it('precision and recall on a hand-built labelled file equal the hand-computed values', async () => {
      const r = await cordon([
        'backtest',
        join(FIXTURES, 'labelled.jsonl'),
        '--json',
        join(dir, 'labelled.json'),
      ]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(readFileSync(join(dir, 'labelled.json'), 'utf8')) as BacktestReport;
      assert.deepEqual(report.labelled, {
        events: 7,
        fraud: 3,
        legitimate: 4,
        patterns: { 'account-takeover': 2, legitimate: 4, 'many-lender-borrowing': 1 },
      });
      // l1 TP, l2 FP (identity mismatch, FREEZE); l3 TP, l4 and l5 FP (multi-lender, LIMIT); l6 FN; l7 TN.
      assert.deepEqual(report.policy.overall, {
        truePositives: 2,
        falsePositives: 3,
        falseNegatives: 1,
        trueNegatives: 1,
        precision: 0.4,
        recall: 2 / 3,
      });
      const rule = (id: string) => report.policy.rules.find((x) => x.ruleId === id)!;
      assert.equal(rule('identity-mismatch').precision, 0.5);
      assert.equal(rule('identity-mismatch').recall, 1 / 3);
      assert.equal(rule('credit-multi-lender').precision, 1 / 3);
      assert.equal(rule('credit-multi-lender').recall, 1 / 3);
      assert.equal(rule('credit-multi-lender').contribution, 165);
      assert.match(r.stdout, /identity-mismatch +IDENTITY_MISMATCH +2 +100 +50\.0% +33\.3%/);
    });
  });

  describe('whatif', () => {
    it('prints a forecast row per day and where each parameter came from', async () => {
      const r = await cordon([
        'whatif',
        join(dir, 'events.jsonl'),
        '--policy',
        join(ROOT, 'policy', 'default.json'),
        '--against',
        join(dir, 'changed.json'),
        '--reviewers',
        '2',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^reviewers +2 +option$/m);
      assert.match(r.stdout, /^passRate +0\.6 +default \(no case records available\)$/m);
      for (const day of ['2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04'])
        assert.match(r.stdout, new RegExp(`^${day} +\\d`, 'm'));
      assert.match(r.stdout, /What-if: .*default\.json \(policy 2026-11-default-2\)/);
      assert.match(r.stdout, /What-if: .*changed\.json \(policy lab-stricter\)/);
      assert.match(r.stdout, /reviewers needed/);
      assert.match(r.stdout, /SLA breaches with 2 reviewers/);
    });

    it("reads the lifecycle parameters from the case records in Cordon's database", async () => {
      const data = join(dir, 'data-with-cases');
      const store = await openStore({ sqliteFile: join(data, 'cordon.sqlite') });
      const at = (m: number) => new Date(Date.UTC(2026, 9, 1, 10, m)).toISOString();
      for (let i = 0; i < 12; i++) {
        const view = {
          caseId: `acct-${i}.0123456789ab`,
          accountId: `acct-${i}`,
          tier: 'FREEZE',
          openedAt: at(0),
          outcome: 'RESTORED',
          reasons: [],
          timeline: [
            { at: at(0), type: 'RISK_EVENT', actor: { kind: 'backend', id: 'b' } },
            { at: at(1), type: 'VERIFICATION', actor: { kind: 'user', id: 'u' }, passed: i % 4 === 0 },
            { at: at(5), type: 'CLAIM', actor: { kind: 'reviewer', id: 'r1' } },
            { at: at(20), type: 'DECISION', actor: { kind: 'reviewer', id: 'r1' }, decision: 'UNLOCK' },
          ],
        } as unknown as CaseView;
        await store.archive.record(view, [], [], 86_400_000);
      }
      await store.db.close();
      const r = await cordon(
        ['whatif', join(dir, 'events.jsonl'), '--policy', join(ROOT, 'policy', 'default.json')],
        {
          CORDON_DATA_DIR: data,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^passRate +0\.25 +database \(case records in the database, n=12\)$/m);
      assert.match(r.stdout, /^reviewMinutes +15 +database/m);
      assert.match(r.stdout, /^reviewers +1 +database/m);
    });
  });

  describe('simulate', () => {
    it('prints what npm run simulate prints for the same event', async () => {
      const fixture = join(FIXTURES, 'event.json');
      const r = await cordon(['simulate', fixture]);
      assert.equal(r.code, 0, r.stderr);
      const npm = spawnSync('npm', ['run', '--silent', 'simulate', '--', readFileSync(fixture, 'utf8')], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.equal(npm.status, 0, npm.stderr);
      assert.equal(r.stdout, npm.stdout);
      const decision = (JSON.parse(r.stdout) as { decision: { tier: string } }).decision;
      assert.equal(decision.tier, 'STEP_UP');
      writeFileSync(join(dir, 'bad-event.json'), '{"type":"LOGIN"}');
      const bad = await cordon(['simulate', join(dir, 'bad-event.json')]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^eventId: /m);
    });
  });

  describe('report', () => {
    let server: Server;
    let url: string;
    const seen: { path: string; auth?: string }[] = [];
    before(async () => {
      server = createServer((req, res) => {
        seen.push({
          path: req.url!,
          ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
        });
        if (req.headers.authorization !== 'Bearer analyst-token') {
          res.writeHead(401, { 'content-type': 'application/problem+json' });
          res.end(JSON.stringify({ title: 'Unauthorized', code: 'UNAUTHORIZED' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        if (req.url!.startsWith('/v1/reports/overturns'))
          res.end(
            JSON.stringify({
              window: { from: '2026-10-01T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z' },
              cases: 4,
              overall: {
                key: '(all)',
                restrictions: 4,
                decided: 4,
                liftedByReviewer: 1,
                liftedByVerification: 1,
                breakGlass: 0,
                upheld: 2,
                closed: 0,
                selfLifted: 0,
                retracted: 0,
                open: 0,
                overturned: 2,
                rate: 0.5,
                interval: { low: 0.15, high: 0.85 },
              },
              rules: [
                {
                  key: 'identity-mismatch',
                  restrictions: 4,
                  decided: 4,
                  liftedByReviewer: 1,
                  liftedByVerification: 1,
                  breakGlass: 0,
                  upheld: 2,
                  closed: 0,
                  selfLifted: 0,
                  retracted: 0,
                  open: 0,
                  overturned: 2,
                  rate: 0.5,
                  interval: { low: 0.15, high: 0.85 },
                },
              ],
              reasons: [],
            }),
          );
        else
          res.end(
            JSON.stringify({
              days: [
                {
                  day: '2026-10-01',
                  liveVersion: 'live',
                  candidateVersion: 'cand',
                  scored: 10,
                  disagreements: 2,
                },
              ],
              transitions: [{ liveTier: 'NONE', candidateTier: 'STEP_UP', count: 2 }],
              latest: [
                {
                  at: 0,
                  accountId: 'acct-1',
                  eventId: 'e1',
                  eventType: 'LOGIN',
                  liveTier: 'NONE',
                  candidateTier: 'STEP_UP',
                  liveScore: 10,
                  candidateScore: 10,
                  liveReasons: [],
                  candidateReasons: ['NEW_DEVICE_LOCATION_JUMP'],
                },
              ],
            }),
          );
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('overturns and shadow call the API with the bearer token and print tables', async () => {
      const o = await cordon(
        ['report', 'overturns', '--url', url, '--from', '2026-10-01', '--to', '2026-11-01'],
        {
          CORDON_TOKEN: 'analyst-token',
        },
      );
      assert.equal(o.code, 0, o.stderr);
      assert.equal(
        seen.at(-1)!.path,
        '/v1/reports/overturns?from=2026-10-01T00%3A00%3A00.000Z&to=2026-11-01T00%3A00%3A00.000Z',
      );
      assert.match(o.stdout, /overall 50\.0% \(15\.0%-85\.0%\)/);
      assert.match(o.stdout, /identity-mismatch +4 +4 +1 +1 +2 +50\.0% +15\.0%-85\.0%/);
      const s = await cordon(['report', 'shadow', '--url', url], { CORDON_TOKEN: 'analyst-token' });
      assert.equal(s.code, 0, s.stderr);
      assert.equal(seen.at(-1)!.path, '/v1/reports/shadow');
      assert.match(s.stdout, /10 events scored by the candidate, 2 disagreements \(20\.0%\)/);
      assert.match(s.stdout, /NONE +STEP_UP +2/);
      const denied = await cordon(['report', 'shadow', '--url', url], { CORDON_TOKEN: 'wrong' });
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /answered 401: UNAUTHORIZED: Unauthorized/);
      const noToken = await cordon(['report', 'shadow', '--url', url], { CORDON_TOKEN: '' });
      assert.equal(noToken.code, 1);
      assert.match(noToken.stderr, /CORDON_TOKEN/);
    });
  });

  it('runs as `npx cordon` through the package bin', () => {
    const r = spawnSync('npx', ['cordon', '--help'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /backtest/);
    assert.match(r.stdout, /whatif/);
  });
});
