// Logs as operators get them: JSON lines from pino, each with its request ID, never personal data.
import assert from 'node:assert/strict';
import type { RunningApi } from '../api/main';
import { createLogger } from '../infra/logger';
import { riskEvent, uniqueAccount } from './helpers/events';
import { eventually, startApiHarness, type ApiHarness } from './helpers/harness';
import { requires } from './helpers/requirements';

describe('logs', function () {
  requires('temporal');
  this.timeout(60_000);
  let api: RunningApi;
  let running: ApiHarness | undefined;
  const lines: Record<string, unknown>[] = [];
  const write = process.stdout.write.bind(process.stdout);

  before(async function () {
    this.timeout(300_000);
    running = await startApiHarness(createLogger('api', { json: true }));
    ({ api } = running);
  });

  after(async () => {
    process.stdout.write = write;
    await running?.close();
  });

  /** Captures the JSON lines the API writes while fn runs. */
  async function capture(fn: () => Promise<void>): Promise<void> {
    process.stdout.write = (chunk: string | Uint8Array) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line (mocha's own output)
        }
      }
      return true;
    };
    try {
      await fn();
    } finally {
      process.stdout.write = write;
    }
  }

  it('writes JSON lines carrying the request ID, and no statement, answer or evidence', async () => {
    const account = uniqueAccount();
    const secret = `my-secret-statement-${account}`;
    let caseId = '';
    await capture(async () => {
      const opened = await fetch(`${api.url}/v1/risk-events`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer dev-backend',
          'content-type': 'application/json',
          'x-request-id': 'req-event-1',
        },
        body: JSON.stringify(riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' })),
      });
      assert.equal(opened.headers.get('x-request-id'), 'req-event-1');
      caseId = ((await opened.json()) as { caseId: string }).caseId;
      const appealed = await fetch(`${api.url}/v1/cases/${caseId}/appeal`, {
        method: 'POST',
        headers: { authorization: 'Bearer dev-backend', 'content-type': 'application/json' },
        body: JSON.stringify({ statement: secret, evidence: [`doc-${secret}`], requestId: 'a-1' }),
      });
      assert.equal(appealed.status, 200);
      assert.match(
        appealed.headers.get('x-request-id') ?? '',
        /^[0-9a-f-]{36}$/,
        'a new ID when none was sent',
      );
      // A request's own line is written once its answer has gone out, which can be after the client has it; it
      // is the last line the request writes. With the appeal's here, both requests' lines are all in.
      const appealId = appealed.headers.get('x-request-id');
      await eventually(
        async () => lines.some((l) => l.msg === 'request' && l.requestId === appealId),
        10_000,
        "the appeal's request line",
      );
    });
    const decision = lines.find((l) => l.msg === 'decision' && l.caseId === caseId);
    assert.ok(decision, 'the decision record was logged');
    assert.equal(decision.requestId, 'req-event-1');
    assert.equal(decision.level, 'info');
    assert.equal(decision.component, 'api');
    const requests = lines.filter((l) => l.msg === 'request');
    assert.ok(
      requests.some(
        (l) => l.requestId === 'req-event-1' && l.route === '/v1/risk-events' && l.status === 200,
      ),
    );
    assert.ok(requests.some((l) => l.route === '/v1/cases/:caseId/appeal' && l.status === 200));
    assert.ok(!JSON.stringify(lines).includes(secret), 'no personal data in the logs');
  });
});
