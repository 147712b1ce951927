// The evidence each reason of a case rests on. At intake, what a risk event brought (its attributes, the rules
// that fired with the fields each read, the data sources' answers) is kept per event ID (infra/stores/
// event-evidence.ts); a case view (GET /v1/cases/{id}) lists, per reason code, the events of its timeline that
// gave that reason, with what was kept of each. Personal values are shown only to the roles that read personal
// case content; the others see that a value exists, not what it is.
import { z } from 'zod';
import type { CaseView, RiskEventResult } from '../core/contracts';
import type { RiskEvent } from '../core/events';
import { FEATURE_PREFIX } from '../core/features';
import type { ReasonCode } from '../core/model';
import type { LoadedPolicy } from '../core/policy';
import type { SourceResult } from '../core/scoring';
import type { Role } from '../infra/config';
import type {
  EventEvidence,
  EventEvidenceStore,
  Fact,
  RuleEvidence,
  SourceEvidence,
} from '../infra/stores/event-evidence';
import { REVIEWERS } from './routes/spec';

/**
 * Who sees the personal values behind a reason: the roles that read personal case content beyond the view's
 * codes, as with users' files (console/case-files.ts) and decoded payloads (CODEC_ROLES.decode). The backend
 * (whose token lives in another system) sees which attributes and answers there were, masked.
 */
export const SEES_PERSONAL_DATA: readonly Role[] = REVIEWERS;

/**
 * Attribute names whose values are Cordon's or the platform's own names and codes, not facts about the person:
 * which identity field was checked, which data source or reporter, which verification method or user action, a
 * staff opening's tier and reason code. An allow-list: an attribute added later is personal until named here.
 */
const NOT_PERSONAL = new Set(['field', 'source', 'method', 'action', 'tier', 'reason']);

/** "source.<name>.available" says whether a source answered, nothing about the person. */
const isPersonalField = (name: string): boolean =>
  !NOT_PERSONAL.has(name) && !/^source\.[^.]+\.available$/.test(name);

/** The rule Cordon itself records for a staff member's case opening (core/scoring.ts): it reads these. */
const STAFF_RULE = { id: 'staff-report', fields: ['tier', 'reason'] };

// ---- At intake ----------------------------------------------------------------------------------------------

/** The facts rules read: the event's attributes, and "source.<name>.<signal>" / ".available" (as scoring does). */
function factsOf(
  event: RiskEvent,
  sources: readonly SourceResult[],
  features: Readonly<Record<string, number>> | undefined,
): Map<string, Fact> {
  const facts = new Map<string, Fact>(Object.entries(event.attributes as Record<string, Fact>));
  // What the policy's features counted when the event was decided: "5 failed logins in 10 minutes".
  for (const [name, value] of Object.entries(features ?? {})) facts.set(`feature.${name}`, value);
  for (const s of sources) {
    facts.set(`source.${s.source}.available`, s.available);
    for (const [name, value] of Object.entries(s.signals)) facts.set(`source.${s.source}.${name}`, value);
  }
  return facts;
}

/** The fields a rule's conditions read, in their order, each once (a comparison with another field reads both). */
function fieldsRead(policy: LoadedPolicy, ruleId: string): string[] | null {
  if (ruleId === STAFF_RULE.id) return STAFF_RULE.fields;
  const rule = policy.policy.rules.find((r) => r.id === ruleId);
  if (!rule) return null;
  return [...new Set(rule.when.flatMap((c) => ('ref' in c ? [c.field, c.ref] : [c.field])))];
}

/**
 * What to keep of an event the case took: only an event that reached a case with a restrictive decision can
 * give a case a reason (a harmless one is counted, never listed). The rules are those of the decision the case
 * answered with (a retry's answer may be an earlier attempt's); their fields are read from the policy that
 * scored this attempt, when that is the decision's policy (else the rules are kept without their fields).
 */
