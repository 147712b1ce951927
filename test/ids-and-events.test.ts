// Identifiers and the event envelope (core/contracts.ts, core/events.ts): case and workflow IDs, the clock-skew
// rule, contacts, staff openings, and the words a refused field is explained with. Server-free.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { z } from 'zod';
import {
  CASE_WORKFLOW_TYPE,
  TASK_QUEUE,
  caseWorkflowId,
  makeCaseId,
  parseCaseId,
  SEARCH_ATTRIBUTE_FLAGS,
} from '../core/contracts';
import {
  AccountIdSchema,
  ContactSchema,
  occurredTooFarAhead,
  RequestIdSchema,
  RiskEventSchema,
  RESERVED_EVENT_PREFIXES,
  STAFF_EVENT_PREFIX,
  StaffReportSchema,
} from '../core/events';
import { NO_ACTION } from '../core/model';
import { ENV_SCHEMA } from '../infra/config-schema';
import { envDocs } from '../infra/config-values';
import { SA } from '../workflows/definitions';
import * as workflows from '../workflows';
import { riskEvent } from './helpers/events';

const accountIdArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

describe('case and workflow IDs', () => {
  it('one workflow per account, named after it', () => {
    assert.equal(caseWorkflowId('acct-1'), 'cordon-account-acct-1');
  });

  it('a case ID is the account ID and twelve hex digits of the first run ID', () => {
    assert.equal(makeCaseId('acct-1', '0195f3a2-7c41-7b3e-9d2a-1234567890ab'), 'acct-1.0195f3a27c41');
  });

  it('property: parsing a case ID gives back its account; anything else is no case ID', () => {
    const runIdArb = fc.uuid();
    fc.assert(
      fc.property(accountIdArb, runIdArb, (accountId, runId) => {
        assert.deepEqual(parseCaseId(makeCaseId(accountId, runId)), { accountId });
      }),
      { numRuns: 200, seed: 20261206 },
    );
    for (const bad of [
      'acct-1',
      'acct-1.0195f3a27c4',
      'acct-1.0195f3a27c41a',
      'acct-1.0195F3A27C41',
      'acct 1.0195f3a27c41',
      `${'a'.repeat(65)}.0195f3a27c41`,
      'x.acct-1.0195f3a27c41',
      '.0195f3a27c41',
      'acct-1.0195f3a27c41\n',
    ])
      assert.equal(parseCaseId(bad), null, bad);
  });
});

