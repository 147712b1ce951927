// The speed figures of `npm run bench`: Cordon's API with the default policy and with the default policy plus
// four features, next to the floors measured in the same run (an update-with-start for the restricting path, a
// bare node:http server for the hot paths), each series measured in alternation with the others.
import type { Client } from '@temporalio/client';
import type { RunningApi } from '../../api/main';
import { caseWorkflowId } from '../../core/contracts';
import { envValue } from '../../infra/config-schema';
import { caseStatsQuery } from '../../workflows/definitions';
import type { BareServer } from './bare-server';
import type { CordonClient } from './cordon';
import { combine, drive, driveOnThread, type Run, type ThreadLoad } from './load';
import type { Options } from './options';
import {
  absolute,
  p50,
  p95,
  p99,
  round,
  rssMb,
  summary,
  vsFloor,
  type Figure,
  type Progress,
} from './report';

export interface Side {
  client: CordonClient;
  api: RunningApi;
  /** The policy it runs, for the notes. */
  policy: string;
}

export interface SpeedSetup {
  o: Options;
  progress: Progress;
  run: string;
  /** The update-with-start floor: one operation. */
  floorOp: (i: number) => Promise<unknown>;
  temporal: Client;
  bare: BareServer;
  base: Side;
  features: Side;
}

export interface SpeedOutput {
  figures: Figure[];
  notes: string[];
  /** Whether the API computed the policy's features (its probe's fifth failed login in 10 minutes scored). */
  featuresLive: boolean;
  series: Record<string, ReturnType<typeof summary>>;
}

const G9 = 'issue 9 targets (default policy)';
const G19 = 'issue 19 targets (default policy + 4 features)';

/**
 * Runs every series in `rounds` rounds, each round taking its share of every series, the order reversed from one
 * round to the next; each series' rounds are then one run.
 */
async function inRounds<K extends string>(
  rounds: number,
  series: [K, (round: number) => Promise<Run>][],
  progress: Progress,
  label: (key: K) => string,
): Promise<Record<K, Run>> {
  const runs = new Map<K, Run[]>(series.map(([k]) => [k, []]));
  for (let r = 0; r < rounds; r++)
    for (const [key, go] of r % 2 ? [...series].reverse() : series) {
      progress.phase(`${label(key)}${rounds > 1 ? ` (round ${r + 1} of ${rounds})` : ''}`);
      runs.get(key)!.push(await go(r));
    }
  return Object.fromEntries([...runs].map(([k, rs]) => [k, combine(rs)])) as Record<K, Run>;
}

/** Sequential samples of each operation, taken in turn (the first to go rotating), so drift falls on all alike. */
async function interleaved<K extends string>(
  n: number,
  ops: [K, (i: number) => Promise<unknown>][],
  progress: Progress,
): Promise<Record<K, Run>> {
  const latencies = new Map<K, number[]>(ops.map(([k]) => [k, []]));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < ops.length; j++) {
      const [key, op] = ops[(i + j) % ops.length]!;
      const s = performance.now();
      await op(i);
      latencies.get(key)!.push(performance.now() - s);
    }
    progress.tick(i + 1, n);
  }
  return Object.fromEntries(
    [...latencies].map(([k, l]) => [
      k,
      { latencies: l, perSecond: l.length / (l.reduce((a, b) => a + b, 0) / 1000) },
    ]),
  ) as Record<K, Run>;
}

