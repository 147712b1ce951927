// Liveness and readiness: public, for load balancers and orchestrators.
import type { Scorer } from '../../activities/scorer';
import { Problem } from '../../web/problems';
import { route, type RouteSpec } from './spec';

export interface HealthDeps {
  scorer: Scorer;
  /** False once the process is stopping: GET /readyz then answers 503 (see api/main.ts). Unset: always ready. */
  ready?: () => boolean;
}

export function healthRoutes(d: HealthDeps): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/healthz',
      summary: 'Liveness',
      roles: 'public',
      handle: async () => ({ status: 'ok', policyVersion: d.scorer.policy.policy.version }),
    }),
    route({
      method: 'get',
      path: '/readyz',
      summary: 'Readiness: 503 (STOPPING) once the process is asked to stop, so it gets no new traffic',
      roles: 'public',
      handle: async () => {
        if (d.ready && !d.ready())
          throw new Problem(503, 'Stopping', 'this process is shutting down: send requests to another', {
            code: 'STOPPING',
          });
        return { status: 'ok' };
      },
    }),
  ];
}