export function evidenceOfEvent(
  event: RiskEvent,
  result: RiskEventResult,
  scoredWith: LoadedPolicy,
  sources: readonly SourceResult[],
): EventEvidence | null {
  if (!result.caseId || result.decision.tier === 'NONE') return null;
  const facts = factsOf(event, sources, result.decision.features);
  const samePolicy = result.decision.policyHash === scoredWith.hash;
  const rules: RuleEvidence[] = result.decision.reasons.map((r) => {
    const names = samePolicy || r.ruleId === STAFF_RULE.id ? (fieldsRead(scoredWith, r.ruleId) ?? []) : [];
    return {
      ruleId: r.ruleId,
      reason: r.code,
      fields: Object.fromEntries(names.map((n) => [n, facts.get(n) ?? null])),
    };
  });
  const answered: SourceEvidence[] = sources.map((s) =>
    s.available
      ? { name: s.source, available: true, signals: { ...s.signals } }
      : { name: s.source, available: false },
  );
  // A source the event itself reports down (DATA_SOURCE_ERROR) was not asked, and counts as unavailable.
  for (const name of result.decision.unavailableSources)
    if (!answered.some((s) => s.name === name)) answered.push({ name, available: false });
  // What each feature a rule read counts, so the reviewer reads "5" as "LOGIN_FAILED events per account in 10m".
  const declared = scoredWith.policy.features ?? {};
  const read = [...new Set(rules.flatMap((r) => Object.keys(r.fields)))]
    .filter((n) => n.startsWith(FEATURE_PREFIX))
    .map((n) => n.slice(FEATURE_PREFIX.length))
    .filter((name) => Object.prototype.hasOwnProperty.call(declared, name));
  return {
    accountId: event.accountId,
    eventId: event.eventId,
    caseId: result.caseId,
    eventType: event.type,
    occurredAt: event.occurredAt,
    attributes: { ...(event.attributes as Record<string, Fact>) },
    rules,
    sources: answered,
    ...(read.length ? { features: Object.fromEntries(read.map((name) => [name, declared[name]!])) } : {}),
  };
}

// ---- In the case view ---------------------------------------------------------------------------------------

const FactSchema = z.union([z.number(), z.boolean(), z.string()]);
const Masked = z
  .strictObject({ masked: z.literal(true) })
  .describe("A personal value the caller's role does not see (only reviewer, senior and admin do)");
const Value = z.union([FactSchema, Masked]);

const RecordedEvent = z.strictObject({
  eventId: z.string(),
  eventType: z.string(),
  occurredAt: z.string().describe("The event's occurredAt, as the backend reported it"),
  recorded: z.literal(true).describe('What the event brought was kept when it was answered'),
  retracted: z.boolean().describe('The backend withdrew the event afterwards'),
  attributes: z.record(z.string(), Value).describe("The event's attributes"),
  rules: z
    .array(
      z.strictObject({
        ruleId: z.string(),
        fields: z
          .record(z.string(), z.union([Value, z.null()]))
          .describe(
            'Each field the rule read, with its value (data sources\' signals as "source.<name>.<signal>")',
          ),
      }),
    )
    .describe('The rules of this reason that fired on the event'),
  sources: z
    .array(
      z.union([
        z.strictObject({ name: z.string(), answer: z.record(z.string(), Value) }),
        z.strictObject({ name: z.string(), unavailable: z.literal(true) }),
      ]),
    )
    .describe('What each data source answered while the event was scored, or that it could not be reached'),
  features: z
    .record(
      z.string(),
      z.strictObject({
        aggregate: z.enum(['count', 'sum', 'distinct']),
        eventTypes: z.array(z.string()).optional(),
        field: z.string().optional(),
        by: z.string(),
        window: z.string(),
      }),
    )
    .optional()
    .describe(
      'The policy features ("feature.<name>") the rules read, as the policy declared them: what each value counts',
    ),
});

