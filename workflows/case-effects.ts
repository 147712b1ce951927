// The half of a case run that carries out what its transitions decide: restriction commands (before the
// handler answers), the outbox of messages (handed to Cordon's database, which delivers them in order), and the
// account's restriction record. The order of every await here is what the workflow's history records.
import { ActivityFailure, condition, log, type ActivityFunctionWithOptions } from '@temporalio/workflow';
import type { AccountRestriction, CaseActivities } from '../core/activity-contract';
import { recordEffect } from '../core/case-machine';
import type { CaseState, Effect } from '../core/case-types';
import { restrictionKeyOf, restrictionRecordOf } from '../core/case-view';
import type { CarriedState } from '../core/contracts';
import type { OutboxMessage } from '../core/messages';
import { EFFECT_OPTIONS, effects, localEffects, RECORD_OPTIONS, records } from './activity-proxies';
import { isMessage, messageName, messageOf, type MessageEffect } from './messages';

/** Timeline entries of restriction commands carried out (or refused for good) by the gateway. */
const RESTRICTION_ENTRIES: ReadonlySet<string> = new Set([
  'RESTRICTION_APPLIED',
  'RESTRICTION_LIFTED',
  'ACCOUNT_CLOSED',
  'EFFECT_FAILED',
]);

export class CaseEffects {
  state: CaseState | null;
  effectSeq: number;
  outbox: OutboxMessage[];
  /** Bumped on every change so the main loop re-plans its timer. */
  version = 0;
  /** What the restriction record last written says (status, tier, restricted, open), and a sequence for its version. */
  private lastRecorded = '';
  private recordSeq = 0;

  constructor(
    /** This run follows 0.2's behaviour (PATCHES.release02); a run begun by 0.1 keeps 0.1's. */
    readonly release02: boolean,
    /** This run writes its restriction record on every change (PATCHES.release03). */
    readonly release03: boolean,
    /** This run looks up event IDs other cases may have answered, and decides its rules (PATCHES.release04). */
    readonly release04: boolean,
    carried?: CarriedState,
  ) {
    this.state = carried?.state ?? null;
    this.effectSeq = carried?.effectSeq ?? 0;
    this.outbox = carried?.outbox ?? [];
  }

  /** Whether the restriction record last written still says what the state says. */
  protected recordIsCurrent(): boolean {
    return restrictionKeyOf(this.state!) === this.lastRecorded;
  }

  /**
   * The account's restriction record as of now. Its version orders every write for the account: the case's
   * start (a later case wins), then workflow time, then a sequence, as fixed-width text.
   */
  restrictionRecord(): AccountRestriction {
    const s = this.state!;
    this.recordSeq += 1;
    this.lastRecorded = restrictionKeyOf(s);
    return restrictionRecordOf(s, Date.now(), this.recordSeq);
  }

  private nextKey(): string {
    this.effectSeq += 1;
    return `${this.state!.caseId}:${this.effectSeq}`;
  }

  /**
   * A restriction change: an activity (with its summary), or a local activity in 0.3 runs. A local activity can
   * run in a workflow task that is then lost with its worker, and the retried task may interleave concurrent
   * updates differently, so its key does not count every effect: it is the number of restriction commands the
   * case has carried out so far (from its timeline) and what this one does.
   */
  private restrictionEffect<K extends 'applyRestriction' | 'liftRestriction' | 'closeAccount'>(
    name: K,
    summary: string,
    command: Parameters<CaseActivities[K]>[0],
  ): Promise<void> {
    type Run = (c: typeof command) => Promise<void>;
    // 0.3 runs only. From 0.4 a command is an ordinary activity again (eager execution starts it in this worker
    // at once): it is scheduled only once the workflow task that decided it is committed, so its key comes from
    // the committed history. A local activity acts before that commit; when a starved worker's task timed out
    // and was redone with its updates in another order, the gateway got a command under a second key, or one
    // the case never recorded.
    if (this.release03 && !this.release04) {
      const s = this.state!;
      const done = s.timeline.filter((e) => RESTRICTION_ENTRIES.has(e.type)).length;
      const tier = name === 'applyRestriction' ? `:${(command as { tier: string }).tier}` : '';
      const idempotencyKey = `${s.caseId}:r${done + 1}:${name}${tier}`;
      return (localEffects[name] as Run)({ ...command, idempotencyKey });
    }
    const activity = effects[name] as Run & {
      executeWithOptions: ActivityFunctionWithOptions<Run>['executeWithOptions'];
    };
    return activity.executeWithOptions({ ...EFFECT_OPTIONS, summary }, [command]);
  }

