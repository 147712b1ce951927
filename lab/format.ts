// Plain-text tables for the command line.
import type { BacktestReport, GuardReport, PolicySummary } from './backtest';
import type { PolicyDiff, Change } from './policy-tools';
import type { OverturnReport, OverturnRow } from './overturns';
import type { SourcedParameters, WhatIfForecast } from './whatif';

/** A table with a header row; numbers are right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: (string | number)[]) =>
    r
      .map((c, i) => (numeric[i] ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
}

export function pct(x: number | null): string {
  return x === null ? '-' : `${(x * 100).toFixed(1)}%`;
}

const TIER_ORDER = ['NONE', 'STEP_UP', 'LIMIT', 'PROTECT', 'FREEZE', 'CLOSE'] as const;

function rulesTable(p: PolicySummary): string {
  return table(
    ['rule', 'reason', 'hits', 'contribution', 'precision', 'recall'],
    [...p.rules]
      .sort((a, b) => b.hits - a.hits || (a.ruleId < b.ruleId ? -1 : 1))
      .map((r) => [r.ruleId, r.reason, r.hits, r.contribution, pct(r.precision), pct(r.recall)]),
  );
}

/** A policy's guards: when each would trip over the file (lab/guard-trips.ts), or that none would. */
export function formatGuards(version: string, g: GuardReport): string {
  const n = g.rules.length;
  const head = `Guards (${version}): ${n} guarded rule${n === 1 ? '' : 's'}; `;
  if (!g.trips.length) return `${head}no guard would trip`;
  return (
    `${head}${g.trips.length} would trip\n` +
    table(
      ['rule', 'at', 'cause', 'hour count', 'baseline/h', 'on trip'],
      g.trips.map((t) => [t.ruleId, t.at, t.cause, t.hourCount, t.baselinePerHour, t.onTrip]),
    )
  );
}

export function formatBacktest(r: BacktestReport): string {
  const out: string[] = [];
  const a = r.policy;
  const b = r.against;
  out.push(
    `events ${fmt(r.events)} of ${fmt(r.lines)} lines; malformed ${fmt(r.malformed.count)}` +
      (r.labelled.events ? `; labelled ${fmt(r.labelled.events)} (fraud ${fmt(r.labelled.fraud)})` : '') +
      (r.eventsPerSecond ? `; ${fmt(Math.round(r.eventsPerSecond))} events/s` : ''),
  );
  out.push(`policy ${a.version} (${a.hash})` + (b ? ` against ${b.version} (${b.hash})` : ''));
  out.push('');
  out.push('Tiers (events)');
  out.push(
    table(
      b ? ['tier', a.version, b.version, 'change'] : ['tier', 'events', 'cases opened'],
      TIER_ORDER.map((t) =>
        b
          ? [t, a.tiers[t], b.tiers[t], signed(b.tiers[t] - a.tiers[t])]
          : [t, a.tiers[t], t === 'NONE' ? '-' : fmt(a.casesOpened[t])],
      ),
    ),
  );
  out.push('');
  out.push(
    `restricted accounts: ${fmt(a.restrictedAccounts)}` +
      (b ? ` (${b.version}: ${fmt(b.restrictedAccounts)})` : ''),
  );
  if (a.overall)
    out.push(
      `overall (restrictive tier vs label): precision ${pct(a.overall.precision)}, recall ${pct(a.overall.recall)}` +
        (b?.overall
          ? `; ${b.version}: precision ${pct(b.overall.precision)}, recall ${pct(b.overall.recall)}`
          : ''),
    );
  out.push('');
  out.push(`Rules (${a.version})`);
  out.push(rulesTable(a));
  if (b) {
    out.push('');
    out.push(`Rules (${b.version})`);
    out.push(rulesTable(b));
  }
  for (const p of [a, b]) if (p?.guards) out.push('', formatGuards(p.version, p.guards));
  if (r.diff) {
    const d = r.diff;
    out.push('');
    out.push(`Difference ${a.version} -> ${b!.version}, event by event`);
    out.push(
      `events in another tier: ${fmt(d.changedEvents)}; same tier, other rules: ${fmt(d.sameTierOtherRules)}`,
    );
    if (d.tierChanges.length)
      out.push(
        table(
          ['from', 'to', 'events'],
          d.tierChanges.map((c) => [c.from, c.to, c.count]),
        ),
      );
    out.push(
      `accounts restricted only by ${a.version}: ${fmt(d.accounts.onlyPolicy)}; only by ${b!.version}: ${fmt(
        d.accounts.onlyAgainst,
      )}; by both: ${fmt(d.accounts.both)}`,
    );
    if (d.accounts.examplesOnlyPolicy.length)
      out.push(
        `  e.g. only ${a.version}: ` +
          d.accounts.examplesOnlyPolicy.map((e) => `${e.accountId} (${e.tier}, line ${e.line})`).join(', '),
      );
    if (d.accounts.examplesOnlyAgainst.length)
      out.push(
        `  e.g. only ${b!.version}: ` +
          d.accounts.examplesOnlyAgainst.map((e) => `${e.accountId} (${e.tier}, line ${e.line})`).join(', '),
      );
    if (d.examples.length) {
      out.push('examples:');
      out.push(
        table(
          ['line', 'event', 'account', 'type', a.version, b!.version],
          d.examples.map((e) => [
            e.line,
            e.eventId,
            e.accountId,
            e.type,
            `${e.policyTier} (${e.policyScore})`,
            `${e.againstTier} (${e.againstScore})`,
          ]),
        ),
      );
    }
  }
  if (r.malformed.count) {
    out.push('');
    out.push(
      `Malformed lines: ${fmt(r.malformed.count)}` +
        (r.malformed.count > r.malformed.listed.length ? ` (first ${r.malformed.listed.length} listed)` : ''),
    );
    for (const m of r.malformed.listed) out.push(`  line ${m.line}: ${m.problems.join('; ')}`);
  }
  return out.join('\n') + '\n';
}

