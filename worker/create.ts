import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import { createActivities, type ActivityDeps } from '../activities';
import { createBulkActivities } from '../activities/bulk';
import { TASK_QUEUE } from '../core/contracts';
import { codecDataConverter, FAILURE_CONVERTER_PATH } from '../infra/codec';
import { DEFAULT_WORKFLOW_CACHE_SIZE, DEFAULT_WORKFLOW_TASK_SLOTS, envValue } from '../infra/config-schema';
import { tracingActivityInterceptors, tracingSinks } from '../infra/tracing';

export const WORKFLOWS_PATH = require.resolve('../workflows');
/**
 * Bundled with the workflows whatever the configuration: tracing's workflow interceptors (they record only inside
 * a trace, so the workflow code is the same with tracing on or off; infra/tracing.ts).
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/otel-interceptors')];

/**
 * How the workflows are bundled, by the worker and by writeWorkflowBundle alike.
 * - zod and express are kept out of the sandbox even if an import slips in: nothing there needs them.
 * - The workflow code and the tracing gate are evaluated once per workflow thread, before any workflow, and
 *   shared (deep-frozen) by every workflow, instead of anew for each new case: that evaluation was a large part
 *   of a new case's first workflow task. Safe because none of these modules keeps state at module scope or calls
 *   a workflow API there (test/workflow-preload.test.ts reads every one); OpenTelemetry's modules,
 *   which do keep state, are loaded per traced workflow by the gate and are not preloaded.
 */
export function workflowBundlerOptions(workflowsPath = WORKFLOWS_PATH) {
  return {
    ignoreModules: ['zod', 'express'],
    preloadModules: [workflowsPath, ...WORKFLOW_INTERCEPTOR_MODULES],
  };
}
export const WORKFLOW_BUNDLER_OPTIONS = workflowBundlerOptions();

export interface CaseWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue?: string;
  deps: ActivityDeps;
  /** Encrypts every payload the worker sends (and decrypts what it reads): see infra/codec.ts. */
  codec: PayloadCodec;
  /**
   * A prebuilt bundle (tests build it once); otherwise the workflows are bundled at start-up. A prebuilt bundle
   * must be built with failureConverterPath: FAILURE_CONVERTER_PATH, or workflow failures go out in plaintext,
   * and with workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, or workflows record no spans.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** How many case workflows the worker keeps in memory (CORDON_WORKFLOW_CACHE_SIZE); the rest replay on use. */
  maxCachedWorkflows?: number;
  /** Workflow tasks the worker takes at once (CORDON_WORKFLOW_TASK_SLOTS). */
  workflowTaskSlots?: number;
  /**
   * The worker processes' drain (WORKER_DRAIN); unset, the SDK's defaults (activities in flight are cancelled
   * as soon as a shutdown is asked, and nothing bounds it), which the tests' in-process workers keep.
   */
  drain?: { graceMs: number; forceMs: number };
}

/**
 * A worker process's stop (SIGTERM): it stops polling at once; activities in flight get graceMs to finish (they
 * call out over HTTP with their own 10 s timeouts) before the SDK cancels them, and at forceMs the SDK gives up.
 * WORKER_STOP_MS bounds the whole stop, the outbox dispatcher and the database included.
 */
export const WORKER_DRAIN = { graceMs: 20_000, forceMs: 25_000 };
export const WORKER_STOP_MS = 29_000;

// The defaults and their reasons live with the variables' schema (infra/config-schema.ts).
export { DEFAULT_WORKFLOW_CACHE_SIZE, DEFAULT_WORKFLOW_TASK_SLOTS };

/** CORDON_WORKFLOW_CACHE_SIZE: a positive integer; unset, the default. A bad value stops the worker naming it. */
export function workflowCacheSizeFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return envValue('CORDON_WORKFLOW_CACHE_SIZE', env);
}

/** CORDON_WORKFLOW_TASK_SLOTS: an integer from 2 (the SDK's minimum with a cache) to 100; unset, the default. */
export function workflowTaskSlotsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return envValue('CORDON_WORKFLOW_TASK_SLOTS', env);
}

export function createCaseWorker(o: CaseWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue ?? TASK_QUEUE,
    activities: { ...createActivities(o.deps), ...createBulkActivities(o.deps) },
    maxCachedWorkflows: o.maxCachedWorkflows ?? DEFAULT_WORKFLOW_CACHE_SIZE,
    maxConcurrentWorkflowTaskExecutions: o.workflowTaskSlots ?? workflowTaskSlotsFromEnv(),
    ...(o.drain ? { shutdownGraceTime: o.drain.graceMs, shutdownForceTime: o.drain.forceMs } : {}),
    // The bundler (no prebuilt bundle) takes the failure converter from here too.
    dataConverter: codecDataConverter(o.codec),
    // Tracing (infra/tracing.ts): activities in spans of their workflow's trace, workflow spans out by the sink.
    sinks: tracingSinks(),
    ...(o.workflowBundle
      ? { workflowBundle: o.workflowBundle, interceptors: { activity: tracingActivityInterceptors() } }
      : {
          workflowsPath: WORKFLOWS_PATH,
          bundlerOptions: WORKFLOW_BUNDLER_OPTIONS,
          interceptors: {
            activity: tracingActivityInterceptors(),
            workflowModules: WORKFLOW_INTERCEPTOR_MODULES,
          },
        }),
  });
}

/**
 * Bundles the workflows once and writes the code to a file, for CORDON_WORKFLOW_BUNDLE: a worker started with
 * it skips webpack (the chaos run, which SIGKILLs its worker again and again, has it back in about 2 s on
 * 2 cores, most of that loading Node modules).
 */
export async function writeWorkflowBundle(file: string, workflowsPath = WORKFLOWS_PATH): Promise<string> {
  const noop = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    // The workflows bundled are the ones preloaded (the chaos run may bundle another release's).
    ...workflowBundlerOptions(workflowsPath),
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop },
  });
  const path = resolve(file);
  writeFileSync(path, code);
  return path;
}

/**
 * CORDON_WORKFLOW_BUNDLE=<file>: a bundle prebuilt by writeWorkflowBundle (it must come from the same workflow
 * code, or replay would break). Unset: the worker bundles the workflows at start-up.
 */
export function workflowBundleFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): WorkerOptions['workflowBundle'] | undefined {
  const file = env.CORDON_WORKFLOW_BUNDLE;
  if (!file) return undefined;
  const codePath = resolve(file);
  if (!existsSync(codePath)) throw new Error(`CORDON_WORKFLOW_BUNDLE: no such file ${codePath}`);
  return { codePath };
}

/**
 * The SDK's INFO lines (webpack's bundle report among them) drown Cordon's own; keep its warnings. With an
 * address, the SDK's own metrics (workflow and activity task latencies, slots, polls...) are served there in
 * Prometheus format. ownSignals: the process handles SIGINT and SIGTERM itself (infra/shutdown.ts) and stops
 * its workers in its own order; otherwise the SDK shuts every worker down on them.
 */
export function installSdkLogger(sdkMetricsAddress?: string, o: { ownSignals?: boolean } = {}): void {
  Runtime.install({
    logger: new DefaultLogger(envValue('SDK_LOG_LEVEL')),
    ...(o.ownSignals ? { shutdownSignals: [] } : {}),
    ...(sdkMetricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddress } } } }
      : {}),
  });
}
