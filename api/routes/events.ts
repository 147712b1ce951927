// Risk events: the backend reports them and withdraws those reported in error, staff open cases by hand, and
// anyone on staff may see how the current policy would score one.
import { identityOf } from '../../core/actions';
import { retractUpdate } from '../../workflows/definitions';
import { RESERVED_EVENT_PREFIXES, type Entities } from '../../core/events';
import type { Scorer } from '../../activities/scorer';
import type { EntityHasher } from '../../infra/entity-key';
import type { LiveFeatures } from '../live-features';
import type { CaseService } from '../case-service';
import { Problem } from '../../web/problems';
import * as S from '../schemas';
import { explained } from './cases';
import { ANY_STAFF, BACKEND, REVIEWERS, route, type RouteSpec } from './spec';

export interface EventDeps {
  cases: CaseService;
  scorer: Scorer;
  /** CORDON_EVENT_MAX_FUTURE_S in ms: how far ahead of this clock an event's occurredAt may be (default 300 s). */
  eventMaxFutureMs?: number;
  /** Entity values are replaced by their keyed hashes here, at intake, before anything else sees them. */
  entities: EntityHasher;
  /** The policy's features, read (never written) by a simulation. */
  features?: LiveFeatures;
}

/** The event with its entities keyed-hashed (none: unchanged). */
function hashed<E extends { entities?: Entities | undefined }>(event: E, hasher: EntityHasher): E {
  if (!event.entities) return event;
  return { ...event, entities: hasher.hashAll(event.entities) };
}

export function eventRoutes(d: EventDeps): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/risk-events',
      summary: 'Report a risk event; answers with the decision and the case it opened or entered',
      roles: BACKEND,
      body: S.RiskEventSchema,
      answers: {
        400: 'Invalid body (VALIDATION_FAILED, with field paths; RESERVED_EVENT_ID for a "staff:" ID; OCCURRED_IN_FUTURE; DUPLICATE_KEY; MALFORMED_JSON)',
      },
      handle: ({ body, principal }) => {
        S.checkRiskEvent(body, d.eventMaxFutureMs);
        return d.cases.reportEvent(hashed(body, d.entities), { kind: 'backend', id: principal.id });
      },
    }),
    route({
      method: 'post',
      path: '/v1/risk-events/:eventId/retraction',
      summary:
        'Withdraw an event reported in error: the case records it and goes to review (or is restored where the policy says so)',
      roles: BACKEND,
      params: S.EventIdParams,
      body: S.RetractionBody,
      answers: {
        404: 'No case recorded this event for the account (EVENT_NOT_FOUND)',
        409: "The case's state does not allow it, the request ID was used for another body, or the event is a staff member's opening or Cordon's linked-account signal (NOT_RETRACTABLE)",
      },
      handle: async ({ params, body, principal }) => {
        const caseId = await d.cases.caseOfEvent(body.accountId, params.eventId);
        // A case a staff member opened rests on their judgement, and a linked-account signal is Cordon's own (it
        // is withdrawn when its source case is overturned): neither is a report the backend can withdraw.
        if (RESERVED_EVENT_PREFIXES.some((prefix) => params.eventId.startsWith(prefix)))
          throw new Problem(
            409,
            'Not retractable',
            "a case opened by staff or Cordon's own signal is not withdrawn by the backend",
            { code: 'NOT_RETRACTABLE' },
          );
        const args = {
          eventId: params.eventId,
          reason: body.reason,
          requestId: body.requestId,
          actor: { kind: 'backend' as const, id: principal.id },
          principal: principal.id,
        };
        const identity = identityOf('retract', { ...args, caseId });
        return explained(await d.cases.act(caseId, retractUpdate, args, identity));
      },
    }),
    route({
      method: 'post',
      path: '/v1/cases',
      summary:
        "Open a case by hand for an account (staff), or add to its open case: the tier and reason are the staff member's",
      roles: REVIEWERS,
      body: S.ManualCaseBody,
      answers: { 409: 'This requestId was used for another body (IDEMPOTENCY_KEY_REUSED)' },
      handle: ({ body, principal }) => d.cases.openCase(body, principal.id),
    }),
    route({
      method: 'post',
      path: '/v1/simulate',
      summary: 'Score an event with the current policy, with no effect at all',
      roles: [...ANY_STAFF, 'analyst'],
      body: S.RiskEventSchema,
      answers: {
        400: 'Invalid body (VALIDATION_FAILED, with field paths; RESERVED_EVENT_ID for a "staff:" ID; OCCURRED_IN_FUTURE; DUPLICATE_KEY; MALFORMED_JSON)',
      },
      handle: async ({ body }) => {
        // The same event as POST /v1/risk-events would take: the same refusals.
        S.checkRiskEvent(body, d.eventMaxFutureMs);
        // Features are read as the event would find them, the event's own part included; nothing is written.
        const event = hashed(body, d.entities);
        const features = d.features;
        const { result } = await d.scorer.scoreDetailed(
          event,
          features ? (policy) => features.peek(policy, event) : undefined,
        );
        return { decision: result.decision };
      },
    }),
  ];
}
