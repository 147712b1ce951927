// The payload codec endpoint for the Temporal Web UI and CLI (Temporal's remote codec protocol): POST
// /codec/decode and /codec/encode take and answer `{"payloads":[{"metadata":{k: base64},"data": base64}]}` (the
// proto3 JSON of temporal.api.common.v1.Payloads). Decoded payloads hold personal data, so decoding is for the
// people who work cases (reviewer, senior, admin: a bearer token or a signed-in console session), never for the
// backend's integration token or analysts; encoding makes inputs a worker would trust, so it is for admins only.
// Every call is logged with who made it and which workflow the caller names, never with payload contents.
// Browsers may call it with credentials from the configured origins only (the Web UI's).
import express, {
  Router,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { z } from 'zod';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Principal, Role } from '../infra/config';
import type { Logger } from '../infra/logger';
import { PayloadDecryptionError, UnknownCodecKeyError } from '../infra/codec';
import { requireRole } from './auth';
import { methodNotAllowed } from './errors';
import { fieldErrors, Problem } from '../web/problems';

export interface CodecRouteDeps {
  /** Who is asking: a bearer token or a signed-in console session. */
  authorize(req: Request): Promise<Principal | undefined>;
  codec: PayloadCodec;
  /** Browser origins (scheme://host[:port]) answered with credentialed CORS headers. */
  corsOrigins: readonly string[];
  /** Records who decoded or encoded how many payloads (never what). */
  logger?: Logger;
}

const JSON_TYPES = ['application/json', 'application/*+json'];
/** Histories carry many payloads and each may be large: well above the API's 64 KiB, still bounded. */
const jsonUpTo4MiB = express.json({ limit: '4mb', type: JSON_TYPES });
const parseJson: RequestHandler = (req, res, next) =>
  jsonUpTo4MiB(req, res, (err?: unknown) =>
    next(
      (err as { type?: string } | undefined)?.type === 'entity.too.large'
        ? new Problem(413, 'Body too large', 'the body exceeds 4 MiB: send fewer payloads at a time', {
            code: 'BODY_TOO_LARGE',
          })
        : err,
    ),
  );

/** Standard or URL-safe base64, padded or not (proto3 JSON accepts both). */
const Base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'expected base64');
const PayloadsBody = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), Base64).nullish(),
      data: Base64.nullish(),
    }),
  ),
});
type JsonPayload = z.infer<typeof PayloadsBody>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v ?? new Uint8Array()).toString('base64'),
    ]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** What the Web UI sends: its JSON body, the namespace, and (with "pass access token") a bearer token. */
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Namespace';

/** Who may do what: reading personal data is case work; sealing inputs a worker would trust is an admin's. */
export const CODEC_ROLES = {
  decode: ['reviewer', 'senior', 'admin'],
  encode: ['admin'],
} as const satisfies Record<'decode' | 'encode', readonly Role[]>;

/** An ID as Temporal's workflow and run IDs are in practice (a bounded, log-safe token), else nothing. */
const LOGGABLE_ID = /^[A-Za-z0-9._:@=+-]{1,256}$/;

/**
 * Which workflow a call is about, as far as the request says. Neither the Web UI nor the CLI names it in the
 * protocol (both send the namespace only); the Web UI served from the same origin as /codec (the development
 * proxy, scripts/webui-proxy.ts) sends its page's address as Referer: `/namespaces/<ns>/workflows/<id>/<run>/…`.
 * It is the caller's word, recorded for the audit trail, and never used to decide anything.
 */
export function workflowNamed(req: Request): { namespace?: string; workflowId?: string; runId?: string } {
  const named: { namespace?: string; workflowId?: string; runId?: string } = {};
  const namespace = req.get('x-namespace');
  if (namespace && LOGGABLE_ID.test(namespace)) named.namespace = namespace;
  let path: string[] = [];
  try {
    path = new URL(req.get('referer') ?? '').pathname.split('/').map(decodeURIComponent);
  } catch {
    return named; // no Referer, or not a URL
  }
  const at = path.indexOf('workflows');
  if (at < 2 || path[at - 2] !== 'namespaces') return named;
  const [workflowId, runId] = [path[at + 1], path[at + 2]];
  if (workflowId && LOGGABLE_ID.test(workflowId)) {
    named.workflowId = workflowId;
    if (runId && LOGGABLE_ID.test(runId)) named.runId = runId;
  }
  return named;
}

