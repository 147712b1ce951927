// The policy lab's command line: `npx cordon <command>` (see docs/policy-and-lab.md, "The policy lab").
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { caseTermsOf, type Policy } from '../core/policy';
import { generateEvents } from '../lab/gen';
import { formatBacktest, formatParameters, formatPolicyDiff, formatWhatIf } from '../lab/format';
import { renderHtml } from '../lab/html';
import { changeCount, diffPolicies, policyProblems } from '../lab/policy-tools';
import {
  forecast,
  observeParameters,
  openedPerDay,
  resolveParameters,
  withGuards,
  type LifecycleParameters,
} from '../lab/whatif';
import { CliError, parseNumber, policyPath, readJsonFile, readPolicy, write } from './io';
import { runBacktest } from './run-backtest';
import { simulate } from './simulate';
import { report } from './report';
import { auditCommand } from './audit';
import { parseConfig } from '../infra/config';
import { envDefault, envValue } from '../infra/config-schema';
import { openStore } from '../infra/store';

const program = new Command();
program
  .name('cordon')
  .description(
    "Cordon's policy lab: validate and diff policies, simulate, generate, backtest, forecast, report; verify audit exports",
  )
  .showHelpAfterError();

const policyCmd = program.command('policy').description('validate or compare policy files');

