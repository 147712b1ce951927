// OpenTelemetry traces (docs/operations.md, _Traces_): started once per process when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, off otherwise (no SDK, no exporter,
// no interceptor: OpenTelemetry's API stays its no-op). A trace begins with an HTTP request to the API: roots
// anywhere else (the dispatcher's rounds, the linker's and the gauges' Temporal calls) are not recorded. Temporal's
// own interceptors carry it through the update into the workflow and its activities; the outbox carries it to the
// delivery, and Cordon's own HTTP requests (webhooks, the gateway, data sources) to their receivers, in a W3C
// `traceparent` (infra/trace-context.ts). Exported spans keep only allow-listed attributes: no personal data leaves.
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SamplingDecision,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { SpanKind, trace, type Attributes, type Context, type Link } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  InjectedSinks,
  Next,
} from '@temporalio/worker';
import type { Context as ActivityContext } from '@temporalio/activity';
import { envValue } from './config-schema';
import { setTracingActive } from './trace-context';

export interface TracingSettings {
  /** Where spans go: the traces endpoint itself (`…/v1/traces`). */
  url: string;
  protocol: 'http/json' | 'http/protobuf';
  serviceName: string;
}

/**
 * The settings the standard variables give, or undefined (tracing off) when no endpoint is set. A signal-specific
 * variable (…_TRACES_…) wins over the general one; the general endpoint is a base the traces path is added to.
 */
export function tracingFromEnv(
  defaultServiceName: string,
  env: NodeJS.ProcessEnv = process.env,
): TracingSettings | undefined {
  const tracesEndpoint = envValue('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', env);
  const endpoint = envValue('OTEL_EXPORTER_OTLP_ENDPOINT', env);
  const url = tracesEndpoint ?? (endpoint ? `${endpoint.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!url) return undefined;
  return {
    url,
    protocol:
      envValue('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', env) ?? envValue('OTEL_EXPORTER_OTLP_PROTOCOL', env),
    serviceName: envValue('OTEL_SERVICE_NAME', env) ?? defaultServiceName,
  };
}

/**
 * Span attributes that may leave the process: Cordon's own (codes and IDs, set by infra/trace-context.ts and the
 * activity interceptor below), HTTP's route template, method and status, and the IDs Temporal's interceptors and
 * workflow span sink add. Anything else (a workflow's memo or search attributes, a termination reason) is dropped.
 */
const ALLOWED_ATTRIBUTES = new Set([
  'http.request.method',
  'http.route',
  'http.response.status_code',
  'temporalWorkflowId',
  'temporalActivityId',
  'temporalUpdateId',
  'run_id',
  'workflowId',
  'runId',
  'workflowType',
  'taskQueue',
  'namespace',
  'attempt',
]);
const allowedAttribute = (key: string) => key.startsWith('cordon.') || ALLOWED_ATTRIBUTES.has(key);
/** Of a recorded exception: its type and message (error messages never carry personal data), not its stack. */
const EXCEPTION_ATTRIBUTES = new Set(['exception.type', 'exception.message']);

function only(attributes: Attributes, keep: (key: string) => boolean): Attributes {
  return Object.fromEntries(Object.entries(attributes).filter(([k]) => keep(k)));
}

/** The span as exported: the same, with only the attributes allowed to leave. */
export function scrubbed(span: ReadableSpan): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanId: span.parentSpanId,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: only(span.attributes, allowedAttribute),
    links: span.links.map((l): Link => ({ context: l.context })),
    events: span.events.map((e) => ({
      name: e.name,
      time: e.time,
      attributes: only(e.attributes ?? {}, (k) => EXCEPTION_ATTRIBUTES.has(k)),
    })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationLibrary: span.instrumentationLibrary,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** Exports through another exporter, each span scrubbed first. */
class ScrubbingExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans.map(scrubbed), done);
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** Roots: only an HTTP request's server span begins a trace. Children follow their parent's decision. */
class RequestRootSampler implements Sampler {
  shouldSample(_ctx: Context, _traceId: string, _name: string, kind: SpanKind): SamplingResult {
    return {
      decision: kind === SpanKind.SERVER ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD,
    };
  }
  toString(): string {
    return 'RequestRootSampler';
  }
}

export interface Tracing {
  settings: TracingSettings;
  /** Where the worker's sink hands the workflows' spans (the same batch as the process's own). */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Sends what is buffered (a stopping process calls it before it exits). */
  flush(): Promise<void>;
}

let running: Tracing | undefined;

/**
 * Starts the SDK once per process (the API and the worker share it under `npm start`: the first to start names
 * the service), or nothing when the variables set no endpoint. Later calls answer the same.
 */
export function startTracing(
  defaultServiceName: string,
  env: NodeJS.ProcessEnv = process.env,
): Tracing | undefined {
  if (running) return running;
  const settings = tracingFromEnv(defaultServiceName, env);
  if (!settings) return undefined;
  const exporter =
    settings.protocol === 'http/json'
      ? new OtlpJsonExporter({ url: settings.url })
      : new OtlpProtobufExporter({ url: settings.url });
  const spanProcessor = new BatchSpanProcessor(new ScrubbingExporter(exporter));
  const resource = Resource.default().merge(
    new Resource({ [ATTR_SERVICE_NAME]: settings.serviceName }),
  ) as Resource;
  const provider = new NodeTracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root: new RequestRootSampler() }),
    spanProcessors: [spanProcessor],
  });
  // The W3C trace context propagator and an AsyncLocalStorage context manager, for the whole process.
  provider.register();
  setTracingActive(true);
  running = { settings, spanProcessor, resource, flush: () => provider.forceFlush() };
  return running;
}

/** The tracing this process started, if any. */
export function activeTracing(): Tracing | undefined {
  return running;
}

/** Flushes the spans still buffered, bounded: a collector that is down never holds a stop up. */
export async function flushTracing(timeoutMs = 2_000): Promise<void> {
  if (!running) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    running.flush().catch(() => undefined),
    new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
  ]).finally(() => clearTimeout(timer));
}

/** The API's Temporal client: starts and updates carry the request's trace into the workflow (none when off). */
export function tracingClientInterceptors(): WorkflowClientInterceptor[] {
  return running ? [new OpenTelemetryWorkflowClientInterceptor()] : [];
}

/** The case or tier an activity acts on, on its span: taken from its input's IDs and codes only. */
class CaseAttributesInterceptor implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
    const span = trace.getActiveSpan();
    const first = input.args[0] as Record<string, unknown> | undefined;
    if (span?.isRecording() && first && typeof first === 'object') {
      if (typeof first.caseId === 'string') span.setAttribute('cordon.case_id', first.caseId);
      if (typeof first.tier === 'string' && /^[A-Z_]{1,32}$/.test(first.tier))
        span.setAttribute('cordon.tier', first.tier);
    }
    return next(input);
  }
}

/** The worker's activity interceptors: each activity runs in a span of the trace that scheduled it. */
export function tracingActivityInterceptors(): ActivityInterceptorsFactory[] {
  if (!running) return [];
  return [
    (ctx: ActivityContext) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
    () => ({ inbound: new CaseAttributesInterceptor() }),
  ];
}

/**
 * The sink workflow spans leave the sandbox through (workflows/otel-interceptors.ts): to the exporter when tracing
 * is on, else nowhere (a workflow records spans only inside a trace the API began: with tracing on there).
 */
export function tracingSinks(): InjectedSinks<{ exporter: { export(spans: unknown[]): void } }> {
  if (running) return { exporter: makeWorkflowExporter(running.spanProcessor, running.resource) };
  return { exporter: { export: { fn: () => undefined } } };
}
