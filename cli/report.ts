// `cordon report overturns|shadow`: the live reports from Cordon's API, as tables.
import { fmt, formatOverturns, pct, table } from '../lab/format';
import type { OverturnReport } from '../lab/overturns';
import { CliError } from './io';

export interface ReportOptions {
  url: string;
  token?: string;
  from?: string;
  to?: string;
  json?: boolean;
  fetch?: typeof fetch;
}

const PATHS: Record<string, string> = { overturns: '/v1/reports/overturns', shadow: '/v1/reports/shadow' };

function isoTime(name: string, value: string): string {
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(t)) throw new CliError(`--${name}: not a date or time: ${value}`);
  return new Date(t).toISOString();
}

/** Fetches the report and renders it (or its JSON). */
export async function report(kind: string, o: ReportOptions): Promise<string> {
  const path = PATHS[kind];
  if (!path) throw new CliError(`unknown report "${kind}" (overturns or shadow)`);
  if (!o.token) throw new CliError('set CORDON_TOKEN to a token with the analyst (or admin) role');
  const url = new URL(path, o.url.endsWith('/') ? o.url : `${o.url}/`);
  if (o.from) url.searchParams.set('from', isoTime('from', o.from));
  if (o.to) url.searchParams.set('to', isoTime('to', o.to));
  let response: Response;
  try {
    response = await (o.fetch ?? fetch)(url, {
      headers: { authorization: `Bearer ${o.token}`, accept: 'application/json' },
    });
  } catch (err) {
    throw new CliError(`cannot reach ${url.origin}: ${(err as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    let detail = text.slice(0, 500);
    try {
      const problem = JSON.parse(text) as { title?: string; detail?: string; code?: string };
      detail = [problem.code, problem.title, problem.detail].filter(Boolean).join(': ');
    } catch {
      // not a problem document: the raw text
    }
    throw new CliError(`${url.pathname} answered ${response.status}: ${detail}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CliError(`${url.pathname} answered something that is not JSON`);
  }
  if (o.json) return `${JSON.stringify(body, null, 2)}\n`;
  return kind === 'overturns' ? renderOverturns(body) : renderShadow(body);
}

function renderOverturns(body: unknown): string {
  const r = body as Partial<OverturnReport>;
  if (r && Array.isArray(r.rules) && Array.isArray(r.reasons) && r.overall && r.window)
    return formatOverturns(r as OverturnReport);
  return renderGeneric(body);
}

interface ShadowBody {
  days?: {
    day: string;
    liveVersion: string;
    candidateVersion: string;
    scored: number;
    disagreements: number;
  }[];
  transitions?: { liveTier: string; candidateTier: string; count: number }[];
  latest?: {
    at: number | string;
    accountId: string;
    eventId: string;
    eventType: string;
    liveTier: string;
    candidateTier: string;
    liveReasons: string[];
    candidateReasons: string[];
  }[];
  candidateVersion?: string;
}

function renderShadow(body: unknown): string {
  const b = body as ShadowBody;
  if (!b || !Array.isArray(b.days)) return renderGeneric(body);
  const out: string[] = [];
  const scored = b.days.reduce((s, d) => s + d.scored, 0);
  const disagreements = b.days.reduce((s, d) => s + d.disagreements, 0);
  out.push(
    `Shadow mode: ${fmt(scored)} events scored by the candidate, ${fmt(disagreements)} disagreements (${pct(
      scored ? disagreements / scored : null,
    )})`,
  );
  out.push('');
  out.push(
    table(
      ['day', 'live', 'candidate', 'scored', 'disagreements', 'rate'],
      b.days.map((d) => [
        d.day,
        d.liveVersion,
        d.candidateVersion,
        d.scored,
        d.disagreements,
        pct(d.scored ? d.disagreements / d.scored : null),
      ]),
    ),
  );
  if (b.transitions?.length) {
    out.push('');
    out.push(
      table(
        ['live tier', 'candidate tier', 'events'],
        b.transitions.map((t) => [t.liveTier, t.candidateTier, t.count]),
      ),
    );
  }
  if (b.latest?.length) {
    out.push('');
    out.push('Latest disagreements');
    out.push(
      table(
        ['at', 'account', 'event', 'type', 'live', 'candidate'],
        b.latest.map((d) => [
          typeof d.at === 'number' ? new Date(d.at).toISOString() : String(d.at),
          d.accountId,
          d.eventId,
          d.eventType,
          `${d.liveTier} ${d.liveReasons.join(',')}`,
          `${d.candidateTier} ${d.candidateReasons.join(',')}`,
        ]),
      ),
    );
  }
  return out.join('\n') + '\n';
}

/** Any other shape: each array of flat objects as a table, the rest as JSON. */
function renderGeneric(body: unknown): string {
  if (typeof body !== 'object' || body === null) return `${JSON.stringify(body)}\n`;
  const out: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (Array.isArray(value) && value.length && typeof value[0] === 'object' && value[0] !== null) {
      const header = [...new Set(value.flatMap((v: object) => Object.keys(v)))];
      out.push(key);
      out.push(
        table(
          header,
          value.map((v: Record<string, unknown>) =>
            header.map((h): string | number => {
              const x = v[h];
              if (typeof x === 'number' || typeof x === 'string') return x;
              return x === undefined || x === null ? '' : JSON.stringify(x);
            }),
          ),
        ),
      );
      out.push('');
    } else out.push(`${key}: ${JSON.stringify(value)}`);
  }
  return out.join('\n') + '\n';
}
