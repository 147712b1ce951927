import { z } from 'zod';
import { LOCALES, REASON_CODES, TIERS } from './model';

// Risk events as reported by the platform's backend. This module is the single source of truth for their
// shape: the API validates with it and the types are inferred from it (workflows import the types only).

const count = z.number().int().min(0).max(1_000_000);
const money = z.number().min(0).max(1e12);

/** The kinds of entity an event may name, so features can count across accounts (core/features.ts). */
export const ENTITY_KINDS = ['device', 'ip', 'payee', 'lender', 'card', 'phone'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

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
  /**
   * Sent by Cordon alone (core/linked.ts) to an account that shared an entity with an account closed for fraud:
   * which kind of entity, never the other account.
   */
  LINKED_ACCOUNT_RISK: z.strictObject({ entityKind: z.enum(ENTITY_KINDS) }),
};

export type RiskEventType = keyof typeof RISK_EVENT_ATTRIBUTES;
export const RISK_EVENT_TYPES = Object.keys(RISK_EVENT_ATTRIBUTES) as RiskEventType[];
/** The types the backend may report: all but Cordon's own signal to linked accounts. */
export type ReportableEventType = Exclude<RiskEventType, 'LINKED_ACCOUNT_RISK'>;
export const REPORTABLE_EVENT_TYPES = RISK_EVENT_TYPES.filter(
  (t): t is ReportableEventType => t !== 'LINKED_ACCOUNT_RISK',
);

export const AccountIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" or "-", at most 64 characters');
export const RequestIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits, ".", "_", ":" or "-", at most 128 characters');

/** The IANA time zones this runtime knows (and UTC): listed in the OpenAPI document as they are checked. */
const TIME_ZONES = [...new Set([...Intl.supportedValuesOf('timeZone'), 'UTC'])].sort() as [
  string,
  ...string[],
];

/**
 * An e-mail address: zod's local part (letters, digits, _ ' + - and inner dots), then domain labels of at most 63
 * characters and a top-level domain of letters. A pattern rather than the `email` format, so the OpenAPI
 * document and the check are one rule (format checkers differ on the edges: quoted local parts, IP literals).
 */
const EMAIL =
  /^(?=[^@]{1,64}@)(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/**
 * How to reach the account holder, if the backend sends it with an event. Personal data: it stays in the case's
 * (encrypted) state and the notices, never in views, logs, search attributes or error messages.
 */
export const ContactSchema = z
  .strictObject({
    email: z
      .string()
      .max(254)
      // One rule, so a bad address is one error: the part before "@" has at most 64 characters.
      .regex(EMAIL, 'an e-mail address such as name@example.com (at most 64 characters before "@")')
      .optional(),
    phone: z
      .string()
      .regex(/^\+?[0-9][0-9 ()-]{4,31}$/, 'a phone number such as +86 138 0000 0000')
      .optional(),
    timeZone: z.enum(TIME_ZONES, 'an IANA time zone such as Asia/Shanghai').optional(),
  })
  // One definition in the OpenAPI document (its time zones are many), referred to by every event type.
  .meta({ id: 'Contact' });
export type Contact = z.infer<typeof ContactSchema>;

/** 13 to 19 digits (spaces and dashes aside) passing the Luhn check: a card number, not a token. */
export function looksLikeCardNumber(value: string): boolean {
  const digits = value.replace(/[ -]/g, '');
  if (!/^[0-9]{13,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

const ENTITY_VALUE = /^[\x20-\x7E]{1,128}$/;
const entityValue = z.string().regex(ENTITY_VALUE, 'printable ASCII, 1 to 128 characters');

/**
 * What the event involved beyond the account: identifiers the platform already holds (a device ID, an IP, a
 * payee's account, a lender, a card token, a phone number). Personal data: never echoed in error messages.
 */
export const EntitiesSchema = z.strictObject({
  device: entityValue.optional(),
  ip: entityValue.optional(),
  payee: entityValue.optional(),
  lender: entityValue.optional(),
  card: entityValue
    .refine((v) => !looksLikeCardNumber(v), {
      message: "looks like a card number (13-19 digits passing the Luhn check): send the processor's token",
    })
    .optional(),
  phone: entityValue.optional(),
});
export type Entities = z.infer<typeof EntitiesSchema>;

const envelope = {
  // The refusal is the API's own (400 RESERVED_EVENT_ID); the document states the rule for clients and testers.
  eventId: RequestIdSchema.meta({
    description: `Unique per account; must not begin with "staff:" or "linked:" (Cordon's own events use those)`,
    not: { pattern: '^(staff|linked):' },
  }),
  accountId: AccountIdSchema,
  occurredAt: z.iso
    .datetime({ offset: true })
    .describe(
      'When it happened, by the reporting system\'s clock. At most CORDON_EVENT_MAX_FUTURE_S (300 s unless configured) ahead of Cordon\'s clock, else 400 OCCURRED_IN_FUTURE (a rule relative to "now", which JSON Schema cannot state). Any past time is accepted: Cordon decides by when it learns of an event, and keeps this for the record.',
    ),
  locale: z.enum(LOCALES).optional(),
  contact: ContactSchema.optional(),
};

function variant<T extends RiskEventType>(type: T) {
  return z.strictObject({
    ...envelope,
    type: z.literal(type),
    attributes: RISK_EVENT_ATTRIBUTES[type],
    entities: EntitiesSchema.optional(),
  });
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

/** Cordon's signals to linked accounts (core/linked.ts, api/linker.ts): `linked:` and an opaque digest. */
export const LINKED_EVENT_PREFIX = 'linked:';
export const LINKED_EVENT_TYPE = 'LINKED_ACCOUNT_RISK';

/** Event IDs only Cordon makes; the backend's may not begin so. */
export const RESERVED_EVENT_PREFIXES = [STAFF_EVENT_PREFIX, LINKED_EVENT_PREFIX] as const;

/** CORDON_EVENT_MAX_FUTURE_S unless configured: the clock skew an event's occurredAt may show (seconds). */
export const EVENT_MAX_FUTURE_S_DEFAULT = 300;

/** Whether an event's occurredAt is further ahead of `now` than the allowed skew. */
export function occurredTooFarAhead(occurredAt: string, maxFutureMs: number, now: number): boolean {
  return Date.parse(occurredAt) - now > maxFutureMs;
}

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

/** A signal Cordon sends to a linked account: not a type the backend may report, like a staff opening. */
export const LinkedAccountRiskSchema = z.strictObject({
  ...envelope,
  type: z.literal(LINKED_EVENT_TYPE),
  attributes: RISK_EVENT_ATTRIBUTES.LINKED_ACCOUNT_RISK,
});
export type LinkedAccountRisk = z.infer<typeof LinkedAccountRiskSchema>;

export type RiskEvent = z.infer<typeof RiskEventSchema> | StaffReport | LinkedAccountRisk;

/** The event without its entities: what a case keeps (their values were counted at intake, keyed-hashed). */
export function withoutEntities(event: RiskEvent): RiskEvent {
  if (!('entities' in event)) return event;
  const { entities: _counted, ...rest } = event;
  return rest;
}
