// The linker: works the jobs a case's end leaves in Cordon's database (infra/stores/entity-links.ts). A closure
// for one of the policy's fraud reasons sends LINKED_ACCOUNT_RISK to each account that shared a declared entity
// with the closed one (core/linked.ts chooses); a second review that restores the closed account withdraws them.
// Every API process runs one; a job is claimed for a lease, so one process works it at a time and another takes
// it over if that process dies. Each step is repeatable: a signal's event ID is derived from the source case and
// the account, answered once, and a withdrawal is a retraction with a request ID of its own.
import { identityOf } from '../core/actions';
import { createHash } from 'node:crypto';
import { closureLinks, LINKED_EVENT_PREFIX, LINKED_EVENT_TYPE, linkTargets } from '../core/linked';
import type { Actor } from '../core/model';
import type { LoadedPolicy } from '../core/policy';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store';
import type { LinkJob } from '../infra/stores/entity-links';
import { Problem } from '../web/problems';
import { retractUpdate } from '../workflows/definitions';
import type { CaseService } from './case-service';
import { PollLoop } from './poll-loop';

const LINKER: Actor = { kind: 'system', id: 'linker' };

/**
 * A signal's event ID: the same for a source case and an account every time (a repeat is answered once), in a
 * space the backend may not use, and opaque: the linked account's case must not name the closed one.
 */
export function linkedEventId(sourceCaseId: string, accountId: string): string {
  const digest = createHash('sha256').update(`${sourceCaseId}\u0000${accountId}`).digest('base64url');
  return `${LINKED_EVENT_PREFIX}${digest.slice(0, 22)}`;
}
/** How long a claimed job is this process's: longer than its slowest run (a few events' intake each). */
const LEASE_MS = 60_000;

export interface LinkerOptions {
  store: Store;
  cases: CaseService;
  /** The running policy: its `linked` section decides, when the job is worked. */
  policy: () => LoadedPolicy;
  logger: Logger;
  /** How often it looks for jobs while there are none (ms). */
  pollMs?: number;
}

export class Linker extends PollLoop {
  constructor(private readonly o: LinkerOptions) {
    super({ logger: o.logger, what: 'linker', pollMs: o.pollMs });
  }

  /** Works jobs until none is left to claim. */
  async drain(): Promise<number> {
    let n = 0;
    for (
      let job = await this.o.store.links.claim(LEASE_MS);
      job;
      job = await this.o.store.links.claim(LEASE_MS)
    ) {
      const outcome = job.kind === 'LINK' ? await this.link(job) : await this.withdraw(job);
      if (outcome === null) continue; // not yet: its lease ends and it is taken again
      await this.o.store.links.done(job, outcome);
      n++;
    }
    return n;
  }

  private async link(job: LinkJob): Promise<string> {
    const linked = this.o.policy().policy.linked;
    if (!closureLinks(linked, job.reasons)) return 'NOT_A_LINKING_CLOSURE';
    const sightings = await this.o.store.links.sharedWith(job.accountId);
    const targets = linkTargets(linked!, job.accountId, sightings, job.endedAt);
    for (const target of targets) {
      await this.o.store.links.signalled({
        sourceCaseId: job.caseId,
        accountId: target.accountId,
        entityKind: target.entityKind,
        sentAt: Date.now(),
      });
      await this.o.cases.reportEvent(
        {
          type: LINKED_EVENT_TYPE,
          eventId: linkedEventId(job.caseId, target.accountId),
          accountId: target.accountId,
          occurredAt: new Date(job.endedAt).toISOString(),
          attributes: { entityKind: target.entityKind },
        },
        LINKER,
      );
    }
    // Counts only: which accounts is the signals table's to say, never a log's.
    this.o.logger.info('linked accounts signalled', { caseId: job.caseId, accounts: targets.length });
    return `SIGNALLED ${targets.length}`;
  }

  /** null while the closure's own job is not done: its signals are not all known yet. */
  private async withdraw(job: LinkJob): Promise<string | null> {
    if ((await this.o.store.links.jobOutcome(job.caseId, 'LINK')) === null) {
      const pending = await this.o.store.db.query<{ one: number }>(
        "SELECT 1 AS one FROM link_jobs WHERE case_id = ? AND kind = 'LINK'",
        [job.caseId],
      );
      if (pending.length) return null;
    }
    let withdrawn = 0;
    for (const signal of await this.o.store.links.signalsOf(job.caseId)) {
      if (signal.withdrawnAt !== null) continue;
      await this.retract(job.caseId, signal.accountId);
      await this.o.store.links.withdrawn(job.caseId, signal.accountId);
      withdrawn++;
    }
    this.o.logger.info('linked signals withdrawn', { caseId: job.caseId, accounts: withdrawn });
    return `WITHDRAWN ${withdrawn}`;
  }

  /** The signal's retraction on the account's case; nothing to do where no case took it or the case has ended. */
  private async retract(sourceCaseId: string, accountId: string): Promise<void> {
    const eventId = linkedEventId(sourceCaseId, accountId);
    try {
      const caseId = await this.o.cases.caseOfEvent(accountId, eventId);
      const args = {
        eventId,
        reason: 'The account it was linked to was restored on second review.',
        requestId: `unlink-${sourceCaseId}`,
        actor: LINKER,
        principal: LINKER.id,
      };
      await this.o.cases.act(caseId, retractUpdate, args, identityOf('retract', { ...args, caseId }));
    } catch (err) {
      // 404: no case took the signal (it scored NONE); 409: the case has ended or already let it go.
      if (err instanceof Problem && (err.status === 404 || err.status === 409)) return;
      throw err;
    }
  }
}