describe('the event envelope', () => {
  it('an event may be ahead of our clock by the allowed skew, not a millisecond more', () => {
    const now = Date.parse('2026-12-06T12:00:00.000Z');
    const at = (ms: number) => new Date(now + ms).toISOString();
    assert.equal(occurredTooFarAhead(at(300_000), 300_000, now), false);
    assert.equal(occurredTooFarAhead(at(300_001), 300_000, now), true);
    assert.equal(occurredTooFarAhead(at(-86_400_000), 300_000, now), false, 'any past time is accepted');
  });

  it('account and request IDs: what they allow, and the words a refusal uses', () => {
    for (const ok of ['a', 'A-z_0', 'x'.repeat(64)]) assert.ok(AccountIdSchema.safeParse(ok).success, ok);
    for (const bad of ['', 'a.b', 'a b', 'x'.repeat(65), 'é']) {
      const r = AccountIdSchema.safeParse(bad);
      assert.equal(r.success, false, bad);
      assert.equal(r.error?.issues[0]?.message, 'letters, digits, "_" or "-", at most 64 characters');
    }
    for (const ok of ['r', 'a.b_c:d-e', 'x'.repeat(128)])
      assert.ok(RequestIdSchema.safeParse(ok).success, ok);
    for (const bad of ['', 'a b', 'x'.repeat(129), 'a/b']) {
      const r = RequestIdSchema.safeParse(bad);
      assert.equal(r.success, false, bad);
      assert.equal(
        r.error?.issues[0]?.message,
        'letters, digits, ".", "_", ":" or "-", at most 128 characters',
      );
    }
  });

  it('a contact: an address, a phone number and a time zone, each refused with its own words', () => {
    assert.ok(
      ContactSchema.safeParse({
        email: "o'neil+x@mail.example.com",
        phone: '+86 138 0000 0000',
        timeZone: 'Asia/Shanghai',
      }).success,
    );
    assert.ok(ContactSchema.safeParse({ timeZone: 'UTC' }).success);
    assert.ok(ContactSchema.safeParse({}).success, 'every part is optional');
    const message = (contact: unknown) => ContactSchema.safeParse(contact).error?.issues[0]?.message;
    for (const email of [
      'name',
      'name@',
      '@example.com',
      'a..b@example.com',
      'a@b',
      `${'a'.repeat(65)}@x.com`,
    ])
      assert.equal(
        message({ email }),
        'an e-mail address such as name@example.com (at most 64 characters before "@")',
        email,
      );
    for (const phone of ['12', 'call me', '+86 138 0000 0000 0000 0000 0000 0000'])
      assert.equal(message({ phone }), 'a phone number such as +86 138 0000 0000', phone);
    assert.equal(message({ timeZone: 'Mars/Olympus' }), 'an IANA time zone such as Asia/Shanghai');
    assert.equal(ContactSchema.safeParse({ email: 'a@example.com', fax: '1' }).success, false);
  });

  it('a staff opening names a restrictive tier, a catalogue reason and a rationale', () => {
    const base = {
      eventId: 'staff:r1:q1',
      accountId: 'acct-1',
      occurredAt: '2026-12-06T12:00:00Z',
      type: 'STAFF_REPORT',
    };
    const attributes = { tier: 'FREEZE', reason: 'EXTERNAL_FRAUD_REPORT', rationale: 'bank called' };
    assert.ok(StaffReportSchema.safeParse({ ...base, attributes }).success);
    for (const bad of [
      { ...attributes, tier: 'NONE' },
      { ...attributes, reason: 'GUT_FEELING' },
      { ...attributes, rationale: '' },
      { ...attributes, rationale: 'x'.repeat(2_001) },
      { ...attributes, extra: true },
    ])
      assert.equal(
        StaffReportSchema.safeParse({ ...base, attributes: bad }).success,
        false,
        JSON.stringify(bad),
      );
    assert.equal(
      RiskEventSchema.safeParse({ ...base, attributes }).success,
      false,
      'the backend cannot report a staff opening',
    );
  });

  it('an event may carry a locale and a contact; an unknown locale or an offset-less time is refused', () => {
    const e = riskEvent('acct-1', 'LOGIN', { newDevice: true });
    assert.ok(RiskEventSchema.safeParse({ ...e, locale: 'zh-CN', contact: { timeZone: 'UTC' } }).success);
    assert.equal(RiskEventSchema.safeParse({ ...e, locale: 'fr' }).success, false);
    assert.equal(RiskEventSchema.safeParse({ ...e, occurredAt: '2026-12-06T12:00:00' }).success, false);
    assert.ok(RiskEventSchema.safeParse({ ...e, occurredAt: '2026-12-06T12:00:00+08:00' }).success);
  });
});

