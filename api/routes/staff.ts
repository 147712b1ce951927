// An admin's control over staff members' console sessions.
import { z } from 'zod';
import type { Logger } from '../../infra/logger';
import type { ConsoleSessionStore } from '../../infra/sessions';
import { sessionsUnavailable } from '../../web/session';
import { route, type RouteSpec } from './spec';

export function staffRoutes(d: { sessions: ConsoleSessionStore; logger: Logger }): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/staff/:id/sessions/revoke',
      summary:
        "End every console session of a staff member at once (admin): their pages and the Web UI's decoding ask them to sign in again; answers how many ended",
      roles: ['admin'],
      params: z.object({
        id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "a principal's ID (from CORDON_TOKENS)"),
      }),
      handle: async ({ params, principal }) => {
        const revoked = await d.sessions.endAllOf(params.id).catch((err: unknown) => {
          throw Object.assign(sessionsUnavailable(), { cause: err });
        });
        d.logger.info('console sessions revoked', { principal: params.id, by: principal.id, revoked });
        return { principalId: params.id, revoked };
      },
    }),
  ];
}