policyCmd
  .command('validate')
  .argument('<file>', 'policy JSON file')
  .description('check a policy file; every problem with its path (exit 1 when there are problems)')
  .action((file: string) => {
    const raw = readJsonFile(file);
    // Feature windows may not outlast the deployment's event-ID window: its CORDON_EVENT_ID_DAYS when set.
    const problems = policyProblems(raw, { eventIdDays: envValue('CORDON_EVENT_ID_DAYS') });
    if (problems.length === 0) {
      process.stdout.write(`${file}: valid (version ${(raw as Policy).version})\n`);
      return;
    }
    process.stdout.write(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
    for (const p of problems) process.stdout.write(`  ${p.path}: ${p.message}\n`);
    process.exitCode = 1;
  });

policyCmd
  .command('diff')
  .argument('<a>', 'policy file')
  .argument('<b>', 'policy file')
  .option('--json', 'print the differences as JSON')
  .description('rules, weights, thresholds and terms that differ from A to B (exit 0 whatever differs)')
  .action((a: string, b: string, o: { json?: boolean }) => {
    const pa = readPolicy(a).policy;
    const pb = readPolicy(b).policy;
    const diff = diffPolicies(pa, pb);
    if (o.json) process.stdout.write(`${JSON.stringify(diff, null, 2)}\n`);
    else process.stdout.write(formatPolicyDiff(diff) + `${changeCount(diff)} difference(s)\n`);
  });

program
  .command('simulate')
  .argument('<event>', 'a JSON file with one risk event, as POST /v1/risk-events takes it ("-": stdin)')
  .option('--policy <file>', 'policy file (default: CORDON_POLICY_FILE or policy/default.json)')
  .description('score one event and print the decision, with no effect (as npm run simulate)')
  .action(async (eventFile: string, o: { policy?: string }) => {
    const policy = readPolicy(policyPath(o.policy));
    let text: string;
    try {
      text = readFileSync(eventFile === '-' ? 0 : eventFile, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${eventFile}: ${(err as Error).message}`);
    }
    const result = await simulate(text, policy);
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.exitCode;
  });

program
  .command('gen')
  .description('a reproducible labelled synthetic event stream, as JSONL on stdout')
  .requiredOption('--accounts <n>', 'number of accounts', parseNumber('accounts', 1, 1e8, true))
  .requiredOption('--days <d>', 'number of days', parseNumber('days', 1, 3650, true))
  .option('--seed <s>', 'seed: the same seed gives the same bytes', '1')
  .option('--start <date>', 'first day (UTC)', '2026-10-01')
  .option(
    '--events-per-day <x>',
    'mean background events per account and day',
    parseNumber('events-per-day', 0.001, 1000),
    0.8,
  )
  .option(
    '--entities',
    'devices, IPs, payees, lenders and card tokens on the events, and the patterns they show (device farm, mule payee, credential stuffing)',
  )
  .action(
    async (o: {
      accounts: number;
      days: number;
      seed: string;
      start: string;
      eventsPerDay: number;
      entities?: boolean;
    }) => {
      const start = /^\d{4}-\d{2}-\d{2}$/.test(o.start) ? `${o.start}T00:00:00Z` : o.start;
      if (Number.isNaN(Date.parse(start))) throw new CliError(`--start: not a date: ${o.start}`);
      const out = process.stdout;
      let chunk = '';
      for (const item of generateEvents({
        accounts: o.accounts,
        days: o.days,
        seed: o.seed,
        start,
        eventsPerDay: o.eventsPerDay,
        ...(o.entities ? { entities: true } : {}),
      })) {
        chunk += `${JSON.stringify(item)}\n`;
        if (chunk.length > 1 << 16) {
          await write(out, chunk);
          chunk = '';
        }
      }
      if (chunk) await write(out, chunk);
    },
  );

interface BacktestCliOptions {
  policy?: string;
  against?: string;
  json?: string;
  html?: string;
  listMalformed: number;
  examples: number;
  threads?: number;
}

program
  .command('backtest')
  .argument(
    '<events>',
    'JSONL file: one event per line, or {"event": ..., "label": {"fraud": bool, "pattern": "..."}}',
  )
  .option('--policy <file>', 'policy file (default: CORDON_POLICY_FILE or policy/default.json)')
  .option('--against <file>', 'a second policy to compare with, event by event')
  .option('--json <file>', 'write the report as JSON')
  .option('--html <file>', 'write the report as a self-contained HTML page')
  .option(
    '--list-malformed <n>',
    'how many malformed lines to list (all are counted)',
    parseNumber('list-malformed', 0, 1e6, true),
    20,
  )
  .option(
    '--examples <n>',
    'how many examples of differences to keep',
    parseNumber('examples', 0, 1000, true),
    10,
  )
  .option(
    '--threads <n>',
    'worker threads sharing the accounts (default: 2 on 2+ cores; 1: none)',
    parseNumber('threads', 1, 64, true),
  )
  .description(
    'score every event of a file with the live scorer; tiers, rules, precision/recall, differences',
  )
  .action(async (file: string, o: BacktestCliOptions) => {
    const policy = readPolicy(policyPath(o.policy));
    const against = o.against ? readPolicy(o.against) : undefined;
    const result = await runBacktest(file, {
      policy,
      ...(against ? { against } : {}),
      listMalformed: o.listMalformed,
      examples: o.examples,
      ...(o.threads !== undefined ? { threads: o.threads } : {}),
    });
    process.stdout.write(formatBacktest(result));
    if (o.json) writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
    if (o.html) writeFileSync(o.html, renderHtml(result, `Cordon backtest: ${file}`));
  });

interface WhatIfCliOptions {
  policy: string;
  against?: string;
  passRate?: number;
  appealRate?: number;
  verifyRate?: number;
  reviewMinutes?: number;
  reviewers?: number;
  shiftHours?: number;
  database: boolean;
  json?: string;
}

/** What the ended cases in Cordon's database say about the lifecycle (null when there is no database). */
async function observedFromDatabase(verifiable: Set<string>) {
  const config = parseConfig();
  if (!config.database.url && !existsSync(config.database.sqliteFile)) return null;
  const store = await openStore(config.database);
  try {
    const cases = [];
    for await (const view of store.archive.ended(0, Date.now() + 1)) {
      cases.push({ tier: view.tier, timeline: view.timeline });
      if (cases.length >= 200_000) break;
    }
    return cases.length ? observeParameters(cases, verifiable) : null;
  } finally {
    await store.db.close();
  }
}

program
  .command('whatif')
  .argument('<events>', 'JSONL event file (as backtest)')
  .requiredOption('--policy <file>', 'policy file')
  .option('--against <file>', 'a second policy: its forecast too')
  .option('--pass-rate <r>', 'share of verifications that pass', parseNumber('pass-rate', 0, 1))
  .option(
    '--appeal-rate <r>',
    'share of users (not restored by verification) who appeal',
    parseNumber('appeal-rate', 0, 1),
  )
  .option(
    '--verify-rate <r>',
    'share of verifiable cases whose user tries to verify',
    parseNumber('verify-rate', 0, 1),
  )
  .option(
    '--review-minutes <m>',
    'reviewer minutes per reviewed case',
    parseNumber('review-minutes', 0, 10000),
  )
  .option('--reviewers <n>', 'reviewers available per day', parseNumber('reviewers', 0, 100000))
  .option('--shift-hours <h>', 'working hours of a reviewer per day', parseNumber('shift-hours', 0.1, 24))
  .option('--no-database', "do not read the lifecycle parameters from Cordon's database")
  .option('--json <file>', 'write the forecast as JSON')
  .description(
    'forecast per day: restrictions by tier, verifications, appeals, reviewer hours and reviewers, SLA breaches',
  )
  .action(async (file: string, o: WhatIfCliOptions) => {
    const policy = readPolicy(o.policy);
    const against = o.against ? readPolicy(o.against) : undefined;
    const result = await runBacktest(file, { policy, ...(against ? { against } : {}) });
    const terms = caseTermsOf(policy);
    const verifiable = new Set(
      Object.entries(terms.tiers)
        .filter(([, t]) => t.verificationRestores)
        .map(([tier]) => tier),
    );
    let observed = null;
    if (o.database) {
      try {
        observed = await observedFromDatabase(verifiable);
      } catch (err) {
        process.stderr.write(`case records not read: ${(err as Error).message}\n`);
      }
    }
    const options: Partial<LifecycleParameters> = {};
    for (const k of [
      'passRate',
      'appealRate',
      'verifyRate',
      'reviewMinutes',
      'reviewers',
      'shiftHours',
    ] as const)
      if (o[k] !== undefined) options[k] = o[k];
    const params = resolveParameters(options, observed);
    process.stdout.write(formatParameters(params));
    if (result.malformed.count) process.stdout.write(`(${result.malformed.count} malformed lines skipped)\n`);
    const forecasts = [
      withGuards(forecast(openedPerDay(result.days, 'policy'), terms, params.values), result.policy),
    ];
    process.stdout.write('\n' + formatWhatIf(forecasts[0]!, params, o.policy));
    if (against) {
      forecasts.push(
        withGuards(
          forecast(openedPerDay(result.days, 'against'), caseTermsOf(against), params.values),
          result.against,
        ),
      );
      process.stdout.write('\n' + formatWhatIf(forecasts[1]!, params, o.against!));
    }
    if (o.json) writeFileSync(o.json, `${JSON.stringify({ parameters: params, forecasts }, null, 2)}\n`);
  });

program
  .command('report')
  .argument('<kind>', 'overturns | shadow')
  .addOption(new Option('--url <url>', "Cordon's API").env('CORDON_URL').default(envDefault('CORDON_URL')))
  .option('--from <time>', 'window start (ISO 8601 date or time)')
  .option('--to <time>', 'window end (ISO 8601 date or time)')
  .option('--json', 'print the answer as JSON')
  .description('overturn rates or shadow-mode disagreements from the API (bearer token from CORDON_TOKEN)')
  .action(async (kind: string, o: { url: string; from?: string; to?: string; json?: boolean }) => {
    process.stdout.write(await report(kind, { ...o, token: process.env.CORDON_TOKEN }));
  });

program.addCommand(auditCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CliError) {
    process.stderr.write(`cordon: ${err.message}\n`);
    process.exitCode = err.exitCode;
    return;
  }
  process.stderr.write(`cordon: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
