// The backtest report as one self-contained HTML page: inline CSS and inline SVG charts, no script, no
// network reference of any kind, so it opens anywhere (an e-mail attachment, an air-gapped laptop).
import type { BacktestReport, PolicySummary } from './backtest';
import { escapeHtml } from '../web/html';
import { fmt, pct } from './format';

const TIERS = ['NONE', 'STEP_UP', 'LIMIT', 'PROTECT', 'FREEZE', 'CLOSE'] as const;
const COLOURS = ['#4e79a7', '#f28e2b'];

interface Series {
  name: string;
  values: number[];
}

/** A horizontal grouped bar chart: one group per label, one bar per series. */
export function barChart(
  labels: string[],
  series: Series[],
  o: { title: string; percent?: boolean },
): string {
  const barH = 12;
  const gap = 8;
  const labelW = 190;
  const width = 720;
  const plotW = width - labelW - 90;
  const groupH = series.length * barH + gap;
  const height = 30 + labels.length * groupH + 20;
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values.map((v) => (Number.isFinite(v) ? v : 0))));
  const parts: string[] = [
    `<svg role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<title>${escapeHtml(o.title)}</title>`,
    `<text x="0" y="16" class="t">${escapeHtml(o.title)}</text>`,
  ];
  series.forEach((s, j) =>
    parts.push(
      `<rect x="${labelW + j * 160}" y="22" width="10" height="10" fill="${COLOURS[j % COLOURS.length]}"/>` +
        `<text x="${labelW + j * 160 + 14}" y="31" class="l">${escapeHtml(s.name)}</text>`,
    ),
  );
  labels.forEach((label, i) => {
    const y0 = 40 + i * groupH;
    parts.push(
      `<text x="${labelW - 6}" y="${y0 + (series.length * barH) / 2 + 4}" text-anchor="end" class="l">${escapeHtml(label)}</text>`,
    );
    series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      const w = Number.isFinite(v) ? Math.max(0, (v / max) * plotW) : 0;
      const y = y0 + j * barH;
      parts.push(
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${COLOURS[j % COLOURS.length]}"><title>${escapeHtml(
          `${s.name} ${label}: ${o.percent ? pct(v) : fmt(v)}`,
        )}</title></rect>`,
        `<text x="${(labelW + w + 4).toFixed(1)}" y="${y + barH - 3}" class="v">${escapeHtml(o.percent ? pct(v) : fmt(v))}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

function tableHtml(header: string[], rows: (string | number)[][]): string {
  const cell = (c: string | number, tag: string) =>
    `<${tag}${typeof c === 'number' ? ' class="n"' : ''}>${escapeHtml(typeof c === 'number' ? fmt(c) : c)}</${tag}>`;
  return (
    `<table><thead><tr>${header.map((h) => cell(h, 'th')).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => cell(c, 'td')).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

/** A policy's guards: when each would trip over the file (lab/guard-trips.ts), or that none would. */
function guardsHtml(p: PolicySummary): string {
  const g = p.guards;
  if (!g) return '';
  const n = g.rules.length;
  const head =
    `<h2>Guards of ${escapeHtml(p.version)}</h2>` +
    `<p>${fmt(n)} guarded rule${n === 1 ? '' : 's'} (${escapeHtml(g.rules.map((r) => r.ruleId).join(', '))}): `;
  if (!g.trips.length) return `${head}no guard would trip.</p>`;
  return (
    `${head}${fmt(g.trips.length)} would trip.</p>` +
    tableHtml(
      ['rule', 'at', 'cause', 'hour count', 'baseline/h', 'on trip'],
      g.trips.map((t) => [t.ruleId, t.at, t.cause, t.hourCount, t.baselinePerHour, t.onTrip]),
    )
  );
}

function ruleRows(p: PolicySummary): (string | number)[][] {
  return [...p.rules]
    .sort((a, b) => b.hits - a.hits || (a.ruleId < b.ruleId ? -1 : 1))
    .map((r) => [r.ruleId, r.reason, r.hits, r.contribution, pct(r.precision), pct(r.recall)]);
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:980px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f6f6f6}
svg .t{font-weight:600;font-size:13px}svg .l{font-size:12px}svg .v{font-size:11px;fill:#444}
.muted{color:#666}code{background:#f3f3f3;padding:1px 4px}`;

/** The whole page. */
export function renderHtml(r: BacktestReport, title = 'Cordon backtest'): string {
  const a = r.policy;
  const b = r.against;
  const series = (f: (p: PolicySummary) => number[]): Series[] => [
    { name: a.version, values: f(a) },
    ...(b ? [{ name: `${b.version} (against)`, values: f(b) }] : []),
  ];
  const ruleIds = [...new Set([...a.rules, ...(b?.rules ?? [])].map((x) => x.ruleId))];
  const ruleValue = (p: PolicySummary, id: string, k: 'hits' | 'contribution' | 'precision' | 'recall') => {
    const rule = p.rules.find((x) => x.ruleId === id);
    const v = rule?.[k];
    return typeof v === 'number' ? v : 0;
  };
  const s: string[] = [];
  s.push('<!doctype html><html lang="en"><head><meta charset="utf-8">');
  s.push(`<title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>`);
  s.push(`<h1>${escapeHtml(title)}</h1>`);
  s.push(
    `<p>${r.file ? `<code>${escapeHtml(r.file)}</code>: ` : ''}${fmt(r.events)} events of ${fmt(r.lines)} lines, ` +
      `${fmt(r.malformed.count)} malformed. Policy <b>${escapeHtml(a.version)}</b> <span class="muted">${escapeHtml(a.hash)}</span>` +
      (b
        ? `, against <b>${escapeHtml(b.version)}</b> <span class="muted">${escapeHtml(b.hash)}</span>`
        : '') +
      (r.labelled.events
        ? `. Labelled events: ${fmt(r.labelled.events)} (fraud ${fmt(r.labelled.fraud)}).`
        : '.') +
      '</p>',
  );
  s.push('<h2>Tiers</h2>');
  s.push(
    barChart(
      [...TIERS],
      series((p) => TIERS.map((t) => p.tiers[t])),
      { title: 'Events per tier' },
    ),
  );
  s.push(
    tableHtml(
      ['tier', ...(b ? [a.version, b.version] : ['events']), 'cases opened' + (b ? ` (${a.version})` : '')],
      TIERS.map((t) => [t, a.tiers[t], ...(b ? [b.tiers[t]] : []), t === 'NONE' ? '-' : a.casesOpened[t]]),
    ),
  );
  s.push(
    `<p>Restricted accounts: ${fmt(a.restrictedAccounts)}${b ? ` (${escapeHtml(b.version)}: ${fmt(b.restrictedAccounts)})` : ''}.</p>`,
  );
  s.push('<h2>Rules: hits and contributions</h2>');
  s.push(
    barChart(
      ruleIds,
      series((p) => ruleIds.map((id) => ruleValue(p, id, 'hits'))),
      { title: 'Hits per rule' },
    ),
  );
  s.push(
    barChart(
      ruleIds,
      series((p) => ruleIds.map((id) => ruleValue(p, id, 'contribution'))),
      {
        title: 'Summed contribution per rule',
      },
    ),
  );
  if (r.labelled.events) {
    s.push('<h2>Precision and recall against the labels</h2>');
    const overall = (p: PolicySummary) =>
      p.overall
        ? `${escapeHtml(p.version)}: precision ${pct(p.overall.precision)}, recall ${pct(p.overall.recall)} ` +
          `(TP ${fmt(p.overall.truePositives)}, FP ${fmt(p.overall.falsePositives)}, FN ${fmt(p.overall.falseNegatives)})`
        : '';
    s.push(
      `<p>Overall (a restrictive tier counts as flagging the event): ${overall(a)}${b ? `; ${overall(b)}` : ''}.</p>`,
    );
    s.push(
      barChart(
        ruleIds,
        series((p) => ruleIds.map((id) => ruleValue(p, id, 'precision'))),
        {
          title: 'Precision per rule',
          percent: true,
        },
      ),
    );
    s.push(
      barChart(
        ruleIds,
        series((p) => ruleIds.map((id) => ruleValue(p, id, 'recall'))),
        {
          title: 'Recall per rule',
          percent: true,
        },
      ),
    );
  }
  s.push(`<h2>Rules of ${escapeHtml(a.version)}</h2>`);
  s.push(tableHtml(['rule', 'reason', 'hits', 'contribution', 'precision', 'recall'], ruleRows(a)));
  if (b) {
    s.push(`<h2>Rules of ${escapeHtml(b.version)}</h2>`);
    s.push(tableHtml(['rule', 'reason', 'hits', 'contribution', 'precision', 'recall'], ruleRows(b)));
  }
  for (const p of [a, b]) if (p?.guards) s.push(guardsHtml(p));
  if (r.diff && b) {
    const d = r.diff;
    s.push(`<h2>Difference ${escapeHtml(a.version)} → ${escapeHtml(b.version)}</h2>`);
    s.push(
      `<p>${fmt(d.changedEvents)} events in another tier; ${fmt(d.sameTierOtherRules)} in the same tier for other rules. ` +
        `Accounts restricted only by ${escapeHtml(a.version)}: <b>${fmt(d.accounts.onlyPolicy)}</b>; only by ${escapeHtml(
          b.version,
        )}: <b>${fmt(d.accounts.onlyAgainst)}</b>; by both: ${fmt(d.accounts.both)}.</p>`,
    );
    if (d.tierChanges.length) {
      s.push(
        barChart(
          d.tierChanges.map((c) => `${c.from} → ${c.to}`),
          [{ name: 'events', values: d.tierChanges.map((c) => c.count) }],
          { title: 'Tier changes (events)' },
        ),
      );
    }
    s.push(
      barChart(
        ['only ' + a.version, 'only ' + b.version, 'both'],
        [{ name: 'accounts', values: [d.accounts.onlyPolicy, d.accounts.onlyAgainst, d.accounts.both] }],
        { title: 'Restricted accounts' },
      ),
    );
    if (d.examples.length)
      s.push(
        tableHtml(
          ['line', 'event', 'account', 'type', a.version, b.version],
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
    const acct = (xs: typeof d.accounts.examplesOnlyPolicy) =>
      xs.map((e) => [e.accountId, e.tier, e.eventId, e.line] as (string | number)[]);
    if (d.accounts.examplesOnlyPolicy.length) {
      s.push(`<p>Restricted only by ${escapeHtml(a.version)}, for example:</p>`);
      s.push(tableHtml(['account', 'tier', 'first event', 'line'], acct(d.accounts.examplesOnlyPolicy)));
    }
    if (d.accounts.examplesOnlyAgainst.length) {
      s.push(`<p>Restricted only by ${escapeHtml(b.version)}, for example:</p>`);
      s.push(tableHtml(['account', 'tier', 'first event', 'line'], acct(d.accounts.examplesOnlyAgainst)));
    }
  }
  if (r.malformed.count) {
    s.push('<h2>Malformed lines</h2>');
    s.push(
      tableHtml(
        ['line', 'problems'],
        r.malformed.listed.map((m) => [m.line, m.problems.join('; ')]),
      ),
    );
  }
  s.push('</body></html>');
  return s.join('\n');
}
