// Not a workflow: the workflow interceptors of tracing (infra/tracing.ts), bundled with the workflows whether
// tracing is on or off (worker/create.ts). A gate: Temporal's OpenTelemetry interceptors (workflows/otel-traced.ts)
// are loaded and made for a workflow only once an input of it (its start, an update, a signal, a query) carries a
// trace context; until then every call passes straight through. The sandbox evaluates a workflow's modules anew
// for each workflow, and OpenTelemetry's took about 9 ms of every restricting event's 39 (measured with
// `npm start` and 200 events one after another: 39 ms at the median with them, 30 ms without), though a case
// outside a trace only ever got non-recording spans from them.
//
// Replay sees the same: whether an input carries a trace context is in the history (its headers), and the traced
// interceptors only choose contexts (the same calls, the same commands in the same order).
import {
  defaultPayloadConverter,
  type Headers,
  type Next,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import type { Traced } from './otel-traced';

/** The header Temporal's OpenTelemetry interceptors carry a trace context in (a W3C text map, as JSON). */
const TRACE_HEADER = '_tracer-data';

/** Whether the headers carry a trace context (a client with tracing off sends none; one outside a span, `{}`). */
export function carriesTrace(headers: Headers | undefined): boolean {
  const payload = headers?.[TRACE_HEADER];
  if (!payload) return false;
  try {
    const map = defaultPayloadConverter.fromPayload<Record<string, unknown>>(payload);
    return typeof map?.traceparent === 'string';
  } catch {
    return false;
  }
}

type In = Required<WorkflowInboundCallsInterceptor>;
type Out = Required<WorkflowOutboundCallsInterceptor>;

export const interceptors: WorkflowInterceptorsFactory = () => {
  let traced: Traced | undefined;
  /** The traced interceptors, made on the first input with a trace context (then used for every call). */
  const tracing = (headers?: Headers): Traced | undefined => {
    if (!traced && carriesTrace(headers))
      // Loaded here, not imported: a workflow never traced never evaluates OpenTelemetry's modules. (The bundler
      // turns this require into its own module loader: the module is in the bundle, evaluated on first use.)
      // eslint-disable-next-line @typescript-eslint/no-require-imports, no-restricted-globals
      traced = (require('./otel-traced') as typeof import('./otel-traced')).tracedInterceptors();
    return traced;
  };
  const inbound: WorkflowInboundCallsInterceptor = {
    execute: (input, next: Next<In, 'execute'>) => {
      const i = tracing(input.headers)?.inbound;
      return i?.execute ? i.execute(input, next) : next(input);
    },
    handleUpdate: (input, next: Next<In, 'handleUpdate'>) => {
      const i = tracing(input.headers)?.inbound;
      return i?.handleUpdate ? i.handleUpdate(input, next) : next(input);
    },
    validateUpdate: (input, next: Next<In, 'validateUpdate'>) => {
      const i = tracing(input.headers)?.inbound;
      return i?.validateUpdate ? i.validateUpdate(input, next) : next(input);
    },
    handleSignal: (input, next: Next<In, 'handleSignal'>) => {
      const i = tracing(input.headers)?.inbound;
      return i?.handleSignal ? i.handleSignal(input, next) : next(input);
    },
    handleQuery: (input, next: Next<In, 'handleQuery'>) => {
      const i = tracing(input.headers)?.inbound;
      return i?.handleQuery ? i.handleQuery(input, next) : next(input);
    },
  };
  // Outbound calls begin inside the workflow: traced once the workflow is.
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input, next: Next<Out, 'scheduleActivity'>) => {
      const i = traced?.outbound;
      return i?.scheduleActivity ? i.scheduleActivity(input, next) : next(input);
    },
    scheduleLocalActivity: (input, next: Next<Out, 'scheduleLocalActivity'>) => {
      const i = traced?.outbound;
      return i?.scheduleLocalActivity ? i.scheduleLocalActivity(input, next) : next(input);
    },
    startNexusOperation: (input, next: Next<Out, 'startNexusOperation'>) => {
      const i = traced?.outbound;
      return i?.startNexusOperation ? i.startNexusOperation(input, next) : next(input);
    },
    startChildWorkflowExecution: (input, next: Next<Out, 'startChildWorkflowExecution'>) => {
      const i = traced?.outbound;
      return i?.startChildWorkflowExecution ? i.startChildWorkflowExecution(input, next) : next(input);
    },
    signalWorkflow: (input, next: Next<Out, 'signalWorkflow'>) => {
      const i = traced?.outbound;
      return i?.signalWorkflow ? i.signalWorkflow(input, next) : next(input);
    },
    continueAsNew: (input, next: Next<Out, 'continueAsNew'>) => {
      const i = traced?.outbound;
      return i?.continueAsNew ? i.continueAsNew(input, next) : next(input);
    },
    getLogAttributes: (input, next: Next<Out, 'getLogAttributes'>) => {
      const i = traced?.outbound;
      return i?.getLogAttributes ? i.getLogAttributes(input, next) : next(input);
    },
  };
  const internals: WorkflowInternalsInterceptor = {
    dispose: (input, next) => {
      const i = traced?.internals;
      return i?.dispose ? i.dispose(input, next) : next(input);
    },
  };
  return { inbound: [inbound], outbound: [outbound], internals: [internals] };
};