export async function speedFigures(s: SpeedSetup): Promise<SpeedOutput> {
  const { o, progress, run, floorOp, base, features, bare } = s;
  const n = o.n;
  const c = o.concurrency;
  const sides = [base, features];
  progress.phase('warming up');
  await drive(10, 1, floorOp);
  for (const side of sides) await drive(10, 1, (i) => side.client.freeze(side.client.account('warm', i), i));
  for (const url of [bare.url, base.client.url, features.client.url])
    for (const kind of ['harmless', 'check'] as const)
      await driveOnThread({ base: url, run: `${run}-warm`, kind, n: 400, concurrency: c, entities: true });

  // The restricting path: every event opens a case for a fresh account and freezes it before the answer.
  progress.phase('restricting events, sequential (the floor, default policy, with features, in turn)');
  const restricted: string[] = [];
  const freezeOn = (side: Side, kind: string) => (i: number) => {
    const account = side.client.account(kind, i);
    if (kind === 'seq') restricted.push(account);
    return side.client.freeze(account, i);
  };
  const seq = await interleaved(
    n,
    [
      ['floor', floorOp],
      ['base', freezeOn(base, 'seq')],
      ['features', freezeOn(features, 'seq')],
    ],
    progress,
  );
  const m = Math.ceil((n * 2) / o.rounds);
  const ofFloor = (name: string) => (name === 'floor' ? 'the floor' : name);
  const par = await inRounds(
    o.rounds,
    [
      ['floor', () => drive(m, c, floorOp, progress)],
      ['default policy', () => drive(m, c, freezeOn(base, 'par'), progress)],
      ['with features', () => drive(m, c, freezeOn(features, 'par'), progress)],
    ],
    progress,
    (k) => `restricting events, ${c} concurrent: ${ofFloor(k)}`,
  );

  // The hot paths, which must not touch Temporal: harmless events for accounts without a case, restriction checks.
  const hot = Math.max(2_000, n * 20);
  const h = Math.ceil(hot / o.rounds);
  const calls = new Map<string, number>();
  const onThread = (
    key: string,
    side: Side | undefined,
    load: Omit<ThreadLoad, 'base' | 'run' | 'concurrency'>,
  ) => {
    return async (r: number) => {
      const before = side?.api.temporalCalls() ?? 0;
      const result = await driveOnThread(
        {
          ...load,
          base: side?.client.url ?? bare.url,
          run: `${run}-${key.replace(/\W+/g, '')}-${r}`,
          concurrency: c,
          entities: true,
        },
        progress,
      );
      calls.set(key, (calls.get(key) ?? 0) + (side?.api.temporalCalls() ?? 0) - before);
      return result;
    };
  };
  const harmless = { kind: 'harmless' as const, n: h };
  const check = { kind: 'check' as const, n: h * 2, restricted };
  const hp = await inRounds(
    o.rounds,
    [
      ['bare POST', onThread('bare POST', undefined, harmless)],
      ['harmless, default policy', onThread('harmless, default policy', base, harmless)],
      ['harmless, with features', onThread('harmless, with features', features, harmless)],
      ['bare GET', onThread('bare GET', undefined, check)],
      ['checks, default policy', onThread('checks, default policy', base, check)],
      ['checks, with features', onThread('checks, with features', features, check)],
    ],
    progress,
    (k) =>
      k.startsWith('bare')
        ? `bare node:http server (${k.slice(5)}), ${c} concurrent`
        : `${k.replace('harmless', 'harmless events').replace('checks', 'restriction checks')}, ${c} concurrent`,
  );

  // One open case under a stream of harmless events: latency early and late, and what the case carries.
  const busy = base.client.account('busy', 0);
  await base.client.freeze(busy);
  progress.phase('harmless events into one open case');
  const early = await drive(30, 1, () => base.client.harmless(busy));
  const many = envValue('BENCH_HARMLESS');
  await drive(many, 5, () => base.client.harmless(busy), progress);
  const late = await drive(30, 1, () => base.client.harmless(busy));
  const stats = await s.temporal.workflow.getHandle(caseWorkflowId(busy)).query(caseStatsQuery);

  // Does the API compute features yet? Five failed logins for one account: the fifth within 10 minutes meets
  // the rule on feature.failedLogins10m (STEP_UP) only if the live path counted the four before it.
  progress.phase('probing whether the API computes features');
  const probe = features.client.account('probe', 0);
  let lastTier = 'NONE';
  for (let i = 0; i < 5; i++) lastTier = (await features.client.failedLogin(probe)).decision.tier;
  const featuresLive = lastTier !== 'NONE';

  const uws = (r: Run, at: (r: Run) => number) => ({ value: at(r), name: 'update-with-start' });
  const bareFloor = (r: Run, at: (r: Run) => number) => ({ value: at(r), name: 'node:http' });
  const rate = (r: Run) => r.perSecond;
  const figures: Figure[] = [
    vsFloor(G9, 'restricting event, sequential p50', 'ms', uws(seq.floor, p50), p50(seq.base), 1.3, true),
    vsFloor(
      G9,
      `restricting events/s, ${c} concurrent`,
      '/s',
      uws(par.floor, rate),
      rate(par['default policy']),
      0.8,
      false,
    ),
    absolute(
      G9,
      'harmless event (no case) p99',
      'ms',
      p99(hp['harmless, default policy']),
      10,
      true,
      bareFloor(hp['bare POST'], p99),
    ),
    absolute(
      G9,
      `harmless events/s, ${c} concurrent`,
      '/s',
      rate(hp['harmless, default policy']),
      1_000,
      false,
      bareFloor(hp['bare POST'], rate),
    ),
    absolute(
      G9,
      'harmless events: calls to Temporal',
      'calls',
      calls.get('harmless, default policy')!,
      0,
      true,
    ),
    absolute(
      G9,
      `restriction checks/s, ${c} concurrent`,
      '/s',
      rate(hp['checks, default policy']),
      3_000,
      false,
      bareFloor(hp['bare GET'], rate),
    ),
    absolute(
      G9,
      'restriction check p99',
      'ms',
      p99(hp['checks, default policy']),
      5,
      true,
      bareFloor(hp['bare GET'], p99),
    ),
    absolute(
      G9,
      'restriction checks: calls to Temporal',
      'calls',
      calls.get('checks, default policy')!,
      0,
      true,
    ),

    vsFloor(
      G19,
      `harmless events/s, ${c} concurrent`,
      '/s',
      bareFloor(hp['bare POST'], rate),
      rate(hp['harmless, with features']),
      0.6,
      false,
    ),
    vsFloor(
      G19,
      'harmless event (no case) p99',
      'ms',
      bareFloor(hp['bare POST'], p99),
      p99(hp['harmless, with features']),
      2,
      true,
    ),
    absolute(
      G19,
      'harmless events: calls to Temporal',
      'calls',
      calls.get('harmless, with features')!,
      0,
      true,
    ),
    vsFloor(
      G19,
      `restriction checks/s, ${c} concurrent`,
      '/s',
      bareFloor(hp['bare GET'], rate),
      rate(hp['checks, with features']),
      0.8,
      false,
    ),
    vsFloor(
      G19,
      'restriction check p99',
      'ms',
      bareFloor(hp['bare GET'], p99),
      p99(hp['checks, with features']),
      2,
      true,
    ),
    absolute(
      G19,
      'restriction checks: calls to Temporal',
      'calls',
      calls.get('checks, with features')!,
      0,
      true,
    ),
    vsFloor(
      G19,
      'restricting event, sequential p50',
      'ms',
      uws(seq.floor, p50),
      p50(seq.features),
      1.2,
      true,
    ),
    vsFloor(
      G19,
      `restricting events/s, ${c} concurrent`,
      '/s',
      uws(par.floor, rate),
      rate(par['with features']),
      0.8,
      false,
    ),
    vsFloor(
      G19,
      "features' cost: harmless events/s",
      '/s',
      { value: rate(hp['harmless, default policy']), name: 'default policy' },
      rate(hp['harmless, with features']),
      0.85,
      false,
    ),
  ];
  const line = (name: string, r: Run) =>
    `${name}: ${round(r.perSecond)}/s, p50 ${round(p50(r))} ms, p95 ${round(p95(r))} ms, p99 ${round(p99(r))} ms over ${r.latencies.length}`;
  return {
    figures,
    featuresLive,
    series: {
      'restricting sequential: floor': summary(seq.floor),
      'restricting sequential: default policy': summary(seq.base),
      'restricting sequential: with features': summary(seq.features),
      ...Object.fromEntries(
        Object.entries(par).map(([k, r]) => [`restricting ${c} concurrent: ${k}`, summary(r)]),
      ),
      ...Object.fromEntries(Object.entries(hp).map(([k, r]) => [`${k}, ${c} concurrent`, summary(r)])),
    },
    notes: [
      `policies: default ${base.policy}; with features ${features.policy}`,
      featuresLive
        ? `features: live (the probe's fifth failed login in 10 minutes scored ${lastTier}), so the figures with features include the feature work`
        : 'features: NOT computed by the API yet (the probe\'s fifth failed login in 10 minutes scored NONE): the figures "with features" measure the same path as the default policy, entities validated and dropped',
      `measured in ${o.rounds} round(s), each series taking its share in turn, the order reversed each round; sequential samples taken in turn`,
      line('restricting, sequential: floor', seq.floor),
      line('restricting, sequential: default policy', seq.base),
      line('restricting, sequential: with features', seq.features),
      ...Object.entries(par).map(([k, r]) => line(`restricting, ${c} concurrent: ${k}`, r)),
      ...Object.entries(hp).map(([k, r]) =>
        line(k.startsWith('bare') ? `floor for the hot paths, node:http ${k.slice(5)}` : k, r),
      ),
      `the node:http floor: a plain server on the API's event loop that checks the bearer token, parses the JSON body and answers JSON, driven by the same load thread with the same events`,
      `harmless event into one open case: p50 ${round(p50(early))} ms for the first 30, ${round(p50(late))} ms after ${many} more; the case carries ${stats.carriedBytes} bytes, ${stats.timelineEntries} timeline entries, ${stats.seenEvents} remembered event IDs`,
      `process RSS (worker + two APIs + floor worker + bare server + load generator thread): ${round(rssMb())} MB`,
    ],
  };
}
