// What the API answers when a request goes wrong: no route (404), another method (405), Temporal out of
// reach (503), and the one error handler that turns every error into application/problem+json.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isGrpcServiceError } from '@temporalio/client';
import type { Logger } from '../infra/logger';
import { busyProblem, temporalBusy } from './overload';
import { Problem, RETRY_AFTER_S, sendProblem } from '../web/problems';

/** Seconds a client should wait before retrying while Temporal is out of reach. */
export const TEMPORAL_RETRY_AFTER_S = RETRY_AFTER_S;

/**
 * How long a read (a case's view, a visibility lookup) waits for Temporal. A healthy query answers in
 * milliseconds; an unreachable server would otherwise hold the request while the client retries (~20 s).
 */
export const TEMPORAL_READ_MS = 3_000;

const UNAVAILABLE_DETAIL =
  'the case engine (Temporal) cannot be reached just now; it is safe to retry after Retry-After seconds';

/** The 503 every surface answers while Temporal is out of reach: code TEMPORAL_UNAVAILABLE, with Retry-After. */
export function temporalUnavailableProblem(detail = UNAVAILABLE_DETAIL): Problem {
  return new Problem(503, 'Service unavailable', detail, {
    code: 'TEMPORAL_UNAVAILABLE',
    headers: { 'Retry-After': String(TEMPORAL_RETRY_AFTER_S) },
  });
}

/**
 * Runs the Temporal calls of a read under a deadline of `ms`, and fails with the 503 problem once it has passed.
 * The deadline ends the gRPC call and stops its retries (none lingers); the timer bounds the answer, since a
 * retry already scheduled only notices the deadline when it fires.
 */
export async function temporalRead<T>(
  connection: { withDeadline<R>(deadline: number, fn: () => Promise<R>): Promise<R> },
  ms: number,
  read: () => Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(temporalUnavailableProblem()), ms);
  });
  try {
    return await Promise.race([connection.withDeadline(Date.now() + ms, read), late]);
  } catch (err) {
    // A read changes nothing: a query the server refuses for the moment (FAILED_PRECONDITION, seen once in a
    // chaos run just after the server restarted, "Failed to query Workflow") is "not now", never a 500.
    if (!(err instanceof Problem) && grpcCodeIn(err) === GRPC_FAILED_PRECONDITION) throw busyProblem();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const GRPC_FAILED_PRECONDITION = 9;

/** The first gRPC status code in an error's chain of causes. */
function grpcCodeIn(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; depth < 10 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** gRPC status codes (grpc.status) that mean the server could not be reached, or not in time. */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
const GRPC_NAMES: Record<number, string> = {
  [GRPC_DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [GRPC_UNAVAILABLE]: 'UNAVAILABLE',
};
/** Socket errors of a connection that could not be made. */
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
]);

/**
 * Whether an error from the Temporal client means the server is out of reach, and how: the client wraps the
 * gRPC error (grpc-js, or the native client of a worker's NativeConnection) in a ServiceError or an update
 * error, so the cause chain is searched. Returns the gRPC status or socket error name, else undefined.
 */
export function temporalUnavailable(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 10 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (isGrpcServiceError(e) && (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED))
      return GRPC_NAMES[code];
    if (typeof code === 'string' && CONNECT_ERRORS.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const httpMethods = (methods: Iterable<string>): string[] => {
  const upper = new Set([...methods].map((m) => m.toUpperCase()));
  // express answers HEAD with the GET route.
  if (upper.has('GET')) upper.add('HEAD');
  return ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => upper.has(m));
};

/** The methods each path answers, from the route table: the Allow header of its 405. */
export function allowedMethods(routes: { method: string; path: string }[]): Map<string, string[]> {
  const byPath = new Map<string, Set<string>>();
  for (const r of routes) {
    if (!byPath.has(r.path)) byPath.set(r.path, new Set());
    byPath.get(r.path)!.add(r.method);
  }
  return new Map([...byPath].map(([path, methods]) => [path, httpMethods(methods)]));
}

/**
 * For a path the API knows, another method: 405 with an Allow header. OPTIONS (a CORS preflight, say) is not
 * refused: it is answered 204 with the Allow header.
 */
export function methodNotAllowed(allow: string[]): RequestHandler {
  const header = allow.join(', ');
  return (req, res) => {
    if (req.method === 'OPTIONS') return void res.set('Allow', header).status(204).end();
    throw new Problem(405, 'Method not allowed', `${req.method} is not allowed here; use ${header}`, {
      code: 'METHOD_NOT_ALLOWED',
      headers: { Allow: header },
    });
  };
}

export const noRoute: RequestHandler = (req) => {
  throw new Problem(404, 'Not found', `no route ${req.method} ${req.path}`, { code: 'NO_ROUTE' });
};

/** The one error handler: problems as they are, parser errors as 4xx, Temporal out of reach 503, else 500. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const route = (req.route as { path?: string } | undefined)?.path ?? 'unknown';
    if (err instanceof Problem) {
      if (err.extra.code === 'TEMPORAL_UNAVAILABLE')
        logger.warn('Temporal unavailable', { method: req.method, path: route, reason: 'READ_DEADLINE' });
      return sendProblem(res, err);
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed')
      return sendProblem(
        res,
        new Problem(400, 'Malformed JSON', 'the body is not valid JSON', { code: 'MALFORMED_JSON' }),
      );
    if (e.type === 'entity.too.large')
      return sendProblem(
        res,
        new Problem(413, 'Body too large', 'the body exceeds 64 KiB', { code: 'BODY_TOO_LARGE' }),
      );
    // Other client errors the framework raises (a path segment that is not valid percent-encoding...). The
    // framework's message may echo the request, so it is not passed on.
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
      return sendProblem(
        res,
        e.status === 415
          ? new Problem(415, 'Unsupported media type', 'send the body as UTF-8 application/json', {
              code: 'UNSUPPORTED_MEDIA_TYPE',
            })
          : new Problem(e.status, 'Bad request', 'the request could not be read', { code: 'BAD_REQUEST' }),
      );
    const unavailable = temporalUnavailable(err);
    if (unavailable) {
      // Only the route pattern and the status name: the error's own text names addresses and workflow IDs.
      logger.warn('Temporal unavailable', { method: req.method, path: route, reason: unavailable });
      return sendProblem(res, temporalUnavailableProblem());
    }
    // Overload (a starved worker's failing tasks, a server shedding load): slow, never a 500.
    const busy = temporalBusy(err);
    if (busy) {
      logger.warn('Temporal busy', { method: req.method, path: route, reason: busy });
      return sendProblem(res, busyProblem());
    }
    logger.error('request failed', {
      method: req.method,
      path: route,
      error: (err as Error).name,
      message: (err as Error).message,
      // The gRPC status codes down the cause chain (numbers only), to tell a Temporal refusal from a bug.
      codes: causeCodes(err),
    });
    return sendProblem(
      res,
      new Problem(500, 'Internal error', 'the request could not be completed; it is safe to retry'),
    );
  };
}

function causeCodes(err: unknown): string {
  const codes: string[] = [];
  for (let e: unknown = err, depth = 0; depth < 10 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    codes.push(`${e.name}:${typeof code === 'number' || typeof code === 'string' ? code : '-'}`);
    e = (e as { cause?: unknown }).cause;
  }
  return codes.join(' > ');
}
