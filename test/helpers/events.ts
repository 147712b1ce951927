import { randomUUID } from 'node:crypto';
import type { RiskEvent } from '../../core/events';

export function uniqueAccount(prefix = 'acct'): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}

type Attributes<T extends RiskEvent['type']> = Extract<RiskEvent, { type: T }>['attributes'];

export function riskEvent<T extends RiskEvent['type']>(
  accountId: string,
  type: T,
  attributes: Attributes<T>,
  eventId = `evt-${randomUUID()}`,
): RiskEvent {
  return { eventId, accountId, type, occurredAt: new Date().toISOString(), attributes } as RiskEvent;
}

/** One example per default-policy rule the issue names, with the tier it must decide. */
export const EXAMPLES = {
  fraudConfirmed: ['FRAUD_REPORT', { source: 'card-network', confirmed: true }, 'CLOSE'],
  identityMismatch: ['IDENTITY_CHECK', { matched: false, field: 'name' }, 'FREEZE'],
  sixFailedLogins: ['LOGIN_FAILED', { consecutiveFailures: 6 }, 'FREEZE'],
  impossibleTravel: ['LOGIN', { newDevice: true, geoDistanceKm: 2000, minutesSinceLastLogin: 30 }, 'STEP_UP'],
  multiLender: ['CREDIT_REPORT', { lendersLast30d: 7, scoreDelta: 0, overdueDays: 0 }, 'LIMIT'],
  scamTransfer: [
    'TRANSFER_ATTEMPT',
    { toNewPayee: true, amount: 3000, duringCall: true, justBorrowed: true },
    'PROTECT',
  ],
  dataSourceError: ['DATA_SOURCE_ERROR', { source: 'credit-bureau' }, 'NONE'],
  ordinaryLogin: ['LOGIN', { newDevice: false, geoDistanceKm: 3, minutesSinceLastLogin: 600 }, 'NONE'],
} as const;