export function codecRouter(d: CodecRouteDeps): Router {
  const router = Router();
  const allowed = new Set(d.corsOrigins);

  // CORS on every answer of the router, errors included, so the UI can read why a call was refused. Only an
  // allowed origin is echoed (never `*`: the UI may send cookies, and `*` forbids credentials).
  router.use((req: Request, res: Response, next: NextFunction) => {
    res.vary('Origin');
    const origin = req.get('origin');
    if (origin && allowed.has(origin))
      res.set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' });
    next();
  });

  // A preflight carries no credentials, so it is answered before (and without) authorization.
  const preflight: RequestHandler = (req, res) => {
    const origin = req.get('origin');
    if (origin && allowed.has(origin))
      res.set({
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        'Access-Control-Max-Age': '600',
      });
    res.set('Allow', 'POST').status(204).end();
  };

  const authorize: RequestHandler = async (req, res, next) => {
    const principal = await d.authorize(req);
    if (!principal)
      return next(
        new Problem(401, 'Unauthorized', 'a staff bearer token or a signed-in console session is required', {
          code: 'UNAUTHORIZED',
          headers: { 'WWW-Authenticate': 'Bearer' },
        }),
      );
    res.locals.principal = principal;
    next();
  };

  // After authentication: a principal the server knows but whose role may not do this gets 403, not 401.
  const permit =
    (operation: 'decode' | 'encode'): RequestHandler =>
    (req, res, next) => {
      const principal = res.locals.principal as Principal;
      try {
        requireRole(principal, CODEC_ROLES[operation]);
      } catch (refusal) {
        d.logger?.warn(`codec ${operation} refused`, {
          principal: principal.id,
          role: principal.role,
          ...workflowNamed(req),
        });
        return next(refusal);
      }
      next();
    };

  const handler =
    (operation: 'decode' | 'encode'): RequestHandler =>
    async (req, res, next) => {
      const principal = res.locals.principal as Principal;
      // Who and which workflow, and how many payloads: never what they hold.
      const audit = { principal: principal.id, role: principal.role, ...workflowNamed(req) };
      try {
        if (!req.is(JSON_TYPES))
          throw new Problem(415, 'Unsupported media type', 'send the body as application/json', {
            code: 'UNSUPPORTED_MEDIA_TYPE',
          });
        const parsed = PayloadsBody.safeParse(req.body ?? {});
        if (!parsed.success)
          throw new Problem(
            400,
            'Invalid request',
            'the body must be {"payloads":[{"metadata":{},"data":""}]}',
            {
              code: 'VALIDATION_FAILED',
              errors: fieldErrors('body', parsed.error),
            },
          );
        const payloads = parsed.data.payloads.map(fromJson);
        const out = await d.codec[operation](payloads).catch((err: unknown) => {
          d.logger?.warn(`codec ${operation} failed`, {
            ...audit,
            payloads: payloads.length,
            error: (err as Error).name,
          });
          throw err;
        });
        d.logger?.info(`codec ${operation}`, { ...audit, payloads: payloads.length });
        // Decoded payloads are personal data: no cache keeps them.
        res.set('Cache-Control', 'no-store').json({ payloads: out.map(toJson) });
      } catch (err) {
        if (err instanceof UnknownCodecKeyError || err instanceof PayloadDecryptionError)
          return next(
            new Problem(422, 'Cannot decode', err.message, {
              code: err instanceof UnknownCodecKeyError ? 'UNKNOWN_CODEC_KEY' : 'PAYLOAD_NOT_DECRYPTABLE',
            }),
          );
        next(err);
      }
    };

  for (const operation of ['decode', 'encode'] as const) {
    const path = `/${operation}`;
    router.options(path, preflight);
    router.post(path, authorize, permit(operation), parseJson, handler(operation));
    router.all(path, methodNotAllowed(['POST']));
  }
  return router;
}