function signed(n: number): string {
  return n > 0 ? `+${fmt(n)}` : n < 0 ? `-${fmt(-n)}` : '0';
}

function changeLine(c: Change): string {
  const v = (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x));
  if (c.kind === 'added') return `+ ${c.path} = ${v(c.after)}`;
  if (c.kind === 'removed') return `- ${c.path} (was ${v(c.before)})`;
  return `~ ${c.path}: ${v(c.before)} -> ${v(c.after)}`;
}

export function formatPolicyDiff(d: PolicyDiff): string {
  const out = [`${d.versions.a} -> ${d.versions.b}`];
  const section = (title: string, changes: Change[]) => {
    out.push('', `${title}: ${changes.length ? changes.length : 'no change'}`);
    for (const c of changes) out.push(`  ${changeLine(c)}`);
  };
  section('rules', d.rules);
  section('weights', d.weights);
  section('thresholds', d.thresholds);
  section('terms', d.terms);
  section('other', d.other);
  return out.join('\n') + '\n';
}

export function formatWhatIf(f: WhatIfForecast, sources: SourcedParameters, title: string): string {
  const out = [`What-if: ${title} (policy ${f.policyVersion})`];
  out.push(
    table(
      [
        'day',
        'restrict',
        'STEP_UP',
        'LIMIT',
        'PROTECT',
        'FREEZE',
        'CLOSE',
        'verif.',
        'appeals',
        'reviews',
        'rev. hours',
        'reviewers needed',
        'SLA breaches',
        'backlog',
      ],
      f.days.map((d) => [
        d.day,
        d.restrictions,
        d.opened.STEP_UP,
        d.opened.LIMIT,
        d.opened.PROTECT,
        d.opened.FREEZE,
        d.opened.CLOSE,
        d.verifications,
        d.appeals,
        d.reviews,
        d.reviewerHours,
        d.reviewersNeeded,
        d.slaBreaches,
        d.backlog,
      ]),
    ),
  );
  const t = f.totals;
  out.push(
    `total: ${fmt(t.restrictions)} restrictions, ${fmt(t.verifications)} verifications, ${fmt(t.appeals)} appeals, ` +
      `${fmt(t.reviews)} reviews, ${fmt(t.reviewerHours)} reviewer hours, ${fmt(t.peakReviewersNeeded)} reviewers needed for every SLA, ` +
      `${fmt(t.slaBreaches)} SLA breaches with ${fmt(f.parameters.reviewers)} reviewers`,
  );
  if (f.guards) out.push('', formatGuards(f.policyVersion, f.guards));
  return out.join('\n') + '\n';
}

export function formatParameters(s: SourcedParameters): string {
  return (
    'Lifecycle parameters\n' +
    table(
      ['parameter', 'value', 'source'],
      (Object.keys(s.values) as (keyof typeof s.values)[]).map((k) => [
        k,
        String(Math.round(s.values[k] * 1000) / 1000),
        s.sources[k].source + (s.sources[k].detail ? ` (${s.sources[k].detail})` : ''),
      ]),
    ) +
    '\n'
  );
}

function overturnTable(rows: OverturnRow[], title: string): string {
  return table(
    [
      title,
      'restrictions',
      'decided',
      'by reviewer',
      'by verification',
      'upheld/closed',
      'rate',
      'Wilson 95%',
    ],
    rows.map((r) => [
      r.key,
      r.restrictions,
      r.decided,
      r.liftedByReviewer,
      r.liftedByVerification,
      r.upheld + r.closed,
      pct(r.rate),
      r.interval ? `${pct(r.interval.low)}-${pct(r.interval.high)}` : '-',
    ]),
  );
}

export function formatOverturns(r: OverturnReport): string {
  return [
    `Overturns of restrictions opened ${r.window.from} to ${r.window.to}: ${fmt(r.cases)} cases, ` +
      `overall ${pct(r.overall.rate)}` +
      (r.overall.interval ? ` (${pct(r.overall.interval.low)}-${pct(r.overall.interval.high)})` : ''),
    '',
    overturnTable(r.rules, 'rule'),
    '',
    overturnTable(r.reasons, 'reason'),
    '',
  ].join('\n');
}
