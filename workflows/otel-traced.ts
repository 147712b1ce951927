// Not a workflow: Temporal's own OpenTelemetry workflow interceptors, each with a tracer that records only inside a
// trace the API began, made for a workflow by workflows/otel-interceptors.ts once an input of it carries a trace
// context. A start, update or activity that arrives without a trace context records nothing and calls no sink. The
// code a case runs is the same with tracing on or off (the same calls, the same awaits: these classes only choose
// contexts), so turning tracing on or off never changes what a replay sees.
import {
  context,
  INVALID_SPAN_CONTEXT,
  trace,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import {
  workflowInfo,
  type ActivityInput,
  type Next,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/** The tracer Temporal's workflow interceptors name (their provider, registered in the sandbox, records). */
const TEMPORAL_WORKFLOW_TRACER = '@temporalio/interceptor-workflow';

/** A tracer that starts real spans only under a valid parent; elsewhere the same calls on a non-recording span. */
class InTraceOnly implements Tracer {
  constructor(private readonly inner: Tracer) {}

  startSpan(name: string, options?: SpanOptions, ctx: Context = context.active()): Span {
    const parent = trace.getSpanContext(ctx);
    return parent && trace.isSpanContextValid(parent)
      ? this.inner.startSpan(name, options, ctx)
      : trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    ctx: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    a: SpanOptions | F,
    b?: Context | F,
    c?: F,
  ): ReturnType<F> {
    // As OpenTelemetry's own tracer does it: the span, then fn inside a context that holds it.
    const fn = (c ?? (typeof b === 'function' ? b : a)) as F;
    const options = typeof a === 'function' ? undefined : a;
    const parent = typeof b === 'object' ? b : context.active();
    const span = this.startSpan(name, options, parent);
    return context.with(trace.setSpan(parent, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
}

/**
 * Per workflow: the span of its run, and the update whose handler began last, with the workflow task it began in
 * (the history's length then: the same on replay).
 */
interface Handling {
  run?: Span;
  update?: { ctx: Context; task: number };
}

// Each constructor first runs Temporal's (which registers its provider in the sandbox), then swaps the tracer.
class Inbound extends OpenTelemetryInboundInterceptor {
  protected override readonly tracer: Tracer = new InTraceOnly(trace.getTracer(TEMPORAL_WORKFLOW_TRACER));
  constructor(private readonly handling: Handling) {
    super();
  }

  override execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    return super.execute(input, (i) => {
      this.handling.run = trace.getSpan(context.active());
      return next(i);
    });
  }

  override handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>) {
    return super.handleUpdate(input, (i) => {
      this.handling.update = { ctx: context.active(), task: workflowInfo().historyLength };
      return next(i);
    });
  }
}

class Outbound extends OpenTelemetryOutboundInterceptor {
  protected override readonly tracer: Tracer = new InTraceOnly(trace.getTracer(TEMPORAL_WORKFLOW_TRACER));
  constructor(private readonly handling: Handling) {
    super();
  }

  /**
   * The workflow's own loops (the outbox hand-over among them) run in its run's context: an activity they
   * schedule in the workflow task in which an update began (the messages a person's action sends) belongs to
   * that update's trace, not to the trace of the request that started the case.
   */
  override scheduleActivity(
    input: ActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>,
  ) {
    const update = this.handling.update;
    const fromRun = trace.getSpan(context.active()) === this.handling.run;
    if (update && fromRun && update.task === workflowInfo().historyLength)
      return context.with(update.ctx, () => super.scheduleActivity(input, next));
    return super.scheduleActivity(input, next);
  }
}

/** One workflow's tracing interceptors (constructing the first registers Temporal's provider in the sandbox). */
export function tracedInterceptors(): Traced {
  const handling: Handling = {};
  return {
    inbound: new Inbound(handling),
    outbound: new Outbound(handling),
    internals: new OpenTelemetryInternalsInterceptor(),
  };
}

export interface Traced {
  inbound: WorkflowInboundCallsInterceptor;
  outbound: WorkflowOutboundCallsInterceptor;
  internals: WorkflowInternalsInterceptor;
}
