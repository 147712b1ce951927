// `npm run bench-lab`: the backtest's throughput (events/s) against json-rules-engine evaluating the same
// rules on the same events. Both start from the same JSONL lines in memory and parse them; Cordon's side also
// validates each event, scores it with the live scorer and aggregates the report. json-rules-engine only
// evaluates the rules (each policy rule becomes an engine rule: same conditions, same event type; the
// weights, thresholds and hard rules are then summed exactly as the scorer does). Then the real command line
// on a file, end to end. Prints measured figures; asserts nothing (BENCH_LAB_EVENTS, BENCH_LAB_JRE_EVENTS).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Engine, type RuleProperties } from 'json-rules-engine';
import { isMoreSevere, type Tier } from '../core/model';
import type { Condition, LoadedPolicy } from '../core/policy';
import { scoreEvent, tierForScore } from '../core/scoring';
import { envValue } from '../infra/config-schema';
import { loadPolicy } from '../infra/policy-loader';
import { Backtest } from '../lab/backtest';
import { generateEvents } from '../lab/gen';

const OPS: Record<string, string> = {
  eq: 'equal',
  ne: 'notEqual',
  gt: 'greaterThan',
  gte: 'greaterThanInclusive',
  lt: 'lessThan',
  lte: 'lessThanInclusive',
};

function engineFor(loaded: LoadedPolicy): Engine {
  const engine = new Engine([], { allowUndefinedFacts: true });
  // "field op ref * factor": a custom operator per op and factor, the value being the other fact.
  const refOps = new Set<string>();
  const condition = (c: Condition) => {
    if ('ref' in c) {
      const name = `${c.op}*${c.factor}`;
      if (!refOps.has(name)) {
        refOps.add(name);
        const cmp = {
          gt: (a: number, b: number) => a > b,
          gte: (a: number, b: number) => a >= b,
          lt: (a: number, b: number) => a < b,
          lte: (a: number, b: number) => a <= b,
        }[c.op];
        engine.addOperator<number, number>(
          name,
          (a, b) => typeof a === 'number' && typeof b === 'number' && cmp(a, b * c.factor),
        );
      }
      return { fact: c.field, operator: name, value: { fact: c.ref } };
    }
    return { fact: c.field, operator: OPS[c.op]!, value: c.value };
  };
  // A condition on a missing fact does not hold in either (allowUndefinedFacts: an undefined fact compares false).
  for (const rule of loaded.policy.rules) {
    const conditions: RuleProperties['conditions'] = {
      all: [
        ...(rule.eventType === '*' ? [] : [{ fact: 'type', operator: 'equal', value: rule.eventType }]),
        ...rule.when.map(condition),
      ],
    };
    engine.addRule({ name: rule.id, conditions, event: { type: rule.id, params: { weight: rule.weight } } });
  }
  return engine;
}

function lines(n: number): string[] {
  const out: string[] = [];
  for (const item of generateEvents({
    accounts: Math.max(100, Math.ceil(n / 24)),
    days: 30,
    seed: 'bench',
  })) {
    out.push(JSON.stringify(item));
    if (out.length >= n) break;
  }
  return out;
}

async function main(): Promise<void> {
  const loaded = loadPolicy(resolve(__dirname, '..', 'policy', 'default.json'));
  const n = envValue('BENCH_LAB_EVENTS');
  const nJre = envValue('BENCH_LAB_JRE_EVENTS');
  const data = lines(n);
  process.stdout.write(
    `Cordon policy lab benchmark: ${data.length} events (json-rules-engine: the first ${nJre})\n`,
  );

  // Cordon: parse, validate, score (the live scorer), aggregate.
  const cordonRate = (() => {
    new Backtest({ policy: loaded }).addLine(data[0]!, 1); // warm the modules
    const bt = new Backtest({ policy: loaded });
    const cpu = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < data.length; i++) bt.addLine(data[i]!, i + 1);
    const report = bt.report();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(cpu);
    if (report.events !== data.length) throw new Error('events lost');
    return { wall: data.length / s, cpu: data.length / ((c.user + c.system) / 1e6) };
  })();

  // json-rules-engine: parse, evaluate the rules, sum weights and hard rules to a tier as the scorer does.
  const engine = engineFor(loaded);
  const rulesById = new Map(loaded.policy.rules.map((r) => [r.id, r]));
  let mismatches = 0;
  const subset = data.slice(0, nJre);
  const t0 = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (const line of subset) {
    const { event } = JSON.parse(line) as { event: { type: string; attributes: Record<string, unknown> } };
    const { events } = await engine.run({ type: event.type, ...event.attributes });
    let score = 0;
    const matched = events.map((e) => rulesById.get(e.type)!);
    for (const r of matched) score += r.weight;
    let tier: Tier = tierForScore(loaded.policy.thresholds, score);
    for (const r of matched) if (r.minTier && isMoreSevere(r.minTier, tier)) tier = r.minTier;
    if (tier !== scoreEvent(loaded, event as never).tier) mismatches++;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(cpu);
  // The check against the scorer is inside the timed loop: take its own cost out.
  const t1 = process.hrtime.bigint();
  for (const line of subset) scoreEvent(loaded, (JSON.parse(line) as { event: never }).event);
  const check = Number(process.hrtime.bigint() - t1) / 1e9;
  const jre = {
    wall: subset.length / Math.max(s - check, 1e-9),
    cpu: subset.length / ((c.user + c.system) / 1e6),
  };

  const row = (name: string, r: { wall: number; cpu: number }) =>
    `  ${name.padEnd(44)} ${Math.round(r.wall).toLocaleString('en-US').padStart(10)} events/s  (${Math.round(r.cpu).toLocaleString('en-US')} per CPU-second)\n`;
  process.stdout.write(row('cordon backtest (in process)', cordonRate));
  process.stdout.write(row('json-rules-engine, same rules and events', jre));
  process.stdout.write(
    `  ratio (wall)                                 ${(cordonRate.wall / jre.wall).toFixed(1)}x\n`,
  );
  process.stdout.write(
    `  json-rules-engine tiers differing from the scorer: ${mismatches} of ${subset.length}\n`,
  );

  // End to end: the command line on a file (start-up included).
  const dir = mkdtempSync(join(tmpdir(), 'cordon-bench-lab-'));
  try {
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, data.join('\n') + '\n');
    for (const threads of ['1', '2']) {
      const out = execFileSync(
        process.execPath,
        [resolve(__dirname, '..', 'cli', 'cordon'), 'backtest', file, '--threads', threads],
        { encoding: 'utf8' },
      );
      process.stdout.write(
        `  cordon backtest FILE --threads ${threads} (end to end): ${out.split('\n')[0]}\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
