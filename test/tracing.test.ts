// Traces operators can follow (docs/operations.md, _Traces_): a real worker and a real API, each a process of
// its own as `npm run worker` and `npm run api` start them, export to an OTLP/HTTP receiver this test owns (the
// worker in `http/json`, the API in `http/protobuf`: both encodings decoded). One restricting risk event must be
// ONE trace holding the HTTP request, Temporal's update, the workflow's handling of it, the activity that applied
// the restriction and the outbox's delivery of a message of its case; the request's log lines carry the trace
// ID; no span holds the event's personal data; the backend's data source, account gateway and webhook receive
// the trace's `traceparent` naming the span that called them; and the case's traced history replays. With the
// variables unset nothing is traced: no trace header reaches Temporal or the backend, no trace context is
// stored, no log line names one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { WebhookNotifier } from '../activities/channels';
import { startDispatcher } from '../activities/dispatcher';
import { HttpAccountGateway } from '../activities/gateway';
import { caseWorkflowId } from '../core/contracts';
import type { BackendEvent } from '../core/messages';
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
import {
  BACKEND_SECRET,
  backendEnv,
  startBackendReceiver,
  traceContextOf,
  type BackendReceiver,
  type ReceivedCall,
} from './helpers/backend-receiver';
import { quiet, tempStore } from './helpers/deps';
import { uniqueAccount } from './helpers/events';
import { eventually, sharedConnections, startApiHarness, type ApiHarness } from './helpers/harness';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './helpers/otlp-receiver';
import { requires } from './helpers/requirements';
import { sharedDevServer, TEST_CODEC_KEYS, testDataConverter } from './helpers/servers';
import { postEvent, restrictingEvent, updateTraceHeader } from './helpers/traced-events';

