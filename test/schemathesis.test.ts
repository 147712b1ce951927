// Schemathesis (from PyPI, scripts/schemathesis.ts) against the API over real HTTP on 127.0.0.1, with a real worker
// on the shared Temporal dev server: the OpenAPI document at /openapi.json must say everything the API does. It
// runs once per role's token with every check, bounded in examples and time, against a case of its own (the
// committed test/schemathesis/schemathesis.toml says how, and why a few refusals are expected). Any failure fails.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSchemathesis, SchemathesisUnavailable } from '../scripts/schemathesis';
import { riskEvent } from './helpers/events';
import { callApi, startApiHarness, type ApiHarness } from './helpers/harness';
import { requires } from './helpers/requirements';

const ROOT = join(__dirname, '..');
const CONFIG = join(ROOT, 'test', 'schemathesis', 'schemathesis.toml');
/** Development has no admin token: one is added for the run. */
const ADMIN_TOKEN = 'admin-token-for-tests-1';
const ROLES: [string, string][] = [
  ['backend', 'dev-backend'],
  ['reviewer', 'dev-reviewer-1'],
  ['senior', 'dev-senior'],
  ['analyst', 'dev-analyst'],
  ['admin', ADMIN_TOKEN],
];
/** Per role: at most this many generated cases per operation and phase, and this many seconds in all. */
const MAX_EXAMPLES = Number(process.env.CORDON_SCHEMATHESIS_EXAMPLES ?? 25);
const MAX_TIME_S = Number(process.env.CORDON_SCHEMATHESIS_SECONDS ?? 45);

interface Run {
  code: number;
  output: string;
}

function schemathesis(bin: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      {
        cwd: ROOT,
        env: { ...process.env, ...env, NO_COLOR: '1', PYTHONUNBUFFERED: '1' },
        // Its own limit is MAX_TIME_S; this one only stops a run that hangs.
        timeout: (MAX_TIME_S + 120) * 1_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** What to show of a run that failed: its failures and summary, not the progress lines. */
function failuresOf(output: string): string {
  const from = output.search(/^=+ (FAILURES|ERRORS) =+$/m);
  return (from >= 0 ? output.slice(from) : output).slice(-12_000);
}

describe('schemathesis: the OpenAPI document against the API, every role, every check', function () {
  requires('temporal', 'python');
  this.timeout((MAX_TIME_S + 180) * 1_000);
  let bin: string;
  let running: ApiHarness | undefined;
  let dataDir: string | undefined;

  before(async function () {
    this.timeout(900_000);
    try {
      bin = await ensureSchemathesis();
    } catch (err) {
      if (err instanceof SchemathesisUnavailable && !process.env.CI) {
        process.stderr.write(`      skipped: schemathesis cannot be installed here: ${err.message}\n`);
        this.skip();
      }
      throw err;
    }
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-schemathesis-'));
    running = await startApiHarness(undefined, {
      CORDON_DATA_DIR: dataDir,
      CORDON_TOKENS: `${ADMIN_TOKEN}=admin:admin-1`,
    });
  });

  after(async function () {
    this.timeout(60_000);
    await running?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  for (const [role, token] of ROLES)
    it(`${role}: no failure`, async () => {
      const api = running!.api.url;
      assert.match(api, /^http:\/\/127\.0\.0\.1:\d+$/, 'only this machine is tested');
      // A frozen account's open case of this run's own, so the case routes reach a case.
      const accountId = `st-${role}-${randomUUID().slice(0, 8)}`;
      const event = riskEvent(accountId, 'IDENTITY_CHECK', { matched: false });
      const opened = await callApi(api, 'POST', '/v1/risk-events', 'dev-backend', event);
      assert.equal(opened.status, 200, JSON.stringify(opened.body));
      const started = Date.now();
      const run = await schemathesis(
        bin,
        [
          '--config-file',
          CONFIG,
          'run',
          `${api}/openapi.json`,
          '--checks',
          'all',
          '--header',
          `Authorization: Bearer ${token}`,
          '--max-examples',
          String(MAX_EXAMPLES),
          '--max-time',
          String(MAX_TIME_S),
        ],
        {
          // Hypothesis keeps its caches there rather than in a .hypothesis folder of the work tree.
          HYPOTHESIS_STORAGE_DIRECTORY: join(dataDir!, 'hypothesis'),
          CORDON_SCHEMATHESIS_CASE_ID: opened.body.caseId as string,
          CORDON_SCHEMATHESIS_ACCOUNT_ID: accountId,
          CORDON_SCHEMATHESIS_EVENT_ID: event.eventId,
        },
      );
      const summary = /^=+ (.*) in [\d.]+s =+$/m.exec(run.output)?.[1] ?? 'no summary';
      // Warnings (an operation that mostly got 404s, data the API mostly refused) are shown, not failed on.
      const warnings = run.output.match(/^ *⚠️ .*$/gmu)?.map((w) => w.trim().replace(/^⚠️ */u, '')) ?? [];
      process.stdout.write(
        `      ${role}: ${summary} (${Math.round((Date.now() - started) / 1000)} s)` +
          warnings.map((w) => `\n        ${w}`).join('') +
          '\n',
      );
      assert.equal(
        run.code,
        0,
        `schemathesis found failures with the ${role} token:\n${failuresOf(run.output)}`,
      );
      // Every operation of the document was selected and reached (a count of its own, not a fixed number).
      const selected = /Selected: +(\d+)\/(\d+)/.exec(run.output);
      const tested = /Tested: +(\d+)/.exec(run.output);
      assert.ok(selected && tested, `no operation counts in the output:\n${run.output.slice(-2_000)}`);
      assert.equal(selected[1], selected[2], 'every operation was selected');
      assert.equal(tested[1], selected[2], `every operation was tested:\n${run.output.slice(-3_000)}`);
    });
});
