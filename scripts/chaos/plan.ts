// Which cases the chaos run drives, and what each one must leave at the receivers when it is done.
import type { LoadedPolicy } from '../../core/policy';
import { parsePolicy } from '../../infra/policy-loader';
import { shortPolicy } from '../../test/helpers/harness';

/**
 * freeze:  identity mismatch → FREEZE → appeal → claim → UNLOCK → RESTORED
 * stepup:  new device far away → STEP_UP → verification passed → RESTORED
 * lockout: 6 failed logins → FREEZE (lockout) → lifts itself → monitoring ends → RESTORED
 * close:   confirmed fraud report → CLOSE → appeal → claim → CLOSE → second reviewer approves → CLOSED
 */
export type Flow = 'freeze' | 'stepup' | 'lockout' | 'close';
export const FLOWS: Flow[] = ['freeze', 'stepup', 'lockout', 'close'];

export const OUTCOME: Record<Flow, 'RESTORED' | 'CLOSED'> = {
  freeze: 'RESTORED',
  stepup: 'RESTORED',
  lockout: 'RESTORED',
  close: 'CLOSED',
};

export interface AccountPlan {
  accountId: string;
  /** Cases of this account, one after another: each starts once the previous one has its outcome. */
  flows: Flow[];
}

/** Cases in a row on one account (its "several cases one after another"). */
export const CASES_PER_SERIAL_ACCOUNT = 3;

/**
 * About 15% of the cases belong to accounts with several cases in a row, the rest to accounts with one case:
 * freeze 30%, step-up 25%, lockout 25%, close 20%. Serial accounts come first (they take longest).
 */
export function makePlan(cases: number, random: () => number, runTag: string): AccountPlan[] {
  const pick = (): Flow => {
    const r = random();
    return r < 0.3 ? 'freeze' : r < 0.55 ? 'stepup' : r < 0.8 ? 'lockout' : 'close';
  };
  const plans: AccountPlan[] = [];
  let planned = 0;
  let n = 0;
  const serialCases = cases >= 10 ? Math.max(CASES_PER_SERIAL_ACCOUNT, Math.round(cases * 0.15)) : 0;
  while (planned < serialCases) {
    const size = Math.min(CASES_PER_SERIAL_ACCOUNT, cases - planned);
    // A closed account's next case would be odd: CLOSE only ever comes last.
    const flows = Array.from({ length: size }, (_, i) => {
      let flow = pick();
      while (flow === 'close' && i < size - 1) flow = pick();
      return flow;
    });
    plans.push({ accountId: `chaos-${runTag}-s${n++}`, flows });
    planned += size;
  }
  // Every flow at least once, then the mix.
  for (let i = 0; planned < cases; i++, planned++)
    plans.push({ accountId: `chaos-${runTag}-a${n++}`, flows: [i < FLOWS.length ? FLOWS[i]! : pick()] });
  return plans;
}

/**
 * The short-duration test policy (test/helpers/harness.ts) with user deadlines long enough that the driver,
 * not the clock, decides every case even while everything is being restarted: a lockout lifts itself after
 * 2 s and the watch after it ends 3 s later, review SLAs breach after 3 s, and a reminder is due 5 s after a
 * case opens (the user deadline itself is 30 minutes away: never reached within a run).
 */
export function chaosPolicy(): LoadedPolicy {
  const raw = JSON.parse(JSON.stringify(shortPolicy().policy)) as {
    version: string;
    tiers: Record<string, { userDeadline: string; remindBefore: string[] }>;
  };
  raw.version = 'chaos-short';
  for (const tier of Object.values(raw.tiers)) {
    tier.userDeadline = '30m';
    tier.remindBefore = ['1795s'];
  }
  return parsePolicy(raw, 'chaos policy');
}

export type Counts = Record<string, number>;

export interface ExpectedEffects {
  gateway: Counts;
  messaging: Counts;
  webhook: Counts;
}

/**
 * What one case of a flow must have sent, each effect under one idempotency key: restriction commands to the
 * gateway, user notices, backend events. Reminders depend on timing (due 5 s after opening, unless the case
 * left the user's hands first): one per REMINDER_DUE in the case's final timeline; likewise one case.escalated
 * per review SLA breach the timeline records.
 */
export function expectedEffects(flow: Flow, reminders: number, escalations = 0): ExpectedEffects {
  const reminder: Counts = reminders > 0 ? { REMINDER: reminders } : {};
  const escalated: Counts = escalations > 0 ? { 'case.escalated': escalations } : {};
  switch (flow) {
    case 'freeze':
      return {
        gateway: { apply: 1, lift: 1 },
        messaging: { RESTRICTED: 1, IN_REVIEW: 1, OUTCOME: 1, ...reminder },
        webhook: { 'restriction.changed': 1, 'case.outcome': 1, ...escalated },
      };
    case 'stepup':
      return {
        gateway: { apply: 1, lift: 1 },
        messaging: { RESTRICTED: 1, OUTCOME: 1, ...reminder },
        webhook: { 'restriction.changed': 1, 'case.outcome': 1, ...escalated },
      };
    case 'lockout':
      // The quiet end of the watch after a lifted lockout sends no second message to the user.
      return {
        gateway: { apply: 1, lift: 1 },
        messaging: { RESTRICTED: 1, LOCKOUT_LIFTED: 1 },
        webhook: { 'restriction.changed': 2, 'case.outcome': 1, ...escalated },
      };
    case 'close':
      return {
        gateway: { apply: 1, close: 1 },
        messaging: { RESTRICTED: 1, IN_REVIEW: 1, OUTCOME: 1, ...reminder },
        webhook: { 'restriction.changed': 1, 'case.outcome': 1, ...escalated },
      };
  }
}

/** The restriction commands a case's timeline records as carried out. */
export function timelineCommands(timeline: { type: string }[]): Counts {
  const counts: Counts = {};
  const add = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  for (const e of timeline) {
    if (e.type === 'RESTRICTION_APPLIED') add('apply');
    if (e.type === 'RESTRICTION_LIFTED') add('lift');
    if (e.type === 'ACCOUNT_CLOSED') add('close');
  }
  return counts;
}