describe('the event envelope: attributes and contacts at their edges', () => {
  const parse = (type: string, attributes: unknown) =>
    RiskEventSchema.safeParse({ ...riskEvent('acct-1', 'LOGIN', { newDevice: true }), type, attributes })
      .success;

  it('a failed verification names its method in capitals, digits and underscores, and nothing around it', () => {
    assert.ok(parse('VERIFICATION_FAILED', { method: 'SMS_OTP2' }));
    for (const method of ['sms', 'bad-SMS', 'SMS-bad', 'SMS OTP', '', 'X'.repeat(33)])
      assert.equal(parse('VERIFICATION_FAILED', { method }), false, method);
  });

  it('a burst of user actions names one of the actions users take', () => {
    for (const action of ['appeal', 'info', 'verification', 'confirmation', 'link'])
      assert.ok(parse('USER_ACTION_BURST', { action }), action);
    assert.equal(parse('USER_ACTION_BURST', { action: 'login' }), false);
  });

  it('e-mail addresses: dotted local parts and sub-domains pass; a bad start, end or label does not', () => {
    const ok = (email: string) => ContactSchema.safeParse({ email }).success;
    for (const email of [
      'first.last@example.com',
      'a.b.c@sub.example.co',
      "o'neil@example.com",
      'x-y_z+tag@example-mail.com',
      `${'a'.repeat(64)}@example.com`,
      `a@${'b'.repeat(63)}.com`,
      'a@x.io',
      'a@x.example.com',
    ])
      assert.ok(ok(email), email);
    for (const email of [
      'x y@example.com',
      '.a@example.com',
      'a.@example.com',
      "a'@example.com",
      'a@example.c0m',
      'a@-example.com',
      'a@example-.com',
      `a@${'b'.repeat(64)}.com`,
      'a@example.com.',
      'a@@example.com',
    ])
      assert.equal(ok(email), false, email);
  });

  it('phone numbers: digits with spaces, dashes and brackets, a plus in front or not', () => {
    const ok = (phone: string) => ContactSchema.safeParse({ phone }).success;
    for (const phone of ['0571 8888 8888', '+1 (555) 010-9999', '12345']) assert.ok(ok(phone), phone);
    for (const phone of ['tel 12345678', '12345 x', '+ 12345', '(555) 0109999', '1234'])
      assert.equal(ok(phone), false, phone);
  });

  it('the API document states the envelope rules: the reserved prefix, the clock skew and one contact definition', () => {
    const doc = z.toJSONSchema(RiskEventSchema, { unrepresentable: 'any' }) as any;
    assert.deepEqual(Object.keys(doc.$defs), ['Contact']);
    for (const variant of doc.oneOf) {
      const { eventId, occurredAt, contact } = variant.properties;
      assert.deepEqual(eventId.not, { pattern: '^(staff|linked):' });
      assert.match(eventId.description, /must not begin with "staff:" or "linked:"/);
      assert.match(occurredAt.description, /CORDON_EVENT_MAX_FUTURE_S/);
      assert.match(occurredAt.description, /OCCURRED_IN_FUTURE/);
      assert.deepEqual(contact, { $ref: '#/$defs/Contact' });
    }
    assert.deepEqual(RESERVED_EVENT_PREFIXES, [STAFF_EVENT_PREFIX, 'linked:']);
    assert.equal(STAFF_EVENT_PREFIX, 'staff:');
  });
});

describe('contract names shared with the workflow and the dev server', () => {
  it('the workflow type names the workflow function the worker registers', () => {
    assert.equal(typeof (workflows as Record<string, unknown>)[CASE_WORKFLOW_TYPE], 'function');
  });

  it('the dev server is started with exactly the search attributes the workflow sets, with their types', () => {
    const types: Record<string, string> = {
      KEYWORD: 'Keyword',
      KEYWORD_LIST: 'KeywordList',
      DATETIME: 'Datetime',
    };
    assert.deepEqual(
      SEARCH_ATTRIBUTE_FLAGS,
      Object.values(SA).map((key) => `${key.name}=${types[key.type]}`),
    );
  });

  it('the task queue is the one the configuration page names as the default of CORDON_TASK_QUEUE', () => {
    assert.equal(envDocs.get(ENV_SCHEMA.shape.CORDON_TASK_QUEUE)?.default, `\`${TASK_QUEUE}\``);
  });

  it('an event that opens no case is answered with the status NO_ACTION', () => {
    assert.equal(NO_ACTION, 'NO_ACTION');
  });
});
