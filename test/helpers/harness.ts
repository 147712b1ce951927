// A worker and a case service on the shared dev server, with a task queue of their own per test.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { CaseService } from '../../api/case-service';
import { startApi, type RunningApi } from '../../api/main';
import { parseConfig } from '../../infra/config';
import type { Logger } from '../../infra/logger';
import type { UpdateDefinition } from '@temporalio/common';
import { caseWorkflowId, type CaseAction, type CaseView } from '../../core/contracts';
import { caseViewQuery } from '../../workflows/definitions';
import type { LoadedPolicy } from '../../core/policy';
import { parsePolicy } from '../../infra/policy-loader';
import { createCaseWorker } from '../../worker/create';
import { startDispatcher, type Dispatcher } from '../../activities/dispatcher';
import type { Store } from '../../infra/store';
import { defaultPolicy, quiet, testDeps, type TestDeps } from './deps';
import { ensureTemporalCli } from '../../scripts/temporal-tools';
import { sharedDevServer, TEST_CODEC_KEYS, testCodec, testDataConverter, workflowBundle } from './servers';

export interface Harness extends TestDeps {
  taskQueue: string;
  /** Delivers the outbox to the recording channel and notifier, as a worker process's dispatcher does. */
  dispatcher: Dispatcher;
  client: Client;
  cases: CaseService;
  worker: Worker;
  handle(accountId: string): WorkflowHandle;
  view(accountId: string): Promise<CaseView>;
  /** Sends a human action to the account's current case, naming it as the API does. */
  act<A extends CaseAction>(
    accountId: string,
    update: UpdateDefinition<CaseView, [A]>,
    args: Omit<A, 'caseId'>,
  ): Promise<CaseView>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RELEASE: string = (require('../../package.json') as { version: string }).version;

let connections: Promise<{ native: NativeConnection; client: Client }> | undefined;

export function sharedConnections(): Promise<{ native: NativeConnection; client: Client }> {
  connections ??= (async () => {
    const server = await sharedDevServer();
    const native = await NativeConnection.connect({ address: server.address });
    // Every workflow test runs encrypted, with the committed test key (so recorded histories are encrypted too).
    return { native, client: new Client({ connection: native, dataConverter: testDataConverter }) };
  })();
  return connections;
}

const dispatchers = new Set<Dispatcher>();

export async function newHarness(
  options: { policy?: LoadedPolicy; taskQueue?: string; store?: Store } = {},
): Promise<Harness> {
  const { native, client } = await sharedConnections();
  const t = await testDeps({ policy: options.policy, store: options.store });
  const taskQueue = options.taskQueue ?? `tq-${randomUUID()}`;
  const dispatcher = startDispatcher({
    store: t.store,
    channels: t.deps.channels,
    backend: t.deps.backend,
    logger: quiet,
    pollMs: 100,
    maxBackoffMs: 500,
  });
  t.deps.onEnqueued = () => dispatcher.kick();
  dispatchers.add(dispatcher);
  const worker = await createCaseWorker({
    connection: native,
    namespace: 'default',
    taskQueue,
    deps: t.deps,
    codec: testCodec,
    workflowBundle: await workflowBundle(),
  });
  const handle = (accountId: string) => client.workflow.getHandle(caseWorkflowId(accountId));
  return {
    ...t,
    taskQueue,
    dispatcher,
    client,
    worker,
    cases: new CaseService({
      client,
      scorer: t.deps.scorer,
      logger: quiet,
      store: t.store,
      eventIdWindowMs: 7 * 24 * 3600_000,
      taskQueue,
    }),
    handle,
    view: async (accountId) => (await handle(accountId).query(caseViewQuery))!,
    async act<A extends CaseAction>(
      accountId: string,
      update: UpdateDefinition<CaseView, [A]>,
      args: Omit<A, 'caseId'>,
    ) {
      const { caseId } = (await handle(accountId).query(caseViewQuery))!;
      return handle(accountId).executeUpdate(update, { args: [{ ...args, caseId } as A] });
    },
  };
}

export async function closeSharedConnections(): Promise<void> {
  await Promise.all([...dispatchers].map((d) => d.stop()));
  dispatchers.clear();
  if (connections) await (await connections).native.close();
  connections = undefined;
}

/** Runs fn with a fresh worker that stops afterwards. */
export async function withHarness<T>(
  fn: (h: Harness) => Promise<T>,
  options: { policy?: LoadedPolicy; store?: Store } = {},
): Promise<T> {
  const h = await newHarness(options);
  try {
    return await h.worker.runUntil(fn(h));
  } finally {
    await h.dispatcher.stop();
    dispatchers.delete(h.dispatcher);
  }
}

/** Polls until the check passes (it throws or returns false until then). */
export async function eventually<T>(
  check: () => Promise<T | false>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== false) return result;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`${what} not reached in ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The default policy with every duration in seconds, so deadlines pass during a test on the real server. */
export function shortPolicy(): LoadedPolicy {
  const raw = JSON.parse(JSON.stringify(defaultPolicy().policy));
  raw.version = 'test-short';
  for (const tier of Object.keys(raw.tiers)) {
    Object.assign(raw.tiers[tier], {
      userDeadline: '4s',
      remindBefore: ['2s'],
      reviewSla: '3s',
      infoDeadline: '3s',
    });
  }
  raw.tiers.PROTECT.coolingOff = '2s';
  raw.lockout = { waits: ['2s', '3s'], permanentAfter: 2, memory: '3s' };
  return parsePolicy(raw, 'short test policy');
}

/** With RECORD_HISTORIES set (npm run record-histories), keeps the case's history for the replay test. */
export async function recordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  // Each release keeps its own folder: the histories it wrote must replay under every later release.
  const dir = join(__dirname, '..', 'histories', RELEASE);
  mkdirSync(dir, { recursive: true });
  // The CLI writes the same proto-JSON as the Web UI's download, which the replayer reads.
  const { address } = await sharedDevServer();
  const json = execFileSync(
    await ensureTemporalCli(),
    ['workflow', 'show', '--address', address, '-w', handle.workflowId, '--output', 'json'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  writeFileSync(join(dir, `${name}.json`), json);
}

export interface ApiHarness {
  h: Harness;
  api: RunningApi;
  /** Stops the API, then the worker. */
  close(): Promise<void>;
}

/**
 * A running worker and the API over real HTTP on the shared dev server, sharing the harness's database;
 * `env` adds configuration (e.g. a data folder of the test's own).
 */
export async function startApiHarness(
  logger: Logger = quiet,
  env: Record<string, string> = {},
): Promise<ApiHarness> {
  const server = await sharedDevServer();
  const h = await newHarness();
  const workerDone = h.worker.run();
  const config = parseConfig({
    PORT: '0',
    TEMPORAL_ADDRESS: server.address,
    CORDON_TASK_QUEUE: h.taskQueue,
    CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
    ...env,
  });
  const api = await startApi(config, logger, undefined, h.store);
  return {
    h,
    api,
    async close() {
      await api.close();
      h.worker.shutdown();
      await workerDone;
    },
  };
}

/** One API call over real HTTP with a bearer token and an optional JSON body: its status, headers and JSON. */
export async function callApi(
  base: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}
