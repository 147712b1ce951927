// Traces operators can follow (docs/operations.md, _Traces_): a real worker and a real API, each a process of
// its own as `npm run worker` and `npm run api` start them, export to an OTLP/HTTP receiver this test owns (the
// worker in `http/json`, the API in `http/protobuf`: both encodings decoded). One restricting risk event must be
// ONE trace holding the HTTP request, Temporal's update, the workflow's handling of it, the activity that applied
// the restriction and the outbox's delivery of a message of its case; the request's log lines carry the trace
// ID; no span holds the event's personal data; and the case's traced history replays. With the variables
// unset nothing is traced: no trace header reaches Temporal, no trace context is stored, no log line names one.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payload } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { caseWorkflowId } from '../core/contracts';
import { createLogger } from '../infra/logger';
import { activeTracing, tracingSinks } from '../infra/tracing';
import { writeWorkflowBundle } from '../worker/create';
import {
  processTree,
  killAll,
  spawnCommand,
  stopCordon,
  waitForOutput,
  type Proc,
  type Started,
} from './helpers/cordon-process';
import { riskEvent, uniqueAccount } from './helpers/events';
import { eventually, sharedConnections, startApiHarness, type ApiHarness } from './helpers/harness';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './helpers/otlp-receiver';
import { requires } from './helpers/requirements';
import { sharedDevServer, TEST_CODEC_KEYS, testCodec, testDataConverter } from './helpers/servers';

