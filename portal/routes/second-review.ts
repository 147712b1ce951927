// The one second review of an ended case (UPHELD or CLOSED), asked for from its outcome page: a statement and
// files like an appeal, sent through the API's own route (POST /v1/cases/{id}/second-review), which opens the
// linked new case. A refusal (already asked for, the window passed) comes back on the case page with what the
// user wrote.
import type { Router } from 'express';
import { withEvidence } from '../evidence';
import { PORTAL, type PortalKit } from '../kit';
import { formAction, textOf } from './actions';

export function secondReviewRoutes(router: Router, kit: PortalKit): void {
  router.post(
    '/:token/second-review',
    // Counted with appeals: it is the user's appeal of the decision.
    formAction(kit)(
      'appeal',
      'secondReview',
      async ({ caseId, parsed, fail }) => {
        const statement = textOf(parsed.fields.statement, 2_000, 'statement', fail);
        await withEvidence(kit.evidence, caseId, parsed, fail, (refs) =>
          kit.call('post', '/v1/cases/:caseId/second-review', PORTAL, {
            params: { caseId },
            body: {
              statement,
              ...(refs.length ? { evidence: refs } : {}),
              requestId: parsed.fields.requestId,
            },
          }),
        );
      },
      'second-review',
    ),
  );
}
