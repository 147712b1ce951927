// The one second review an ended case may get (POST /v1/cases/{id}/second-review): by the user from their page or
// by the backend, within the policy's window after an outcome of UPHELD or CLOSED. It opens a linked new case on
// the account's workflow; the ended case stays ended. Cordon's database holds the link, reserved before the start
// so that two requests (on two API processes) never open two.
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { TimelineEntry } from '../core/case-types';
import {
  CASE_WORKFLOW_TYPE,
  caseWorkflowId,
  type CaseView,
  type CaseWorkflowInput,
  type SecondReviewUpdate,
} from '../core/contracts';
import { DEFAULT_SECOND_REVIEW_WINDOW, secondReviewDeadline } from '../core/decision-letter';
import { parseDuration } from '../core/durations';
import type { Contact } from '../core/events';
import { requestIdentity, updateIdOf } from '../core/idempotency';
import type { Actor, RestrictiveTier } from '../core/model';
import { caseTermsOf } from '../core/policy';
import { SA, secondReviewUpdate } from '../workflows/definitions';
import { Problem } from '../web/problems';
import {
  keyReused,
  messageOf,
  refusalType,
  retryMomentary,
  retryWhenBusy,
  type CaseCalls,
  type CaseServiceOptions,
} from './case-calls';
import type { CaseReads } from './case-reads';

export interface SecondReviewRequest {
  statement: string;
  evidence?: string[];
  requestId: string;
}

/** The entries a second review carries over: what the user said and sent. */
const CARRIED_TYPES = new Set(['APPEAL', 'INFO_PROVIDED']);
/** The entries that name who decided or approved the outcome. */
const DECIDING_TYPES = new Set(['DECISION', 'APPROVAL', 'BREAK_GLASS']);

const refused = (code: string, detail: string) =>
  new Problem(409, 'Second review not available', detail, { code });

export class SecondReviews {
  constructor(
    private readonly o: CaseServiceOptions,
    private readonly calls: CaseCalls,
    private readonly reads: CaseReads,
  ) {}

  /** The window the policy gives (review.secondReviewWindow, default 14 days). */
  windowMs(): number {
    const text = this.o.scorer.policy.policy.review.secondReviewWindow ?? DEFAULT_SECOND_REVIEW_WINDOW;
    return parseDuration(text) ?? parseDuration(DEFAULT_SECOND_REVIEW_WINDOW)!;
  }

  /** Until when the ended case's second review may be requested (the letter's rule); null where it may not. */
  allowedUntil(view: CaseView): string | null {
    const decidedAt = view.timeline.findLast((e) => e.type === 'OUTCOME')?.at;
    if (!view.outcome || !decidedAt) return null;
    return secondReviewDeadline(
      { outcome: view.outcome, decidedAt, secondReview: view.secondReview === true },
      this.windowMs(),
    );
  }

  /** Adds what Cordon's database knows of the case's second review to its view. */
  async withLink(view: CaseView): Promise<CaseView> {
    if (view.outcome === null || view.secondReview) return view;
    const link = await this.o.store.secondReviews.of(view.caseId);
    const until = this.allowedUntil(view);
    return {
      ...view,
      ...(link?.secondCaseId ? { secondReviewCaseId: link.secondCaseId } : {}),
      ...(until && !link?.secondCaseId ? { secondReviewAllowedUntil: until } : {}),
    };
  }