describe('traces', function () {
  requires('temporal');
  this.timeout(300_000);

  describe('on: a worker and an API exporting to an OTLP/HTTP receiver the test owns', () => {
    let receiver: OtlpReceiver;
    let backend: BackendReceiver;
    let dir: string;
    let bundle: string;
    let worker: Started | undefined;
    let api: Started | undefined;
    let apiUrl: string;
    /** The same processes' settings without tracing's variables. */
    let untracedEnv: Record<string, string>;
    const trees: Proc[][] = [];

    before(async function () {
      this.timeout(600_000);
      receiver = await startOtlpReceiver();
      backend = await startBackendReceiver(BACKEND_SECRET);
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
        ...backendEnv(backend.url),
      };
      const { OTEL_EXPORTER_OTLP_ENDPOINT: _on, OTEL_BSP_SCHEDULE_DELAY: _delay, ...untraced } = env;
      untracedEnv = untraced;
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

    /** The server span of the risk event that opened the case, once the receiver has it. */
    const requestSpanOf = (caseId: string) =>
      eventually(
        async () =>
          receiver
            .spans()
            .find((s) => s.name === 'POST /v1/risk-events' && s.attributes['cordon.case_id'] === caseId) ??
          false,
        60_000,
        "the request's span",
      );

    after(async () => {
      await Promise.all([api && stopCordon(api), worker && stopCordon(worker)]);
      for (const tree of trees) killAll(tree);
      await receiver?.close();
      await backend?.close();
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
      const request = await requestSpanOf(caseId);
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
      // (the backend's event reaches its webhook; the user notice finds no channel in this setup: FAILED).
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

    it("the backend's data source, account gateway and webhook get the trace's traceparent, naming the span that called them", async () => {
      const accountId = uniqueAccount('acct-propagated');
      const { event } = restrictingEvent(accountId);
      // A caller in a sampled trace with a vendor's tracestate: both go on, through the outbox too. The caller's
      // baggage stays in Cordon.
      const callerTrace = randomUUID().replaceAll('-', '');
      const tracestate = `vendor=${randomUUID().slice(0, 8)}`;
      const { caseId } = await postEvent(apiUrl, event, `req-propagated-${randomUUID()}`, {
        traceparent: `00-${callerTrace}-${'1f'.repeat(8)}-01`,
        tracestate,
        baggage: `caller.note=${randomUUID()}`,
      });
      const request = await requestSpanOf(caseId);
      assert.equal(request.traceId, callerTrace, "the request joins its caller's trace");
      const calls = await eventually(
        async () => {
          const of = (path: string, key: string, value: string) =>
            backend.calls.filter((c) => c.path === path && c.body[key] === value);
          const found = {
            source: of('/source', 'accountId', accountId),
            gateway: of('/gateway/restrictions/apply', 'caseId', caseId),
            webhook: of('/webhook', 'caseId', caseId),
          };
          return Object.values(found).every((c) => c.length > 0) && found;
        },
        60_000,
        "the data source's lookup, the gateway's command and the webhook of the case",
      );
      // Each call's traceparent: the restricting event's trace (the one the OTLP receiver got), sampled, and as
      // its parent a span of that trace the receiver got too.
      const callerOf = async (c: ReceivedCall) => {
        const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(c.headers.traceparent));
        assert.ok(m, `${c.path}: traceparent ${String(c.headers.traceparent)}`);
        assert.equal(m[1], request.traceId, `${c.path}: the event's trace`);
        assert.equal(c.headers.tracestate, tracestate, `${c.path}: the trace's tracestate`);
        assert.equal(c.headers.baggage, undefined, `${c.path}: no baggage`);
        return eventually(
          async () => receiver.spans().find((s) => s.traceId === m[1] && s.spanId === m[2]) ?? false,
          60_000,
          `the span that called ${c.path}`,
        );
      };
      // The API scores the event in its request (a worker's scoring activity would look up under its own span).
      const lookups = await Promise.all(calls.source.map(callerOf));
      assert.ok(
        lookups.some((s) => s.spanId === request.spanId),
        `a lookup under the request: ${lookups.map((s) => s.name).join(', ')}`,
      );
      for (const s of lookups) assert.match(s.name, /^(POST \/v1\/risk-events|RunActivity:scoreRiskEvent)$/);
      const [applied] = await Promise.all(calls.gateway.map(callerOf));
      assert.equal(applied!.name, 'RunActivity:applyRestriction', 'the gateway is called by the activity');
      assert.equal(applied!.attributes['cordon.case_id'], caseId);
      for (const hook of await Promise.all(calls.webhook.map(callerOf))) {
        assert.equal(hook.name, 'deliver NOTIFY_BACKEND', "the webhook is sent by its message's delivery");
        assert.equal(hook.parentSpanId, applied!.spanId, 'of the message the activity queued');
        assert.equal(hook.attributes['cordon.delivery.outcome'], 'DELIVERED');
      }
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

    it('a case opened while tracing was off is traced from its next update on (the workflow loads tracing then)', async () => {
      // An API with tracing off opens the case (no trace context reaches the workflow: its interceptors pass
      // every call through, workflows/otel-interceptors.ts); the appeal through the traced API is the first
      // traced input of the cached workflow, which then makes the traced interceptors.
      const untracedApi = spawnCommand(process.execPath, ['--import', 'tsx', 'api/main.ts'], {
        ...untracedEnv,
        PORT: '0',
      });
      trees.push(processTree(untracedApi.child.pid!));
      let caseId: string;
      try {
        await waitForOutput(untracedApi, /API listening url=\S+/, 240_000);
        const untracedUrl = /API listening url=(\S+)/.exec(untracedApi.output())![1]!;
        const accountId = uniqueAccount('acct-late-trace');
        caseId = (await postEvent(untracedUrl, restrictingEvent(accountId).event, `req-${randomUUID()}`))
          .caseId;
        assert.equal(await updateTraceHeader(accountId), undefined, 'the opening update carried no trace');
      } finally {
        await stopCordon(untracedApi);
      }
      const res = await fetch(`${apiUrl}/v1/cases/${caseId}/appeal`, {
        method: 'POST',
        headers: { authorization: 'Bearer dev-backend', 'content-type': 'application/json' },
        body: JSON.stringify({
          statement: 'It was me, on my new phone.',
          requestId: `appeal-${randomUUID()}`,
        }),
      });
      assert.equal(res.status, 200, await res.text());
      const spans = await eventually(
        async () => {
          const request = receiver
            .spans()
            .find(
              (s) => s.name === 'POST /v1/cases/:caseId/appeal' && s.attributes['cordon.case_id'] === caseId,
            );
          if (!request) return false;
          const all = receiver.spans().filter((s) => s.traceId === request.traceId);
          const handled = all.some((s) => s.name === 'HandleUpdate:appeal');
          const delivered = all.some(
            (s) => s.name.startsWith('deliver ') && s.attributes['cordon.case_id'] === caseId,
          );
          return handled && delivered ? all : false;
        },
        60_000,
        "the appeal's handling in the workflow and its message's delivery, in the appeal's trace",
      );
      assert.ok(
        spans.some((s) => s.name.startsWith('RunActivity:')),
        'the activity in the trace',
      );
      assert.ok(
        !receiver
          .spans()
          .some((s) => s.name === 'POST /v1/risk-events' && s.attributes['cordon.case_id'] === caseId),
        'the opening event, through the untraced API, is in no trace',
      );
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
    let backend: BackendReceiver;
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
      backend = await startBackendReceiver(BACKEND_SECRET);
      const { CORDON_DATA_SOURCES } = backendEnv(backend.url);
      running = await capturing(() =>
        startApiHarness(createLogger('api', { json: true }), { CORDON_DATA_SOURCES }),
      );
      // The harness's worker runs the real activities: they call the real gateway here.
      running.h.deps.gateway = new HttpAccountGateway(`${backend.url}/gateway`, BACKEND_SECRET);
    });

    after(async () => {
      process.stdout.write = write;
      await running?.close();
      await receiver?.close();
      await backend?.close();
    });

    it('traces nothing: no SDK, no trace header to Temporal, no stored trace context, no trace ID in the logs', async () => {
      assert.equal(activeTracing(), undefined, 'no SDK started');
      const accountId = uniqueAccount('acct-untraced');
      const { event } = restrictingEvent(accountId);
      const requestId = `req-untraced-${randomUUID()}`;
      // A caller in a trace of its own: with tracing off, Cordon neither joins nor passes it on.
      const traceparent = `00-${randomUUID().replaceAll('-', '')}-${randomUUID().slice(0, 18).replace('-', '')}-01`;
      const { caseId } = await capturing(() =>
        postEvent(running!.api.url, event, requestId, { traceparent }),
      );
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
      const lookup = backend.calls.filter((c) => c.path === '/source' && c.body.accountId === accountId);
      const applied = backend.calls.filter(
        (c) => c.path === '/gateway/restrictions/apply' && c.body.caseId === caseId,
      );
      assert.equal(lookup.length, 1, "the data source was asked (the API's scoring)");
      assert.equal(applied.length, 1, 'the gateway was called (the activity)');
      for (const c of [...lookup, ...applied])
        assert.deepEqual(traceContextOf(c), [], `${c.path}: no trace context`);
    });

    it('a message queued while tracing was on is delivered without its stored trace context once it is off', async () => {
      const store = await tempStore();
      const event: BackendEvent = {
        type: 'restriction.changed',
        caseId: `case-${randomUUID()}`,
        accountId: uniqueAccount('acct-stored-trace'),
        status: 'LIMITED',
        tier: 'LIMIT',
        restricted: true,
        reasonCodes: [],
        outcome: null,
        at: new Date().toISOString(),
        idempotencyKey: `stored-trace-${randomUUID()}`,
      };
      await store.outbox.enqueue([{ kind: 'NOTIFY_BACKEND', event }]);
      // As an earlier run with tracing on would have kept it (infra/stores/outbox.ts).
      const traceparent = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
      const tracestate = 'vendor=stored';
      await store.db.run('INSERT INTO message_traces (idempotency_key, traceparent) VALUES (?, ?)', [
        event.idempotencyKey,
        traceparent,
      ]);
      await store.db.run('INSERT INTO message_tracestates (idempotency_key, tracestate) VALUES (?, ?)', [
        event.idempotencyKey,
        tracestate,
      ]);
      // The dispatcher's own read (a lease that ends at once, leaving the message to it) gives it the trace.
      const [due] = await store.outbox.leaseDue(1, 0);
      assert.deepEqual(due?.trace, { traceparent, tracestate }, 'the message is due with its stored trace');
      const dispatcher = startDispatcher({
        store,
        channels: [],
        backend: new WebhookNotifier(`${backend.url}/webhook`, BACKEND_SECRET),
        logger: quiet,
        pollMs: 50,
      });
      try {
        const hook = await eventually(
          async () =>
            backend.calls.find((c) => c.path === '/webhook' && c.body.caseId === event.caseId) ?? false,
          30_000,
          'the webhook delivered',
        );
        assert.deepEqual(traceContextOf(hook), [], 'no trace context sent');
      } finally {
        await dispatcher.stop();
        await store.db.close();
      }
    });
  });
});