const UnrecordedEvent = z.strictObject({
  eventId: z.string(),
  eventType: z.string(),
  occurredAt: z.null(),
  recorded: z
    .literal(false)
    .describe(
      'Nothing was kept of this event: answered before Cordon 0.5 kept evidence, or erased with its account',
    ),
  retracted: z.boolean(),
});

export const EvidenceEventAnswer = z.discriminatedUnion('recorded', [RecordedEvent, UnrecordedEvent]);
export type EvidenceEvent = z.infer<typeof EvidenceEventAnswer>;

/** Per reason code of the case, the events that gave it (oldest first). */
export const CaseEvidenceAnswer = z
  .record(z.string(), z.array(EvidenceEventAnswer))
  .describe(
    "GET /v1/cases/{caseId} only: per reason code of the case, the risk events that gave it, with their attributes, the rules that fired and the fields each read, and the data sources' answers; personal values are masked for the backend role",
  );
export type CaseEvidence = z.infer<typeof CaseEvidenceAnswer>;

type Shown = z.infer<typeof Value>;
const MASKED = { masked: true } as const;

function shownValues<T extends Fact | null>(
  values: Record<string, T>,
  personal: (name: string) => boolean,
  seesPersonal: boolean,
): Record<string, Shown | Extract<T, null>> {
  return Object.fromEntries(
    Object.entries(values).map(([name, v]) => [
      name,
      seesPersonal || v === null || !personal(name) ? v : MASKED,
    ]),
  ) as Record<string, Shown | Extract<T, null>>;
}

function recorded(
  kept: EventEvidence,
  code: ReasonCode,
  retracted: boolean,
  seesPersonal: boolean,
): EvidenceEvent {
  return {
    eventId: kept.eventId,
    eventType: kept.eventType,
    occurredAt: kept.occurredAt,
    recorded: true,
    retracted,
    attributes: shownValues(kept.attributes, isPersonalField, seesPersonal),
    rules: kept.rules
      .filter((r) => r.reason === code)
      .map((r) => ({ ruleId: r.ruleId, fields: shownValues(r.fields, isPersonalField, seesPersonal) })),
    sources: kept.sources.map((s) =>
      s.available
        ? { name: s.name, answer: shownValues(s.signals, () => true, seesPersonal) }
        : { name: s.name, unavailable: true as const },
    ),
    ...(kept.features ? { features: kept.features } : {}),
  };
}

/**
 * Per reason code of the case, the RISK_EVENT entries of its timeline that gave it, with what was kept of each
 * event; an event with nothing kept is listed with `recorded: false`. A reason no event gave (failed
 * verifications, which the case counts itself) has an empty list.
 */
export async function caseEvidence(
  store: EventEvidenceStore,
  view: Pick<CaseView, 'accountId' | 'reasons' | 'timeline' | 'retractedEvents'>,
  role: Role,
): Promise<CaseEvidence> {
  const seen = new Set<string>();
  const events = view.timeline.flatMap((e) => {
    if (e.type !== 'RISK_EVENT' || typeof e.eventId !== 'string' || seen.has(e.eventId)) return [];
    seen.add(e.eventId);
    const reasons = Array.isArray(e.reasons) ? e.reasons.map(String) : [];
    return [{ eventId: e.eventId, eventType: typeof e.eventType === 'string' ? e.eventType : '', reasons }];
  });
  const kept = await store.find(
    view.accountId,
    events.map((e) => e.eventId),
  );
  const seesPersonal = SEES_PERSONAL_DATA.includes(role);
  const retracted = new Set(view.retractedEvents ?? []);
  const evidence: CaseEvidence = {};
  for (const { code } of view.reasons)
    evidence[code] = events
      .filter((e) => e.reasons.includes(code))
      .map((e) => {
        const k = kept.get(e.eventId);
        return k
          ? recorded(k, code, retracted.has(e.eventId), seesPersonal)
          : {
              eventId: e.eventId,
              eventType: e.eventType,
              occurredAt: null,
              recorded: false as const,
              retracted: retracted.has(e.eventId),
            };
      });
  return evidence;
}