  /** Restriction changes happen before the handler answers; messages go to the outbox, sent in order. */
  protected async carryOut(fx: Effect[]): Promise<void> {
    for (let i = 0; i < fx.length; i++) {
      const effect = fx[i]!;
      const s = this.state!;
      const base = { caseId: s.caseId, accountId: s.accountId, idempotencyKey: this.nextKey() };
      if (isMessage(effect)) {
        this.outbox.push(messageOf(s, effect, base.idempotencyKey));
        continue;
      }
      // 0.4: the messages that follow a restriction command in its transition travel with it, and its activity
      // hands them to the outbox once the command is carried out: one activity and one workflow task fewer on
      // every restriction. Only when no earlier message is still on its way, so the outbox keeps their order.
      const messages: OutboxMessage[] = [];
      if (this.release04 && this.outbox.length === 0)
        while (isMessage(fx[i + 1])) messages.push(messageOf(s, fx[++i] as MessageEffect, this.nextKey()));
      const withMessages = messages.length ? { messages } : {};
      // What the Web UI names the activity: the command, then the messages it hands over.
      const then = messages.length ? `, then send ${messages.map(messageName).join(', ')}` : '';
      try {
        switch (effect.kind) {
          case 'APPLY_RESTRICTION':
            await this.restrictionEffect(
              'applyRestriction',
              `apply ${effect.tier}${effect.lockout ? ' (lockout)' : ''}${then}`,
              {
                ...base,
                tier: effect.tier,
                lockout: effect.lockout,
                reasonCodes: s.reasons.map((r) => r.code),
                record: this.restrictionRecord(),
                ...withMessages,
              },
            );
            recordEffect(this.state!, Date.now(), {
              type: 'RESTRICTION_APPLIED',
              tier: effect.tier,
              lockout: effect.lockout,
            });
            break;
          case 'LIFT_RESTRICTION':
            await this.restrictionEffect('liftRestriction', `lift the restriction${then}`, {
              ...base,
              record: this.restrictionRecord(),
              ...withMessages,
            });
            recordEffect(this.state!, Date.now(), { type: 'RESTRICTION_LIFTED' });
            break;
          case 'CLOSE_ACCOUNT':
            await this.restrictionEffect('closeAccount', `close the account${then}`, {
              ...base,
              record: this.restrictionRecord(),
              ...withMessages,
            });
            recordEffect(this.state!, Date.now(), { type: 'ACCOUNT_CLOSED' });
            break;
        }
      } catch (err) {
        // A gateway that refuses for good: keep the case going and leave the failure in its timeline. The
        // messages still go, through the outbox (the activity hands them over only after the command).
        if (!(err instanceof ActivityFailure)) throw err;
        log.error('effect failed', { effect: effect.kind, caseId: s.caseId, error: err.cause?.message });
        recordEffect(this.state!, Date.now(), { type: 'EFFECT_FAILED', effect: effect.kind });
        this.outbox.push(...messages);
      }
    }
  }

  /**
   * Hands queued messages to the database outbox, whose dispatcher delivers them: a receiver that is down
   * never holds the case (or the account's next case) up. Runs for as long as the workflow runs.
   */
  async drainOutbox(): Promise<never> {
    for (;;) {
      await condition(() => this.outbox.length > 0);
      if (this.release02) {
        const batch = this.outbox.slice();
        await records.enqueueMessages.executeWithOptions(
          { ...RECORD_OPTIONS, summary: `send ${batch.map(messageName).join(', ')}` },
          [batch, this.restrictionRecord()],
        );
        // No version bump: the timer plan does not depend on the outbox, and re-planning would only add timer
        // cancellations to the history. Waits on `idle` see the change on their own.
        this.outbox.splice(0, batch.length);
        continue;
      }
      // Before 0.2: the workflow sent each message itself (kept for cases recorded by that release).
      const message = this.outbox[0]!;
      try {
        if (message.kind === 'NOTIFY_USER') {
          const deliveries = await effects.notifyUser(message.notice);
          for (const d of deliveries)
            recordEffect(this.state!, Date.now(), {
              type: 'NOTIFIED',
              template: message.notice.template,
              channel: d.channel,
            });
        } else {
          const d = await effects.notifyBackend(message.event);
          recordEffect(this.state!, Date.now(), {
            type: 'WEBHOOK_SENT',
            event: message.event.type,
            channel: d.channel,
          });
        }
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        log.error('message failed', {
          kind: message.kind,
          caseId: this.state?.caseId,
          error: err.cause?.message,
        });
      }
      this.outbox.shift();
      this.version += 1;
    }
  }
}
