// Issue 15, defect 1 (the 500s): overload may make Cordon slow, never make it answer 500. A case whose
// workflow tasks keep failing (what a CPU-starved worker's timeouts look like to the server: it then refuses
// updates and queries with "Workflow Task in failed state") gets 503 with Retry-After for events, actions and
// reads, and nothing changes; once a sound worker is back, the same requests succeed. Real dev server, real
// HTTP; the failing tasks come from a worker running a deliberately incompatible workflow bundle.
import assert from 'node:assert/strict';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../infra/codec';
import { createActivities } from '../activities';
import { createCaseWorker } from '../worker/create';
import { callApi, eventually, sharedConnections, startApiHarness, type ApiHarness } from './helpers/harness';
import { testCodec, testDataConverter, workflowBundle } from './helpers/servers';
import { uniqueAccount } from './helpers/events';
import { requires } from './helpers/requirements';
import { ServiceError } from '@temporalio/client';
import { temporalRead } from '../api/errors';
import { Problem } from '../web/problems';

const BACKEND = 'dev-backend';
const REVIEWER = 'dev-reviewer-1';
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

const freeze = (accountId: string, eventId: string) => ({
  eventId,
  accountId,
  type: 'IDENTITY_CHECK',
  occurredAt: new Date().toISOString(),
  attributes: { matched: false, field: 'name' },
});

describe('overload answers 503 with Retry-After, never 500 (issue 15, defect 1)', function () {
  requires('temporal');
  this.timeout(180_000);
  let env: ApiHarness;
  const call = (method: string, path: string, token: string, body?: unknown) =>
    callApi(env.api.url, method, path, token, body);

  before(async () => {
    env = await startApiHarness(undefined, { CORDON_TEMPORAL_CALL_MS: '8000' });
  });
  // The test replaced the harness's worker: only the API is left to close then.
  after(() => (env.h.worker.getState() === 'RUNNING' ? env.close() : env.api.close()));

  it('a case whose workflow tasks keep failing: events, actions and its view answer 503, then succeed', async () => {
    const account = uniqueAccount();
    const opened = await call('POST', '/v1/risk-events', BACKEND, freeze(account, `evt-${account}-1`));
    assert.equal(opened.status, 200);
    const caseId = opened.body.caseId as string;

    // The sound worker goes; one whose workflow code no longer replays the case's history takes its place.
    env.h.worker.shutdown();
    await eventually(async () => env.h.worker.getState() === 'STOPPED', 30_000, 'the worker stopped');
    const broken = await Worker.create({
      connection: (await sharedConnections()).native,
      taskQueue: env.h.taskQueue,
      activities: createActivities(env.h.deps),
      dataConverter: testDataConverter,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./fixtures/incompatible-workflow'),
        failureConverterPath: FAILURE_CONVERTER_PATH,
        ignoreModules: ['zod', 'express'],
        logger: silent,
      }),
    });
    const brokenRun = broken.run();
    try {
      const answers = await Promise.all([
        call('POST', '/v1/risk-events', BACKEND, freeze(account, `evt-${account}-2`)),
        call('POST', `/v1/cases/${caseId}/appeal`, BACKEND, {
          statement: 'it was me',
          requestId: 'appeal-1',
        }),
      ]);
      const view = await call('GET', `/v1/cases/${caseId}`, REVIEWER);
      for (const a of [...answers, view]) {
        assert.equal(a.status, 503, `${JSON.stringify(a.body)}`);
        assert.ok(['TEMPORAL_BUSY', 'TEMPORAL_UNAVAILABLE'].includes(a.body.code), a.body.code);
        assert.match(a.headers.get('content-type') ?? '', /problem\+json/);
        assert.ok(Number(a.headers.get('retry-after')) > 0, 'with Retry-After');
      }
    } finally {
      broken.shutdown();
      await brokenRun;
    }

    // A sound worker again: the case works, and the refused requests succeed when sent again.
    const sound = await createCaseWorker({
      connection: (await sharedConnections()).native,
      namespace: 'default',
      taskQueue: env.h.taskQueue,
      deps: env.h.deps,
      codec: testCodec,
      workflowBundle: await workflowBundle(),
    });
    await sound.runUntil(async () => {
      const appeal = await eventually(
        async () => {
          const a = await call('POST', `/v1/cases/${caseId}/appeal`, BACKEND, {
            statement: 'it was me',
            requestId: 'appeal-1',
          });
          return a.status === 200 ? a : false;
        },
        60_000,
        'the appeal applied',
      );
      assert.equal(appeal.body.appealed, true);
      const view = await call('GET', `/v1/cases/${caseId}`, REVIEWER);
      assert.equal(view.status, 200);
      assert.equal(view.body.status, appeal.body.status);
    });
  });
});

describe('a read Temporal refuses for the moment answers 503, never 500', () => {
  const now = { withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn() };
  const refused = (code: number) =>
    new ServiceError('Failed to query Workflow', {
      cause: Object.assign(new Error(`${code} query refused`), { code }),
    });

  it('FAILED_PRECONDITION under a query (seen just after a server restart): 503 TEMPORAL_BUSY with Retry-After', async () => {
    const err = await temporalRead(now, 1_000, () => Promise.reject(refused(9))).catch((e: unknown) => e);
    assert.ok(err instanceof Problem, String(err));
    assert.equal(err.status, 503);
    assert.equal(err.extra.code, 'TEMPORAL_BUSY');
    assert.ok(err.extra.headers?.['Retry-After']);
  });

  it('another refusal passes unchanged (NOT_FOUND is the reader’s to handle)', async () => {
    const original = refused(5);
    const err = await temporalRead(now, 1_000, () => Promise.reject(original)).catch((e: unknown) => e);
    assert.equal(err, original);
  });
});
