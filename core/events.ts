import { z } from 'zod';
import { LOCALES, REASON_CODES, TIERS } from './model';

// Risk events as reported by the platform's backend. This module is the single source of truth for their
// shape: the API validates with it and the types are inferred from it (workflows import the types only).

const count = z.number().int().min(0).max(1_000_000);
const money = z.number().min(0).max(1e12);

export const RISK_EVENT_ATTRIBUTES = {
  LOGIN_FAILED: z.strictObject({ consecutiveFailures: z.number().int().min(1).max(1_000_000) }),
  LOGIN: z.strictObject({
    newDevice: z.boolean(),
    geoDistanceKm: z.number().min(0).max(40_075).optional(),
    minutesSinceLastLogin: z.number().min(0).optional(),
  }),
  IDENTITY_CHECK: z.strictObject({ matched: z.boolean(), field: z.string().min(1).max(64).optional() }),
  CREDIT_REPORT: z.strictObject({
    lendersLast30d: count,
    scoreDelta: z.number().int().min(-1000).max(1000),
    overdueDays: count,
  }),
  BORROW_REQUEST: z.strictObject({ amount: money, requestsLast24h: count, creditLimit: money }),
  TRANSFER_ATTEMPT: z.strictObject({
    toNewPayee: z.boolean(),
    amount: money,
    duringCall: z.boolean().optional(),
    justBorrowed: z.boolean().optional(),
  }),
  FRAUD_REPORT: z.strictObject({ source: z.string().min(1).max(64), confirmed: z.boolean() }),
  DATA_SOURCE_ERROR: z.strictObject({ source: z.string().min(1).max(64) }),
  REGULATORY_HOLD: z.strictObject({ reference: z.string().min(1).max(128) }),
  /** Reported by Cordon itself (or the backend) when a step-up verification fails. */
  VERIFICATION_FAILED: z.strictObject({ method: z.string().regex(/^[A-Z0-9_]{1,32}$/) }),
  /** Reported by Cordon's user pages when a user's actions go past the rate limits. */
  USER_ACTION_BURST: z.strictObject({
    action: z.enum(['appeal', 'info', 'verification', 'confirmation', 'link']),
  }),
};

export type RiskEventType = keyof typeof RISK_EVENT_ATTRIBUTES;
export const RISK_EVENT_TYPES = Object.keys(RISK_EVENT_ATTRIBUTES) as RiskEventType[];

export const AccountIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" or "-", at most 64 characters');
export const RequestIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits, ".", "_", ":" or "-", at most 128 characters');

const TIME_ZONES = new Set(Intl.supportedValuesOf('timeZone'));

/**
 * How to reach the account holder, if the backend sends it with an event. Personal data: it stays in the case's
 * (encrypted) state and the notices, never in views, logs, search attributes or error messages.
 */
export const ContactSchema = z.strictObject({
  email: z.email().max(254).optional(),
  phone: z
    .string()
    .regex(/^\+?[0-9][0-9 ()-]{4,31}$/, 'a phone number such as +86 138 0000 0000')
    .optional(),
  timeZone: z
    .string()
    .refine((tz) => TIME_ZONES.has(tz) || tz === 'UTC', 'an IANA time zone such as Asia/Shanghai')
    .optional(),
});
export type Contact = z.infer<typeof ContactSchema>;

const envelope = {
  eventId: RequestIdSchema,
  accountId: AccountIdSchema,
  occurredAt: z.iso.datetime({ offset: true }),
  locale: z.enum(LOCALES).optional(),
  contact: ContactSchema.optional(),
};

function variant<T extends RiskEventType>(type: T) {
  return z.strictObject({ ...envelope, type: z.literal(type), attributes: RISK_EVENT_ATTRIBUTES[type] });
}

export const RiskEventSchema = z.discriminatedUnion('type', [
  variant('LOGIN_FAILED'),
  variant('LOGIN'),
  variant('IDENTITY_CHECK'),
  variant('CREDIT_REPORT'),
  variant('BORROW_REQUEST'),
  variant('TRANSFER_ATTEMPT'),
  variant('FRAUD_REPORT'),
  variant('DATA_SOURCE_ERROR'),
  variant('REGULATORY_HOLD'),
  variant('VERIFICATION_FAILED'),
  variant('USER_ACTION_BURST'),
]);

/**
 * Event IDs that begin so belong to staff members' case openings (POST /v1/cases: the principal and the
 * request's ID follow); the backend may not use them, so the two never collide.
 */
export const STAFF_EVENT_PREFIX = 'staff:';

/**
 * A case opened by hand by staff (POST /v1/cases): not a type the backend may report, so it is kept out of
 * RiskEventSchema; it travels the same path as any event (first answer per ID, update-with-start).
 */
export const StaffReportSchema = z.strictObject({
  ...envelope,
  type: z.literal('STAFF_REPORT'),
  attributes: z.strictObject({
    tier: z.enum(TIERS).exclude(['NONE']),
    reason: z.enum(REASON_CODES),
    rationale: z.string().min(1).max(2_000),
  }),
});
export type StaffReport = z.infer<typeof StaffReportSchema>;

export type RiskEvent = z.infer<typeof RiskEventSchema> | StaffReport;
