// A guard's trip, noted in the timeline of each case its rule restricted in the tripping hour (the reviewer of
// such a case reads that its rule was misfiring). The process that tripped the guard queues the notes in
// Cordon's database; every API process sends what it claims, each note once per case whatever the retries (its
// request ID names the trip). A case that has ended since takes no note.
import { GUARDS_ACTOR, identityOf } from '../core/actions';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store';
import { Problem } from '../web/problems';
import { guardTrippedUpdate } from '../workflows/definitions';
import type { CaseService } from './case-service';
import { PollLoop } from './poll-loop';

const LEASE_MS = 60_000;

export class GuardNotes extends PollLoop {
  constructor(private readonly o: { store: Store; cases: CaseService; logger: Logger; pollMs?: number }) {
    super({ logger: o.logger, what: 'guard notes', pollMs: o.pollMs });
  }

  /** Sends every note it can claim; answers how many. */
  async drain(): Promise<number> {
    let n = 0;
    for (let note = await this.claim(); note; note = await this.claim()) {
      const { caseId, trip } = note;
      const args = {
        ruleId: trip.ruleId,
        hourCount: trip.hourCount,
        baselinePerHour: trip.baselinePerHour,
        onTrip: trip.onTrip,
        requestId: `guard:${trip.ruleId}:${trip.trippedAt}`,
        principal: GUARDS_ACTOR.id,
      };
      try {
        await this.o.cases.act(
          caseId,
          guardTrippedUpdate,
          args,
          identityOf('guardTripped', { ...args, caseId }),
        );
      } catch (err) {
        // 404: the case is gone from Temporal and the archive; 409: it has ended. Either way, nothing to note.
        if (!(err instanceof Problem && (err.status === 404 || err.status === 409))) throw err;
      }
      await this.o.store.guards.noteDone(trip.ruleId, trip.trippedAt, caseId);
      n++;
    }
    return n;
  }

  private claim() {
    return this.o.store.guards.claimNote(LEASE_MS);
  }
}