/** An event that restricts (the default policy freezes a failed identity check), with personal data in it. */
function restrictingEvent(accountId: string) {
  const tag = randomUUID().slice(0, 8);
  const personal = {
    email: `mei.lin.${tag}@example.test`,
    phone: `+86 139 ${String(randomInt(10_000)).padStart(4, '0')} ${String(randomInt(10_000)).padStart(4, '0')}`,
    device: `device-fp-${tag}`,
    payee: `payee-iban-${tag}`,
  };
  const event = {
    ...riskEvent(accountId, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
    contact: { email: personal.email, phone: personal.phone },
    entities: { device: personal.device, payee: personal.payee },
  };
  return { event, personal };
}

async function postEvent(base: string, body: unknown, requestId: string) {
  const res = await fetch(`${base}/v1/risk-events`, {
    method: 'POST',
    headers: {
      authorization: 'Bearer dev-backend',
      'content-type': 'application/json',
      'x-request-id': requestId,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as { caseId: string; status: string; decision: { tier: string } };
}

/** The `_tracer-data` header of the case's accepted risk-event update, decoded (undefined: none). */
async function updateTraceHeader(accountId: string): Promise<Record<string, string> | undefined> {
  const { client } = await sharedConnections();
  const history = await client.workflow.getHandle(caseWorkflowId(accountId)).fetchHistory();
  const accepted = history.events?.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes)
    ?.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
  assert.equal(accepted?.name, 'riskEvent', 'the history holds the accepted risk-event update');
  const header: Payload | undefined = accepted?.header?.fields?.['_tracer-data'];
  if (!header) return undefined;
  const [plain] = await testCodec.decode([header]);
  return JSON.parse(Buffer.from(plain!.data!).toString('utf8')) as Record<string, string>;
}

describe('traces', function () {
  requires('temporal');
  this.timeout(300_000);

  describe('on: a worker and an API exporting to an OTLP/HTTP receiver the test owns', () => {
    let receiver: OtlpReceiver;
    let dir: string;
    let bundle: string;
    let worker: Started | undefined;
    let api: Started | undefined;
    let apiUrl: string;
    const trees: Proc[][] = [];

    before(async function () {
      this.timeout(600_000);
      receiver = await startOtlpReceiver();
      dir = mkdtempSync(join(tmpdir(), 'cordon-tracing-'));
      const [server, written] = await Promise.all([
        sharedDevServer(),
        // The bundle as `npm run build` prebuilds it (the container's CORDON_WORKFLOW_BUNDLE).
        writeWorkflowBundle(join(dir, 'workflow-bundle.js')),
      ]);
      bundle = written;
      const env = {
        TEMPORAL_ADDRESS: server.address,
        CORDON_TASK_QUEUE: `tq-tracing-${randomUUID()}`,
        CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
        CORDON_DATA_DIR: dir,
        CORDON_WORKFLOW_BUNDLE: bundle,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        // The SDK's batch delay (5 s unless told): spans reach the receiver sooner.
        OTEL_BSP_SCHEDULE_DELAY: '200',
      };
      const node = (entry: string, extra: Record<string, string>) =>
        spawnCommand(process.execPath, ['--import', 'tsx', entry], { ...env, ...extra });
      // The worker first: it creates Cordon's database in the data folder the API then shares.
      worker = node('worker/main.ts', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
      trees.push(processTree(worker.child.pid!));
      await waitForOutput(worker, 'worker started', 240_000);
      api = node('api/main.ts', { PORT: '0', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' });
      trees.push(processTree(api.child.pid!));
      await waitForOutput(api, /API listening url=\S+/, 240_000);
      apiUrl = /API listening url=(\S+)/.exec(api.output())![1]!;
    });

    after(async () => {
      await Promise.all([api && stopCordon(api), worker && stopCordon(worker)]);
      for (const tree of trees) killAll(tree);
      await receiver?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('one restricting event is one trace: the request, the update, the workflow, the activity that restricted, the delivery of its message', async () => {
      const accountId = uniqueAccount('acct-traced');
      const { event, personal } = restrictingEvent(accountId);
      const requestId = `req-traced-${randomUUID()}`;
      const answer = await postEvent(apiUrl, event, requestId);
      assert.notEqual(answer.decision.tier, 'NONE', 'the event restricts the account');
      const caseId = answer.caseId;

      // The request's server span names the trace.
      const request = await eventually(
        async () =>
          receiver
            .spans()
            .find((s) => s.name === 'POST /v1/risk-events' && s.attributes['cordon.case_id'] === caseId) ??
          false,
        60_000,
        "the request's span",
      );
      const traceId = request.traceId;
      const inTrace = () => receiver.spans().filter((s) => s.traceId === traceId);
      const named = (spans: ReceivedSpan[], name: string | RegExp) =>
        spans.filter((s) => (typeof name === 'string' ? s.name === name : name.test(s.name)));
      // Everything below arrives from two processes, each in its own batches.
      const spans = await eventually(
        async () => {
          const all = inTrace();
          const restricted = named(all, 'RunActivity:applyRestriction');
          const delivered = all.filter(
            (s) => s.name.startsWith('deliver ') && restricted.some((r) => r.spanId === s.parentSpanId),
          );
          return restricted.length && delivered.length && named(all, /^HandleUpdate:/).length ? all : false;
        },
        60_000,
        'the spans of the workflow, the activity and the delivery in the same trace',
      );
      const one = (name: string | RegExp) => {
        const found = named(spans, name);
        assert.ok(
          found.length > 0,
          `a span ${String(name)} in the trace; got ${spans.map((s) => s.name).join(', ')}`,
        );
        return found[0]!;
      };

      // The API: the HTTP request (a root), and Temporal's client call inside it.
      assert.equal(request.service, 'cordon-api');
      assert.equal(request.parentSpanId, '', 'the request begins the trace');
      assert.equal(request.attributes['http.route'], '/v1/risk-events');
      assert.equal(request.attributes['http.response.status_code'], 200);
      assert.equal(request.attributes['cordon.event_type'], 'IDENTITY_CHECK');
      assert.equal(request.attributes['cordon.tier'], answer.decision.tier);
      assert.equal(request.attributes['cordon.status'], answer.status);
      const update = one(/^(UpdateWithStartWorkflow|StartWorkflowUpdate):riskEvent$/);
      assert.equal(update.service, 'cordon-api');
      assert.equal(update.parentSpanId, request.spanId, "Temporal's call is a child of the request");

      // The workflow (spans made in the sandbox, out through the worker's sink) and the activity.
      const handled = one('HandleUpdate:riskEvent');
      assert.equal(handled.service, 'cordon-worker');
      assert.equal(handled.parentSpanId, update.spanId, 'the workflow handles the update of that call');
      const scheduled = one('StartActivity:applyRestriction');
      const restricted = one('RunActivity:applyRestriction');
      assert.equal(restricted.parentSpanId, scheduled.spanId, 'the activity runs under its scheduling');
      assert.equal(restricted.attributes['cordon.case_id'], caseId);
      assert.equal(restricted.attributes['cordon.tier'], answer.decision.tier);
      assert.ok(
        spans.some((s) => s.spanId === scheduled.parentSpanId),
        'the scheduling belongs to a span of the same trace (the update handler)',
      );

      // The outbox: the case's messages, queued by that activity, each delivered by the dispatcher in its trace
      // (the backend's event reaches the log notifier; the user notice finds no channel in this setup: FAILED).
      const deliveries = spans.filter(
        (s) => s.name.startsWith('deliver ') && s.parentSpanId === restricted.spanId,
      );
      for (const d of deliveries) {
        assert.equal(d.service, 'cordon-worker');
        assert.equal(d.attributes['cordon.case_id'], caseId);
      }
      const backend = await eventually(
        async () =>
          inTrace().find(
            (s) => s.name === 'deliver NOTIFY_BACKEND' && s.parentSpanId === restricted.spanId,
          ) ?? false,
        60_000,
        "the backend event's delivery",
      );
      assert.equal(backend.attributes['cordon.delivery.outcome'], 'DELIVERED');

      // Both encodings reached the receiver: the API's protobuf, the worker's JSON.
      const types = new Set(receiver.requests.map((r) => r.contentType.split(';')[0]));
      assert.deepEqual([...types].sort(), ['application/json', 'application/x-protobuf']);

      // The request's log lines carry its trace ID; so does the dispatcher's line about the case's delivery.
      const apiLines = api!
        .output()
        .split('\n')
        .filter((l) => l.includes(`requestId=${requestId}`));
      assert.ok(apiLines.length > 0, `the API logged the request:\n${api!.output().slice(-2000)}`);
      for (const line of apiLines) assert.match(line, new RegExp(`trace_id=${traceId}\\b`), line);
      const workerLines = worker!
        .output()
        .split('\n')
        .filter((l) => l.includes(`caseId=${caseId}`));
      assert.ok(
        workerLines.length > 0,
        `the worker logged the case's messages:\n${worker!.output().slice(-2000)}`,
      );
      for (const line of workerLines) assert.match(line, new RegExp(`trace_id=${traceId}\\b`), line);

      // Nothing personal in any span, nor anywhere in what was sent (raw bytes: protobuf keeps strings as UTF-8).
      for (const [name, value] of Object.entries(personal)) {
        for (const r of receiver.requests) assert.ok(!r.body.includes(value), `${name} sent to the receiver`);
        for (const s of receiver.spans())
          assert.ok(
            !JSON.stringify([s.name, s.attributes, s.events]).includes(value),
            `${name} in ${s.name}`,
          );
      }

      // The trace went through Temporal: the update's header carries the request's trace context.
      const header = await updateTraceHeader(accountId);
      assert.match(header?.traceparent ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    });

    it("a person's action is a trace of its own: the appeal's request, its update, the workflow, the delivery of its message", async () => {
      const accountId = uniqueAccount('acct-appeal');
      const { event, personal } = restrictingEvent(accountId);
      const opened = await postEvent(apiUrl, event, `req-open-${randomUUID()}`);
      const caseId = opened.caseId;
      const statement = `I renewed my passport after my marriage, ref ${randomUUID().slice(0, 8)}`;
      const res = await fetch(`${apiUrl}/v1/cases/${caseId}/appeal`, {
        method: 'POST',
        headers: { authorization: 'Bearer dev-backend', 'content-type': 'application/json' },
        body: JSON.stringify({ statement, requestId: `appeal-${randomUUID()}` }),
      });
      assert.equal(res.status, 200, await res.text());

      const request = await eventually(
        async () =>
          receiver
            .spans()
            .find(
              (s) => s.name === 'POST /v1/cases/:caseId/appeal' && s.attributes['cordon.case_id'] === caseId,
            ) ?? false,
        60_000,
        "the appeal's span",
      );
      assert.equal(request.parentSpanId, '', 'the appeal begins a trace');
      const opening = receiver
        .spans()
        .find((s) => s.name === 'POST /v1/risk-events' && s.attributes['cordon.case_id'] === caseId);
      assert.notEqual(request.traceId, opening?.traceId, 'not the trace of the event that opened the case');
      // The appeal changes no restriction: its message goes through the workflow's outbox loop, in its trace.
      const spans = await eventually(
        async () => {
          const all = receiver.spans().filter((s) => s.traceId === request.traceId);
          const runs = all.filter((s) => s.name.startsWith('RunActivity:'));
          const delivered = all.some(
            (s) =>
              s.name.startsWith('deliver ') &&
              s.attributes['cordon.case_id'] === caseId &&
              runs.some((r) => r.spanId === s.parentSpanId),
          );
          return delivered && all.some((s) => s.name === 'HandleUpdate:appeal') ? all : false;
        },
        60_000,
        "the appeal's update, its handling and its message's delivery in its trace",
      );
      const update = spans.find((s) => s.name === 'StartWorkflowUpdate:appeal');
      assert.equal(update?.parentSpanId, request.spanId);
      assert.equal(spans.find((s) => s.name === 'HandleUpdate:appeal')?.parentSpanId, update.spanId);
      for (const [name, value] of Object.entries({ ...personal, statement }))
        for (const r of receiver.requests) assert.ok(!r.body.includes(value), `${name} sent to the receiver`);
    });

    it("the traced case's history replays with the bundle the worker ran", async () => {
      const accountId = uniqueAccount('acct-traced-replay');
      const { event } = restrictingEvent(accountId);
      const { caseId } = await postEvent(apiUrl, event, `req-replay-${randomUUID()}`);
      // Once its first message is delivered, the history holds the update, the activities and their headers.
      await eventually(
        async () =>
          receiver
            .spans()
            .some((s) => s.name.startsWith('deliver ') && s.attributes['cordon.case_id'] === caseId),
        60_000,
        'a delivery of the case',
      );
      const { client } = await sharedConnections();
      const history = await client.workflow.getHandle(caseWorkflowId(accountId)).fetchHistory();
      assert.ok(await updateTraceHeader(accountId), 'a traced history');
      await Worker.runReplayHistory(
        // The sink the workflow's spans leave by (tracing is off in this process: it drops them).
        { workflowBundle: { codePath: bundle }, dataConverter: testDataConverter, sinks: tracingSinks() },
        history,
        `traced-${accountId}`,
      );
    });
  });

  describe('off: with the variables unset', () => {
    let receiver: OtlpReceiver;
    let running: ApiHarness | undefined;
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    /** fn with the API's JSON log lines kept in `lines` instead of printed. */
    async function capturing<T>(fn: () => Promise<T>): Promise<T> {
      process.stdout.write = (chunk: string | Uint8Array) => {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        return true;
      };
      try {
        return await fn();
      } finally {
        process.stdout.write = write;
      }
    }

    before(async function () {
      this.timeout(300_000);
      for (const name of Object.keys(process.env).filter((n) => n.startsWith('OTEL_')))
        delete process.env[name];
      receiver = await startOtlpReceiver();
      running = await capturing(() => startApiHarness(createLogger('api', { json: true })));
    });

    after(async () => {
      process.stdout.write = write;
      await running?.close();
      await receiver?.close();
    });

    it('traces nothing: no SDK, no trace header to Temporal, no stored trace context, no trace ID in the logs', async () => {
      assert.equal(activeTracing(), undefined, 'no SDK started');
      const accountId = uniqueAccount('acct-untraced');
      const { event } = restrictingEvent(accountId);
      const requestId = `req-untraced-${randomUUID()}`;
      const { caseId } = await capturing(() => postEvent(running!.api.url, event, requestId));
      // The case's messages delivered: everything a trace would have covered has happened.
      const messages = await eventually(
        async () => {
          const m = await running!.h.store.outbox.messagesOf(caseId);
          return m.length > 0 && m.every((x) => x.status !== 'PENDING') ? m : false;
        },
        60_000,
        "the case's messages delivered",
      );
      const request = lines.filter((l) => l.includes(requestId));
      assert.ok(request.length > 0, 'the request was logged');
      for (const line of request) assert.doesNotMatch(line, /trace_id|span_id/, line);
      assert.equal(await updateTraceHeader(accountId), undefined, 'the update carries no trace header');
      const keys = messages.map((m) => m.idempotencyKey);
      const stored = await running!.h.store.db.query<{ idempotency_key: string }>(
        'SELECT idempotency_key FROM message_traces',
      );
      assert.deepEqual(
        stored.filter((r) => keys.includes(r.idempotency_key)),
        [],
        'no trace context kept with its messages',
      );
      assert.equal(receiver.requests.length, 0, 'nothing sent to the receiver');
    });
  });
});
