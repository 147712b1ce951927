// The trace context of the work in hand, for the modules every process loads (the logger, the outbox, the API's
// request middleware): OpenTelemetry's API only, never its SDK. With tracing off (infra/tracing.ts started
// nothing) the API is a no-op: no span is ever active, every function here answers "none" at once.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';

/** The tracer of Cordon's own spans (the HTTP requests, the outbox's deliveries). */
export const CORDON_TRACER = 'cordon';

/** The active span's context, if it belongs to a trace being recorded. */
function sampledContext(ctx: Context = context.active()): SpanContext | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc && trace.isSpanContextValid(sc) && (sc.traceFlags & TraceFlags.SAMPLED) !== 0 ? sc : undefined;
}

/** `trace_id` and `span_id` of the active span for a log line, or undefined outside a recorded trace. */
export function traceFields(): { trace_id: string; span_id: string } | undefined {
  const sc = sampledContext();
  return sc ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
}

/** A trace context as W3C headers carry it: `traceparent`, and `tracestate` when the trace has one. */
export interface StoredTraceContext {
  traceparent: string;
  tracestate?: string;
}

/**
 * The W3C trace context of the active span (an activity's, when it queues messages); undefined outside a
 * recorded trace.
 */
export function currentTraceContext(): StoredTraceContext | undefined {
  if (!sampledContext()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return undefined;
  return {
    traceparent: carrier.traceparent,
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}

/** The headers of the trace context an outgoing request carries: W3C's own, never baggage a caller sent. */
const TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

/**
 * The W3C `traceparent` (and `tracestate`, if any) of the active span, for an HTTP request Cordon makes (a
 * webhook, the account gateway, a data source, the contact directory): its receiver can join the trace. Put in
 * by the propagator infra/tracing.ts registers; with tracing off that is OpenTelemetry's no-op, and outside a
 * span there is nothing to put: either way, no header.
 */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const headers: Record<string, string> = {};
  for (const name of TRACE_HEADERS) if (carrier[name]) headers[name] = carrier[name];
  return headers;
}

/**
 * Runs fn in a span that continues the trace a stored `traceparent` names (a message's delivery continues the
 * trace of the activity that queued it). Without one, or with tracing off, fn runs alone and gets no span.
 */
export async function inStoredTrace<T>(
  stored: StoredTraceContext | undefined,
  name: string,
  attributes: Attributes,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!stored?.traceparent) return fn(undefined);
  const parent = propagation.extract(context.active(), { ...stored });
  if (!sampledContext(parent)) return fn(undefined);
  return trace
    .getTracer(CORDON_TRACER)
    .startActiveSpan(name, { kind: SpanKind.PRODUCER, attributes }, parent, async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message?.slice(0, 200) });
        throw err;
      } finally {
        span.end();
      }
    });
}

/** Whether infra/tracing.ts started the SDK in this process (set there; read by the API's middleware). */
let recording = false;
export function setTracingActive(on: boolean): void {
  recording = on;
}
export function tracingActive(): boolean {
  return recording;
}

/**
 * The route template of a request, never its URL (which carries case IDs, tokens): the matched route's path
 * under its router's mount point, or `unmatched` (the request's span and its metrics' `route` label, in
 * infra/metrics.ts). Mount points with parameters would put values in `req.baseUrl`, so only its first segment
 * is kept.
 */
export function routeOf(req: IncomingMessage): string {
  const r = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };
  const path = typeof r.route?.path === 'string' ? r.route.path : undefined;
  if (!path) return 'unmatched';
  const mount = r.baseUrl?.split('/')[1];
  return mount ? `/${mount}${path === '/' ? '' : path}` : path;
}

/** Probes and scrapes, every few seconds: a trace each would bury the requests people and the backend make. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The server span of one HTTP request (its trace continues the caller's `traceparent`, if it sent one): named
 * by method and route template once routed, with the status code; fn runs inside it, so every span the request
 * begins (Temporal's client calls among them) and every log line it writes belongs to its trace.
 */
export function traceRequest(req: IncomingMessage, res: ServerResponse, fn: () => void): void {
  if (!recording || UNTRACED_PATHS.has(req.url?.split('?')[0] ?? '')) return fn();
  const parent = propagation.extract(context.active(), req.headers);
  const method = req.method ?? 'GET';
  const span = trace
    .getTracer(CORDON_TRACER)
    .startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent);
  res.once('close', () => {
    const route = routeOf(req);
    span.updateName(`${method} ${route}`);
    span.setAttribute('http.route', route);
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  context.with(trace.setSpan(parent, span), fn);
}

/** Codes only: an event type, a tier or a status is upper-case letters and underscores. */
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * What an answer says about the case, on the request's span: the event type of the body, and the case ID, tier
 * and status of the answer, each only if it is a code or an ID (nothing personal is ever copied).
 */
export function annotateRequest(body: unknown, answer: unknown): void {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return;
  const field = (o: unknown, key: string): unknown =>
    o && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined;
  const pick = (v: unknown, shape: RegExp): string | undefined =>
    typeof v === 'string' && shape.test(v) ? v : undefined;
  // A risk event's answer has its tier in its decision; a case view has it at the top.
  const attributes: Attributes = {
    'cordon.event_type': pick(field(body, 'type'), CODE),
    'cordon.case_id': pick(field(answer, 'caseId'), ID),
    'cordon.tier': pick(field(answer, 'tier'), CODE) ?? pick(field(field(answer, 'decision'), 'tier'), CODE),
    'cordon.status': pick(field(answer, 'status'), CODE),
  };
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined) span.setAttribute(k, v);
}