  async request(
    caseId: string,
    body: SecondReviewRequest,
    actor: Actor,
    principal: string,
  ): Promise<CaseView> {
    const found = await this.reads.findCase(caseId);
    if (!found) throw new Problem(404, 'Case not found', `no case ${caseId}`, { code: 'CASE_NOT_FOUND' });
    const first = found.view;
    const identity = requestIdentity(caseId, 'secondReview', principal, body.requestId, {
      statement: body.statement,
      evidence: body.evidence ?? [],
    });
    const link = await this.o.store.secondReviews.of(caseId);
    // A repeat of the request that opened it answers the second review as it is now.
    if (link?.requestKey === identity.key) {
      if (link.fingerprint !== identity.fingerprint) throw keyReused();
      if (link.secondCaseId) return await this.reads.getCase(link.secondCaseId);
    } else {
      if (link) throw refused('SECOND_REVIEW_USED', 'this case has had its second review');
      this.assertAllowed(first);
    }
    const held = await this.o.store.secondReviews.reserve({
      caseId,
      accountId: first.accountId,
      requestKey: identity.key,
      fingerprint: identity.fingerprint,
    });
    if (held.requestKey !== identity.key)
      throw refused('SECOND_REVIEW_USED', 'this case has had its second review');
    if (held.fingerprint !== identity.fingerprint) throw keyReused();
    const update: SecondReviewUpdate = {
      previousCaseId: caseId,
      accountId: first.accountId,
      locale: first.locale,
      terms: caseTermsOf(this.o.scorer.policy),
      // A closed account is reviewed as a closure, whatever tier the case had before it was closed.
      tier: first.outcome === 'CLOSED' ? 'CLOSE' : (first.tier as RestrictiveTier),
      score: first.score,
      reasons: first.reasons,
      excludedReviewers: decidersOf(first.timeline),
      carried: first.timeline.filter((e) => CARRIED_TYPES.has(e.type)),
      statement: body.statement,
      ...(body.evidence?.length ? { evidence: body.evidence } : {}),
      actor,
      requestKey: identity.key,
      ...(await this.contactOf(caseId)),
    };
    let view: CaseView;
    try {
      view = await this.start(update);
    } catch (err) {
      const type = refusalType(err);
      if (type === 'CASE_OPEN') {
        await this.o.store.secondReviews.release(caseId, identity.key);
        throw refused('CASE_OPEN', messageOf(err));
      }
      throw err;
    }
    await this.o.store.secondReviews.started(caseId, view.caseId);
    this.o.logger.info('second review opened', {
      caseId: view.caseId,
      previousCaseId: caseId,
      accountId: first.accountId,
    });
    return view;
  }

  private assertAllowed(first: CaseView): void {
    if (first.secondReview)
      throw refused('SECOND_REVIEW_USED', 'a second review is itself final: it cannot be reviewed again');
    if (first.outcome === null) throw refused('CASE_OPEN', 'the case has not ended yet');
    const until = this.allowedUntil(first);
    if (!until)
      throw refused(
        'SECOND_REVIEW_NOT_AVAILABLE',
        `a second review follows an outcome of UPHELD or CLOSED (this case: ${first.outcome})`,
      );
    if (Date.now() > Date.parse(until))
      throw refused('SECOND_REVIEW_WINDOW_PASSED', `a second review could be requested until ${until}`);
  }

  /** The account's workflow, started for the second review if no run is open (a new run keeps the case apart). */
  private start(update: SecondReviewUpdate): Promise<CaseView> {
    const workflowId = caseWorkflowId(update.accountId);
    return this.calls.perAccount.run(update.accountId, () =>
      this.calls.caseCall(() =>
        retryWhenBusy(() =>
          retryMomentary(
            () =>
              this.calls.client.workflow.executeUpdateWithStart(secondReviewUpdate, {
                args: [update],
                // Temporal answers a repeat of the same request on the same run with the first outcome.
                updateId: updateIdOf(update.requestKey),
                startWorkflowOperation: new WithStartWorkflowOperation(CASE_WORKFLOW_TYPE, {
                  workflowId,
                  taskQueue: this.calls.taskQueue,
                  args: [{ accountId: update.accountId } satisfies CaseWorkflowInput],
                  workflowIdConflictPolicy: 'USE_EXISTING',
                  workflowIdReusePolicy: 'ALLOW_DUPLICATE',
                  typedSearchAttributes: [{ key: SA.accountId, value: update.accountId }],
                  staticSummary: `Cordon second review · account ${update.accountId} · of ${update.previousCaseId}`,
                }),
              }),
            true,
          ),
        ),
      ),
    );
  }

  /** How the first case last reached the user (its newest notice with a contact), so the review can too. */
  private async contactOf(caseId: string): Promise<{ contact?: Contact }> {
    const messages = await this.o.store.outbox.messagesOf(caseId);
    for (const m of [...messages].reverse()) {
      const msg = m.message;
      if (msg.kind === 'NOTIFY_USER' && msg.notice.contact) return { contact: msg.notice.contact };
    }
    return {};
  }
}

/** Who decided or approved the first case's outcome (a request for information decides nothing). */
function decidersOf(timeline: TimelineEntry[]): string[] {
  const ids = timeline
    .filter((e) => DECIDING_TYPES.has(e.type) && e.decision !== 'REQUEST_INFO' && e.actor.kind === 'reviewer')
    .map((e) => e.actor.id);
  return [...new Set(ids)];
}
