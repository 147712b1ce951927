// Property-based tests of the HTTP API over real HTTP, against the real app and a real worker on the dev
// server (issue 6). Requests go out as raw HTTP, byte for byte ("..", "%00", malformed escapes included).
//   1. Random requests on every route of the route table (random methods, path parameters, queries, tokens,
//      bodies and content types): never a 5xx, never a success without a valid token, every error an
//      application/problem+json; and, as a property of its own, every problem has a code and a 400
//      VALIDATION_FAILED names the fields.
//   2. Random valid risk events: a 200 did what it says (a restricting event restricts the account and opens or
//      enters a case that then exists), and a repeated event ID gets the first answer and changes nothing.
//   3. Random action sequences on a case, with request IDs from a small pool so that they collide: every 200
//      changed the case or repeats an answered request (and then answers as the first time did), a request ID
//      reused by the same principal for the same action with another body is a 409 IDEMPOTENCY_KEY_REUSED,
//      and every 409 or 403 leaves the case as it was.
//   4. The same actions in concurrent bursts: each identity applied once, every 200 either applied (one
//      timeline entry each) or a repeat with the same answer, every answer a point of one history.
//
// Runs: CORDON_PROPERTY_RUNS scales every property here (default 3000, as for case-machine.property.test.ts:
// CORDON_PROPERTY_RUNS=30000 runs ten times as many). Replay a failure with the seed and path fast-check prints:
// CORDON_PROPERTY_SEED=… CORDON_PROPERTY_PATH=… npx mocha test/api.property.test.ts --grep '<property>'.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import type { z } from 'zod';
import { routes, type AppDeps } from '../api/app';
import { startApi, type RunningApi } from '../api/main';
import * as S from '../api/schemas';
import { REFUSAL_CODES } from '../core/case-types';
import {
  REPORTABLE_EVENT_TYPES,
  RISK_EVENT_ATTRIBUTES,
  type ReportableEventType,
  type RiskEvent,
  type RiskEventType,
} from '../core/events';
import {
  DECISIONS,
  LOCALES,
  REASON_CODES,
  REVIEW_STATUSES,
  TIERS,
  tierRank,
  type CaseStatus,
  type Tier,
} from '../core/model';
import { parseConfig } from '../infra/config';
import type { Logger } from '../infra/logger';
import { ERASURE_REASONS } from '../infra/erasure-record';
import { EXAMPLES } from './helpers/events';
import { newHarness, type Harness } from './helpers/harness';
import { sharedDevServer, TEST_CODEC_KEYS } from './helpers/servers';
import { requires } from './helpers/requirements';

// ---------------------------------------------------------------------------------------------------------
// Run counts

const DEFAULT_RUNS = 3000;
const SCALE =
  Math.max(1, Number(process.env.CORDON_PROPERTY_RUNS ?? DEFAULT_RUNS) || DEFAULT_RUNS) / DEFAULT_RUNS;
const SEED = process.env.CORDON_PROPERTY_SEED;
const PATH = process.env.CORDON_PROPERTY_PATH;

/**
 * Default runs per property (40 to 60 s in all): 1,200 + 500 batches of 1 to 8 random requests (~7,500
 * requests), 60 risk events (5 requests each), 30 action sequences and 25 concurrent bursts.
 */
const RUNS = {
  requests: Math.max(1, Math.round(1200 * SCALE)),
  problems: Math.max(1, Math.round(500 * SCALE)),
  events: Math.max(1, Math.round(60 * SCALE)),
  sequences: Math.max(1, Math.round(30 * SCALE)),
  bursts: Math.max(1, Math.round(25 * SCALE)),
};

function params<T>(numRuns: number): fc.Parameters<T> {
  return {
    numRuns,
    ...(SEED !== undefined ? { seed: Number(SEED) } : {}),
    ...(PATH !== undefined ? { path: PATH } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Principals

const ADMIN_TOKEN = `prop-admin-${randomUUID()}`;
const BACKEND2_TOKEN = `prop-backend-${randomUUID()}`;

const WHO = {
  backend: { token: 'dev-backend', id: 'backend', role: 'backend' },
  backend2: { token: BACKEND2_TOKEN, id: 'backend-2', role: 'backend' },
  admin: { token: ADMIN_TOKEN, id: 'prop-admin', role: 'admin' },
  r1: { token: 'dev-reviewer-1', id: 'reviewer-1', role: 'reviewer' },
  r2: { token: 'dev-reviewer-2', id: 'reviewer-2', role: 'reviewer' },
  senior: { token: 'dev-senior', id: 'senior', role: 'senior' },
} as const;
type Who = keyof typeof WHO;
const VALID_TOKENS = new Set<string>(Object.values(WHO).map((w) => w.token));

// ---------------------------------------------------------------------------------------------------------
// A raw HTTP client: the exact path goes on the wire (fetch would resolve "..", and refuse some bodies).

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: any;
}

interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

function send(base: string, r: RawRequest): Promise<Reply> {
  const url = new URL(base);
  const payload = r.body === undefined ? undefined : Buffer.from(r.body, 'utf8');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: r.path,
        agent,
        headers: { ...r.headers, ...(payload ? { 'content-length': String(payload.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          if (text && /json/.test(res.headers['content-type'] ?? '')) {
            try {
              body = JSON.parse(text);
            } catch {
              return reject(
                new Error(`${r.method} ${r.path}: ${res.statusCode} with a JSON type but not JSON`),
              );
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer in 30 s to ${r.method} ${r.path}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const bearer = (who: Who) => ({ authorization: `Bearer ${WHO[who].token}` });
const jsonHeaders = (who: Who) => ({ ...bearer(who), 'content-type': 'application/json' });

function describeReply(r: Reply): string {
  return `${r.status} ${r.headers['content-type'] ?? '(no type)'} ${r.text.slice(0, 600)}`;
}

// ---------------------------------------------------------------------------------------------------------
// The route table and valid bodies for it

const TABLE = routes({} as AppDeps);
/** What the random requests aim at: the route table, the OpenAPI document, and paths the API does not have. */
const TARGETS: { method: string; path: string; query?: unknown; roles?: unknown }[] = [
  ...TABLE,
  { method: 'get', path: '/openapi.json', roles: 'public' },
  { method: 'get', path: '/', roles: 'public' },
  { method: 'post', path: '/v1/cases/:caseId/:action' },
  { method: 'get', path: '/V1/CASES/:caseId' },
  { method: 'get', path: '/v1/accounts/:accountId' },
];
const routeKey = (r: { method: string; path: string }) => `${r.method.toUpperCase()} ${r.path}`;

const requestId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/);
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
const eventIdArb = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES, '__defineGetter__', 'isPrototypeOf') },
  { weight: 3, arbitrary: requestId },
);
/** Strings of 1 to max UTF-16 units (graphemes can be several units long). */
const text = (max: number) =>
  fc
    .oneof(
      fc.string({ minLength: 1, maxLength: Math.min(max, 40) }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 20) }),
      fc.constantFrom(...PROTOTYPE_NAMES),
    )
    .filter((s) => s.length >= 1 && s.length <= max);
/** Free text as the schemas take it: not blank once trimmed. */
const freeText = (max: number) => text(max).filter((s) => s.trim().length > 0);
const count = fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 1_000_000 }));
const money = fc.oneof(
  fc.constantFrom(0, 100, 2_999.99, 3_000, 5_000, 1e12),
  fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true }),
);

type Attributes<T extends RiskEventType> = z.infer<(typeof RISK_EVENT_ATTRIBUTES)[T]>;

/** Attributes per event type, within the schema's bounds and biased towards the policy's thresholds. */
const ATTRIBUTES: { [T in ReportableEventType]: fc.Arbitrary<Attributes<T>> } = {
  LOGIN_FAILED: fc.record({
    consecutiveFailures: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 1_000_000 })),
  }),
  LOGIN: fc.record(
    {
      newDevice: fc.boolean(),
      geoDistanceKm: fc.oneof(
        fc.constantFrom(0, 499, 500, 2_000, 40_075),
        fc.double({ min: 0, max: 40_075, noNaN: true }),
      ),
      minutesSinceLastLogin: fc.oneof(
        fc.constantFrom(0, 30, 180, 181),
        fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true }),
      ),
    },
    { requiredKeys: ['newDevice'] },
  ),
  IDENTITY_CHECK: fc.record({ matched: fc.boolean(), field: text(64) }, { requiredKeys: ['matched'] }),
  CREDIT_REPORT: fc.record({
    lendersLast30d: count,
    scoreDelta: fc.oneof(fc.constantFrom(-80, -79, 0), fc.integer({ min: -1000, max: 1000 })),
    overdueDays: fc.oneof(fc.constantFrom(29, 30, 90), count),
  }),
  BORROW_REQUEST: fc.record({ amount: money, requestsLast24h: count, creditLimit: money }),
  TRANSFER_ATTEMPT: fc.record(
    { toNewPayee: fc.boolean(), amount: money, duringCall: fc.boolean(), justBorrowed: fc.boolean() },
    { requiredKeys: ['toNewPayee', 'amount'] },
  ),
  FRAUD_REPORT: fc.record({ source: text(64), confirmed: fc.boolean() }),
  DATA_SOURCE_ERROR: fc.record({ source: text(64) }),
  REGULATORY_HOLD: fc.record({ reference: text(128) }),
  VERIFICATION_FAILED: fc.record({ method: fc.stringMatching(/^[A-Z0-9_]{1,32}$/) }),
  USER_ACTION_BURST: fc.record({
    action: fc.constantFrom('appeal', 'info', 'verification', 'confirmation', 'link'),
  }),
};

// Valid events happened in the past (up to CORDON_EVENT_MAX_FUTURE_S ahead is refused): a day back at the latest,
// so that rewriting "Z" as an offset (which moves the instant by up to 8 hours) keeps it there.
const occurredAt = fc
  .tuple(
    fc.date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date(Date.now() - 86_400_000),
      noInvalidDate: true,
    }),
    fc.constantFrom('Z', '+00:00', '+05:30', '-08:00'),
  )
  .map(([d, offset]) => d.toISOString().replace('Z', offset));

/** A valid risk event of a random type for the account the given arbitrary draws. */
function riskEventArb(account: fc.Arbitrary<string>): fc.Arbitrary<RiskEvent> {
  return fc.constantFrom(...REPORTABLE_EVENT_TYPES).chain((type) =>
    fc
      .record(
        {
          eventId: eventIdArb,
          accountId: account,
          type: fc.constant(type),
          occurredAt,
          locale: fc.constantFrom(...LOCALES),
          attributes: ATTRIBUTES[type] as fc.Arbitrary<unknown>,
        },
        { requiredKeys: ['eventId', 'accountId', 'type', 'occurredAt', 'attributes'] },
      )
      .map((e) => e as RiskEvent),
  );
}

const evidence = fc.array(fc.string({ minLength: 1, maxLength: 500 }), { maxLength: 10 });

/** A valid body for every route that takes one: the starting point of the mutated bodies. */
const VALID_BODIES: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  'POST /v1/risk-events': riskEventArb(fc.stringMatching(/^p1-[A-Za-z0-9_-]{1,40}$/)),
  'POST /v1/simulate': riskEventArb(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/)),
  'POST /v1/cases/:caseId/verification': fc.record({
    method: fc.stringMatching(/^[A-Z0-9_]{1,32}$/),
    passed: fc.boolean(),
    requestId,
  }),
  'POST /v1/cases/:caseId/appeal': fc.record(
    { statement: freeText(2_000), evidence, requestId },
    { requiredKeys: ['statement', 'requestId'] },
  ),
  'POST /v1/cases/:caseId/second-review': fc.record(
    { statement: freeText(2_000), evidence, requestId },
    { requiredKeys: ['statement', 'requestId'] },
  ),
  // A bulk action's dry run names at least one field of its selector (a rule here), a window forwards.
  'POST /v1/bulk-actions': fc.record({
    requestId,
    selector: fc.record(
      {
        rule: fc.stringMatching(/^[a-z0-9-]{1,64}$/),
        status: fc.constantFrom('LIMITED', 'IN_REVIEW', 'AWAITING_USER'),
      },
      { requiredKeys: ['rule'] },
    ),
    action: fc.constantFrom('LIFT', 'RESCORE'),
    explanation: fc.record({ text: freeText(1_000) }),
  }),
  'POST /v1/cases/:caseId/info': fc.record(
    { answer: freeText(4_000), evidence, requestId },
    { requiredKeys: ['answer', 'requestId'] },
  ),
  // A question goes with REQUEST_INFO, and only with it.
  'POST /v1/cases/:caseId/decision': fc.constantFrom(...DECISIONS).chain((decision) =>
    fc.record(
      {
        decision: fc.constant(decision),
        rationale: freeText(2_000),
        requestId,
        ...(decision === 'REQUEST_INFO' ? { question: freeText(1_000) } : {}),
        explanation: fc.record({ code: fc.constantFrom(...REASON_CODES), text: freeText(1_000) }),
        evidenceVersion: fc.nat(),
      },
      {
        requiredKeys: [
          'decision',
          'rationale',
          'requestId',
          ...(decision === 'REQUEST_INFO' ? (['question'] as const) : []),
        ],
      },
    ),
  ),
  'POST /v1/cases/:caseId/approval': fc.record(
    { approve: fc.boolean(), rationale: freeText(2_000), requestId, evidenceVersion: fc.nat() },
    { requiredKeys: ['approve', 'rationale'] },
  ),
  'POST /v1/accounts/restrictions': fc.record({
    accountIds: fc.array(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), { minLength: 1, maxLength: 100 }),
  }),
  'POST /v1/cases/:caseId/break-glass': fc.record(
    {
      action: fc.constantFrom('LIFT', 'CLOSE'),
      rationale: freeText(2_000),
      explanation: fc.record({ code: fc.constantFrom(...REASON_CODES), text: freeText(1_000) }),
      requestId,
    },
    { requiredKeys: ['action', 'rationale', 'requestId'] },
  ),
  'POST /v1/risk-events/:eventId/retraction': fc.record({
    accountId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    reason: freeText(500),
    requestId,
  }),
  'POST /v1/cases': fc.record(
    {
      accountId: fc.stringMatching(/^p1-[A-Za-z0-9_-]{1,40}$/),
      tier: fc.constantFrom(...TIERS.filter((t) => t !== 'NONE')),
      reason: fc.constantFrom(...REASON_CODES),
      rationale: freeText(2_000),
      locale: fc.constantFrom(...LOCALES),
      requestId,
    },
    { requiredKeys: ['accountId', 'tier', 'reason', 'rationale', 'requestId'] },
  ),
  'POST /v1/accounts/:accountId/erasure': fc.record({
    requestId,
    reason: fc.constantFrom(...ERASURE_REASONS),
  }),
  'POST /v1/erasures/:erasureId/approval': fc.record({ requestId }),
};

// ---------------------------------------------------------------------------------------------------------
// Random requests: path parameters, queries, tokens, bodies, content types

const SPECIAL_SEGMENTS = [
  ...PROTOTYPE_NAMES,
  '__proto__.0123456789ab',
  'constructor.0123456789ab',
  'toString.abcdefabcdef',
  '..',
  '.',
  '%2e%2e',
  '%2E',
  '%00',
  'a%00b',
  '%2F',
  'a%2Fb',
  '..%2F..%2Fetc',
  '%5C',
  '%',
  '%ZZ',
  '%E0%A4%A',
  '%C0%AE',
  '%FF',
  ';',
  'a;b=c',
  '~',
  '*',
  '%20',
  '+',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  'a'.repeat(64),
  'a'.repeat(65),
  `${'a'.repeat(64)}.0123456789ab`,
  `${'a'.repeat(65)}.0123456789ab`,
  'A.0123456789AB',
  'a.0123456789abc',
  'a..0123456789ab',
  '.0123456789ab',
  encodeURIComponent('ünïcödé'),
  encodeURIComponent('😀.0123456789ab'),
  encodeURIComponent('\u202e\u0000\ufeff'),
  'x'.repeat(5_000),
];

const QUERY_KEYS = [
  'limit',
  'after',
  'status',
  '__proto__',
  'constructor',
  'toString',
  'x',
  'limit[]',
  'after[a]',
];
const QUERY_VALUES = [
  '',
  '0',
  '1',
  '-1',
  '5',
  '100',
  '500',
  '501',
  '1000',
  '1001',
  '1e3',
  '0x10',
  '1.5',
  'NaN',
  'Infinity',
  '9007199254740993',
  '99999999999999999999999',
  'IN_REVIEW',
  'AWAITING_INFO',
  'PENDING_APPROVAL',
  'CLOSED',
  '__proto__',
];
const queryArb: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(
      fc.tuple(
        fc.constantFrom(...QUERY_KEYS),
        fc.oneof(fc.constantFrom(...QUERY_VALUES), fc.string({ unit: 'grapheme', maxLength: 10 })),
      ),
      { maxLength: 4 },
    )
    .map((pairs) =>
      pairs.length
        ? `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`
        : '',
    ),
  fc.constantFrom(
    '?',
    '?%',
    '?limit=%E0%A4%A',
    '?&&&',
    '?=1',
    '?limit',
    '?after=1&after=2',
    '?limit=1&limit=2',
  ),
);

const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'application/JSON',
  'application/problem+json',
  'application/merge-patch+json',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset=iso-8859-1',
  '*/*',
  'json',
  '',
];

const AUTH_HEADERS = [
  'Bearer constructor',
  'Bearer __proto__',
  'Bearer toString',
  'Bearer hasOwnProperty',
  'bearer dev-backend',
  'BEARER dev-senior',
  'Bearer  dev-reviewer-1',
  'Bearer\tdev-reviewer-2',
  'Bearer dev-backend dev-backend',
  'Bearer dev-backen',
  'Bearer dev-backendx',
  'Basic ZGV2LWJhY2tlbmQ6',
  'Token dev-backend',
  'Bearer',
  'Bearer ',
  'dev-backend',
  '',
];

const authArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 10, arbitrary: fc.constantFrom(...[...VALID_TOKENS].map((t) => `Bearer ${t}`)) },
  { weight: 2, arbitrary: fc.constantFrom(...AUTH_HEADERS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => `Bearer ${s}`) },
);

/** Whether the Authorization header names a configured token (as the server reads it: trimmed). */
function authenticates(header: string | undefined): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec((header ?? '').trim());
  return !!match && VALID_TOKENS.has(match[1]!);
}

/** A JSON value to plant somewhere in a valid body. */
const plantedValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'x'.repeat(5_000),
    -1,
    0,
    1.5,
    1e12 + 1,
    null,
    true,
    [],
    {},
    'NONE',
    'CLOSE',
    'UNLOCK',
    ...PROTOTYPE_NAMES,
  ),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
/** Number literals JSON.stringify never writes. */
const ODD_NUMBERS = ['1e309', '-1e309', '-0', '1e-400', '0.1e1', '9007199254740993', '1E2', '1e21', '-0.0'];
const PLANTED_KEYS = [
  ...PROTOTYPE_NAMES,
  '',
  'x',
  'requestId',
  'type',
  'attributes',
  'caseId',
  'principal',
  'actor',
  'reviewer',
];

interface Mutation {
  op: 'keep' | 'set' | 'delete' | 'add' | 'wrap' | 'number';
  at: number;
  key: string;
  value: unknown;
  number: string;
}
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('keep', 'keep', 'set', 'set', 'delete', 'add', 'wrap', 'number'),
  at: fc.nat(),
  key: fc.constantFrom(...PLANTED_KEYS),
  value: plantedValue,
  number: fc.constantFrom(...ODD_NUMBERS),
});

const NUMBER_MARK = '@@number@@';

/** Every path to a value inside a JSON value (the root included). */
function pathsOf(v: unknown, prefix: string[] = []): string[][] {
  const out = [prefix];
  if (v !== null && typeof v === 'object')
    for (const k of Object.keys(v)) out.push(...pathsOf((v as Record<string, unknown>)[k], [...prefix, k]));
  return out;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, so "__proto__" becomes an own key that JSON.stringify writes.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The body's JSON text after one mutation. */
function mutated(body: unknown, m: Mutation): string {
  if (m.op === 'keep') return JSON.stringify(body);
  if (m.op === 'wrap') return JSON.stringify(m.at % 2 ? [body] : { body });
  const copy = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  const paths = pathsOf(copy);
  const path = paths[m.at % paths.length]!;
  const parent = path
    .slice(0, -1)
    .reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, copy);
  const last = path[path.length - 1];
  const value = m.op === 'number' ? NUMBER_MARK : m.value;
  let root: unknown = copy;
  if (m.op === 'add') {
    const objects = paths
      .map((p) => p.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], copy))
      .filter((o): o is Record<string, unknown> => o !== null && typeof o === 'object' && !Array.isArray(o));
    if (objects.length) setOwn(objects[m.at % objects.length]!, m.key, value);
  } else if (last === undefined) root = m.op === 'delete' ? undefined : value;
  else if (m.op === 'delete') delete parent[last];
  else setOwn(parent, last, value);
  const out = JSON.stringify(root) ?? '';
  return out.replace(`"${NUMBER_MARK}"`, m.number);
}

function safeStringify(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

const MALFORMED = [
  '',
  ' ',
  '{',
  '}',
  '{"a":',
  '{"a":1',
  '[1,]',
  '{"a":1,}',
  "{'a':1}",
  'nul',
  'undefined',
  'NaN',
  '"str"',
  '1',
  'true',
  'null',
  '[]',
  '\ufeff{}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":1}{"b":2}',
  '\u0000',
  `${'['.repeat(30_000)}${']'.repeat(30_000)}`,
  `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
  `{"statement":"${'x'.repeat(70_000)}","requestId":"big"}`,
];

function bodyArb(key: string): fc.Arbitrary<string | undefined> {
  const valid = VALID_BODIES[key] ?? fc.constant({});
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 10, arbitrary: fc.tuple(valid, mutationArb).map(([b, m]) => mutated(b, m)) },
    { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.anything().map(safeStringify) },
    { weight: 2, arbitrary: fc.constantFrom(...MALFORMED) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme' }) },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.nat()).map(([b, n]) => {
        const t = JSON.stringify(b);
        return t.slice(0, n % t.length);
      }),
    },
  );
}

interface Probe {
  route: string;
  /** Whether the target needs no token (a path the API does not have may answer 404 to anyone). */
  public: boolean;
  request: RawRequest;
  authenticated: boolean;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Random requests for the routes of the table; `ids` are real case and account IDs to aim at too. */
function probeArb(ids: string[]): fc.Arbitrary<Probe> {
  const segment = fc.oneof(
    { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}\.[0-9a-f]{12}$/) },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/) },
    { weight: 2, arbitrary: fc.constantFrom(...ids) },
    { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_SEGMENTS) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map(encodeURIComponent) },
  );
  return fc.constantFrom(...TARGETS).chain((r) => {
    const names = r.path.match(/:[A-Za-z]+/g) ?? [];
    return fc
      .record({
        method: fc.oneof(
          { weight: 7, arbitrary: fc.constant(r.method.toUpperCase()) },
          { weight: 2, arbitrary: fc.constantFrom(...METHODS) },
        ),
        values: fc.tuple(...names.map(() => segment)),
        suffix: fc.oneof(
          { weight: 12, arbitrary: fc.constant('') },
          { weight: 1, arbitrary: fc.constantFrom('/', '//', '/x', '.json', '%2F', '/..', '/.') },
        ),
        query: fc.oneof(
          { weight: r.query ? 2 : 6, arbitrary: fc.constant('') },
          { weight: 1, arbitrary: queryArb },
        ),
        auth: authArb,
        body: bodyArb(routeKey(r)),
        encoding: fc.oneof(
          { weight: 30, arbitrary: fc.constant(undefined) },
          {
            weight: 1,
            arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip'),
          },
        ),
        contentType: fc.oneof(
          { weight: 8, arbitrary: fc.constant('application/json') },
          { weight: 1, arbitrary: fc.constant(undefined) },
          { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        ),
      })
      .map(({ method, values, suffix, query, auth, body, encoding, contentType }) => {
        let i = 0;
        const path = r.path.replace(/:[A-Za-z]+/g, () => values[i++]!) + suffix + query;
        const headers: Record<string, string> = {};
        if (auth !== undefined) headers.authorization = auth;
        if (body !== undefined && contentType !== undefined) headers['content-type'] = contentType;
        if (body !== undefined && encoding !== undefined) headers['content-encoding'] = encoding;
        return {
          route: routeKey(r),
          public: r.roles === 'public' || !TABLE.some((t) => t.path === r.path),
          request: { method, path, headers, ...(body !== undefined ? { body } : {}) },
          authenticated: authenticates(auth),
        };
      });
  });
}

function whereOf(p: Probe, reply: Reply): string {
  return `${p.request.method} ${p.request.path.slice(0, 300)} (${p.route}) → ${describeReply(reply)}`;
}

/**
 * Every answer, whatever was asked: never a 5xx, no success without a valid token, errors as
 * application/problem+json with their status, a 405 with Allow, a 401 with WWW-Authenticate, successes as JSON.
 */
/**
 * The one 5xx a valid request may get: a bulk action's dry run reads every case its selector matches within the
 * request, and on the shared test server a selector such as `{"status": "LIMITED"}` matches the open cases of every
 * test so far; under load that read can outlast its deadline. Then, as for any read Temporal cannot serve in
 * time, 503 TEMPORAL_BUSY with Retry-After (docs/operations.md, Rolling back a misfiring rule), never a 500.
 */
function busyDryRun(p: Probe, reply: Reply): boolean {
  return (
    p.route === 'POST /v1/bulk-actions' &&
    reply.status === 503 &&
    reply.body?.code === 'TEMPORAL_BUSY' &&
    reply.headers['retry-after'] !== undefined
  );
}

function checkSafe(p: Probe, reply: Reply): void {
  const what = whereOf(p, reply);
  if (busyDryRun(p, reply)) return;
  assert.ok(reply.status >= 200 && reply.status < 500, `never a 5xx: ${what}`);
  const type = reply.headers['content-type'] ?? '';
  const publicRoute = p.public;
  if (!publicRoute && !p.authenticated && p.request.method !== 'OPTIONS')
    assert.ok(reply.status >= 400, `no success without a valid token: ${what}`);
  if (reply.status >= 400) {
    assert.match(type, /^application\/problem\+json/, `a 4xx is application/problem+json: ${what}`);
    if (reply.status === 405) assert.ok(reply.headers.allow, `a 405 has Allow: ${what}`);
    if (reply.status === 401) assert.equal(reply.headers['www-authenticate'], 'Bearer', `401: ${what}`);
    if (p.request.method === 'HEAD') return;
    assert.equal(reply.body?.status, reply.status, `the problem repeats its status: ${what}`);
    assert.equal(typeof reply.body.title, 'string', `the problem has a title: ${what}`);
  } else if (reply.status === 204) {
    assert.equal(p.request.method, 'OPTIONS', `only OPTIONS answers 204: ${what}`);
    assert.ok(reply.headers.allow, `a 204 to OPTIONS has Allow: ${what}`);
  } else {
    // 202: accepted to run (an erasure's request or approval, a bulk action's dry run or approval): only the
    // routes whose table entry says so answer it.
    if (reply.status === 202)
      assert.equal(
        TABLE.find((r) => routeKey(r) === p.route)?.status,
        202,
        `only routes declared 202 answer it: ${what}`,
      );
    else assert.equal(reply.status, 200, what);
    assert.match(type, /^application\/json/, `a 200 is JSON: ${what}`);
    if (p.request.method !== 'HEAD') assert.ok(reply.body !== undefined, `a 200 has a body: ${what}`);
  }
}

/** Every problem has a code a client can act on; a VALIDATION_FAILED names the fields. */
function checkCoded(p: Probe, reply: Reply): void {
  if (reply.status < 400 || p.request.method === 'HEAD') return;
  const what = whereOf(p, reply);
  assert.ok(typeof reply.body?.code === 'string' && /^[A-Z_]+$/.test(reply.body.code), `a code: ${what}`);
  assert.equal(
    reply.body.type,
    `https://cordon.dev/problems/${reply.body.code.toLowerCase().replace(/_/g, '-')}`,
    `the type names the code: ${what}`,
  );
  if (reply.body.code === 'VALIDATION_FAILED') {
    assert.equal(reply.status, 400, what);
    assert.ok(Array.isArray(reply.body.errors) && reply.body.errors.length > 0, `errors listed: ${what}`);
    for (const e of reply.body.errors as { path: unknown; message: unknown }[]) {
      assert.ok(
        typeof e.path === 'string' && /^(body|params|query)(\.|$)/.test(e.path),
        `a field path: ${what}`,
      );
      assert.ok(typeof e.message === 'string' && e.message.length > 0, `a message: ${what}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Case views

type View = any;
/** Timeline entries the outbox adds on its own schedule, after the fact. */
const DELIVERY_ENTRIES = new Set(['NOTIFIED', 'WEBHOOK_SENT', 'DELIVERY_FAILED']);

/** What the case itself says: no deliveries, no delivery entries in the timeline. */
/**
 * The case's own state as an action's answer carries it: without what a read adds from Cordon's database (the
 * deliveries, each reason's stored evidence, an ended case's second-review link and window).
 */
function caseOf(view: View): View {
  const {
    deliveries: _deliveries,
    evidence: _evidence,
    secondReviewAllowedUntil: _until,
    secondReviewCaseId: _second,
    ...rest
  } = view as {
    deliveries?: unknown;
    evidence?: unknown;
    secondReviewAllowedUntil?: unknown;
    secondReviewCaseId?: unknown;
    timeline: { type: string }[];
  };
  return { ...rest, timeline: rest.timeline.filter((e) => !DELIVERY_ENTRIES.has(e.type)) };
}

// ---------------------------------------------------------------------------------------------------------
// Actions on a case

type ActionKind = 'verification' | 'appeal' | 'info' | 'claim' | 'decision' | 'approval';
interface Action {
  kind: ActionKind;
  who: Who;
  body?: Record<string, unknown>;
}

const USER_ACTIONS: ReadonlySet<ActionKind> = new Set(['verification', 'appeal', 'info']);
/** The timeline entry each action leaves when it is applied. */
const ENTRY_OF: Record<ActionKind, string> = {
  verification: 'VERIFICATION',
  appeal: 'APPEAL',
  info: 'INFO_PROVIDED',
  claim: 'CLAIM',
  decision: 'DECISION',
  approval: 'APPROVAL',
};

function mayAct(kind: ActionKind, who: Who): boolean {
  const role = WHO[who].role;
  return USER_ACTIONS.has(kind) ? role === 'backend' || role === 'admin' : role !== 'backend';
}

/** A small pool, so that request IDs collide: within one action, and across actions and principals. */
const REQUEST_IDS = ['a', 'b', '__proto__'];
const rid = fc.constantFrom(...REQUEST_IDS);
// Mostly one backend and one reviewer, so that cases get claimed and decided; the others now and then.
const userWho = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Who>('backend') },
  { weight: 1, arbitrary: fc.constantFrom<Who>('backend2', 'admin', 'r1') },
);
const reviewerWho = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Who>('r1') },
  { weight: 2, arbitrary: fc.constant<Who>('r2') },
  { weight: 1, arbitrary: fc.constantFrom<Who>('senior', 'admin', 'backend') },
);
/** Approvals mostly come from a second reviewer (the decider's own is refused: SAME_REVIEWER). */
const approverWho = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Who>('r2') },
  { weight: 2, arbitrary: fc.constant<Who>('r1') },
  { weight: 1, arbitrary: fc.constantFrom<Who>('senior', 'admin', 'backend') },
);
const someEvidence = fc.option(fc.constantFrom([], ['doc-1'], ['doc-1', 'doc-2']), { nil: undefined });
const STATEMENTS = ['It was me.', '  It was me.  ', 'Not me.', 'constructor', '\ud800 lone surrogate'];
const RATIONALES = ['Fine.', ' Fine. ', 'Documents check out.'];

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant<ActionKind>('verification'),
      who: userWho,
      body: fc.record({ method: fc.constantFrom('OTP', 'DOCUMENT'), passed: fc.boolean(), requestId: rid }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant<ActionKind>('appeal'),
      who: userWho,
      body: fc.record(
        { statement: fc.constantFrom(...STATEMENTS), evidence: someEvidence, requestId: rid },
        { requiredKeys: ['statement', 'requestId'] },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant<ActionKind>('info'),
      who: userWho,
      body: fc.record(
        { answer: fc.constantFrom(...STATEMENTS), evidence: someEvidence, requestId: rid },
        { requiredKeys: ['answer', 'requestId'] },
      ),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant<ActionKind>('claim'), who: reviewerWho }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant<ActionKind>('decision'),
      who: reviewerWho,
      body: fc
        .record({
          decision: fc.constantFrom(...DECISIONS),
          rationale: fc.constantFrom(...RATIONALES),
          requestId: rid,
        })
        .map((b) => (b.decision === 'REQUEST_INFO' ? { ...b, question: 'Which city?' } : b)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant<ActionKind>('approval'),
      who: approverWho,
      body: fc.record(
        { approve: fc.boolean(), rationale: fc.constantFrom(...RATIONALES), requestId: rid },
        { requiredKeys: ['approve', 'rationale'] },
      ),
    }),
  },
);

/**
 * What makes two requests "the same body" for idempotency: the fields the action takes, as validation leaves
 * them (free text trimmed) and with absent evidence meaning none.
 */
function sameBodyKey(a: Action): string {
  const b = a.body ?? {};
  const t = (v: unknown) => (typeof v === 'string' ? v.trim() : v);
  switch (a.kind) {
    case 'verification':
      return JSON.stringify([b.method, b.passed]);
    case 'appeal':
      return JSON.stringify([t(b.statement), b.evidence ?? []]);
    case 'info':
      return JSON.stringify([t(b.answer), b.evidence ?? []]);
    case 'decision':
      return JSON.stringify([b.decision, t(b.rationale), b.question]);
    case 'approval':
      return JSON.stringify([b.approve, t(b.rationale)]);
    case 'claim':
      return '';
  }
}

/** The identity of a request: only the same action by the same principal with the same requestId repeats. */
function requestKeyOf(a: Action): string | undefined {
  const id = a.body?.requestId;
  return typeof id === 'string' ? JSON.stringify([a.kind, WHO[a.who].id, id]) : undefined;
}

/** Cases to open for the sequences: every restrictive tier, and a lockout and a hold without verification. */
const OPENERS: [string, RiskEvent['type'], Record<string, unknown>][] = [
  ...Object.entries(EXAMPLES)
    .filter(([, [, , tier]]) => tier !== 'NONE')
    .map(([name, [type, attributes]]): [string, RiskEvent['type'], Record<string, unknown>] => [
      name,
      type,
      attributes,
    ]),
  ['regulatoryHold', 'REGULATORY_HOLD', { reference: 'REG-1' }],
];

/** CLOSE cases (confirmed fraud) more often: only they take a second approval. */
const openerArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(OPENERS.find(([name]) => name === 'fraudConfirmed')!) },
  { weight: 3, arbitrary: fc.constantFrom(...OPENERS) },
);

/**
 * Openings that bring a case into review (and on to a decision), so that short random sequences reach claims,
 * decisions, approvals and answers too. `id` is the requestId they use.
 */
function leadIns(id: string): Action[][] {
  const appeal: Action = { kind: 'appeal', who: 'backend', body: { statement: 'It was me.', requestId: id } };
  const claim: Action = { kind: 'claim', who: 'r1' };
  const decide = (decision: string): Action => ({
    kind: 'decision',
    who: 'r1',
    body: {
      decision,
      rationale: 'Fine.',
      requestId: id,
      ...(decision === 'REQUEST_INFO' ? { question: 'Which city?' } : {}),
    },
  });
  return [
    [],
    [appeal],
    [appeal, claim],
    [appeal, claim, decide('CLOSE')],
    [
      appeal,
      claim,
      decide('CLOSE'),
      { kind: 'approval', who: 'r2', body: { approve: false, rationale: 'Not yet.', requestId: id } },
    ],
    [appeal, claim, decide('REQUEST_INFO')],
    [{ kind: 'verification', who: 'backend', body: { method: 'OTP', passed: false, requestId: id } }, claim],
  ];
}

// ---------------------------------------------------------------------------------------------------------

describe('HTTP API properties', function () {
  requires('temporal');
  this.timeout(600_000);
  let api: RunningApi;
  let h: Harness;
  let workerDone: Promise<void>;
  /** What the API logged at warn and error level: the server side of a 5xx. */
  const serverLog: string[] = [];
  const started = Date.now();

  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (msg, fields) => void serverLog.push(`WARN ${msg} ${JSON.stringify(fields ?? {})}`),
    error: (msg, fields) => void serverLog.push(`ERROR ${msg} ${JSON.stringify(fields ?? {})}`),
    child: () => logger,
  };

  const call = (r: RawRequest) => send(api.url, r);
  const get = (path: string, who: Who = 'backend') => call({ method: 'GET', path, headers: bearer(who) });
  const post = (path: string, who: Who, body?: unknown) =>
    call({
      method: 'POST',
      path,
      headers: body === undefined ? bearer(who) : jsonHeaders(who),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  async function view(caseId: string): Promise<View> {
    const r = await get(`/v1/cases/${caseId}`, 'r2');
    assert.equal(r.status, 200, `GET /v1/cases/${caseId} → ${describeReply(r)}`);
    return caseOf(r.body);
  }

  async function openCase(type: RiskEvent['type'], attributes: Record<string, unknown>) {
    const account = `p3-${randomUUID().slice(0, 12)}`;
    const event = {
      eventId: `open-${randomUUID()}`,
      accountId: account,
      type,
      occurredAt: new Date().toISOString(),
      attributes,
    };
    const r = await post('/v1/risk-events', 'backend', event);
    assert.equal(r.status, 200, describeReply(r));
    assert.equal(typeof r.body.caseId, 'string', describeReply(r));
    return { account, caseId: r.body.caseId as string };
  }

  before(async function () {
    this.timeout(300_000);
    const server = await sharedDevServer();
    h = await newHarness();
    workerDone = h.worker.run();
    const config = parseConfig({
      PORT: '0',
      TEMPORAL_ADDRESS: server.address,
      CORDON_TASK_QUEUE: h.taskQueue,
      CORDON_TOKENS: `${ADMIN_TOKEN}=admin:prop-admin,${BACKEND2_TOKEN}=backend:backend-2`,
      CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
    });
    api = await startApi(config, logger, undefined, h.store);
  });

  after(async () => {
    await api?.close();
    agent.destroy();
    h?.worker.shutdown();
    await workerDone;
    console.log(`      (api properties: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && serverLog.length)
      console.log(`API log:\n${serverLog.slice(-20).join('\n')}`);
  });

  it('the generators cover every route that takes a body, and make bodies its schema accepts', () => {
    for (const r of TABLE)
      if (r.body) assert.ok(VALID_BODIES[routeKey(r)], `a valid body for ${routeKey(r)}`);
    for (const [key, arb] of Object.entries(VALID_BODIES)) {
      const schema = TABLE.find((r) => routeKey(r) === key)?.body;
      assert.ok(schema, `${key} is in the route table`);
      fc.assert(
        fc.property(arb, (body) => {
          const parsed = schema.safeParse(body);
          assert.ok(
            parsed.success,
            `${key}: ${JSON.stringify(body)} ${JSON.stringify(parsed.error?.issues)}`,
          );
        }),
        { numRuns: 200 },
      );
    }
    for (const [, type, attributes] of OPENERS)
      assert.ok(
        S.RiskEventSchema.safeParse({
          eventId: 'e',
          accountId: 'a',
          type,
          occurredAt: new Date().toISOString(),
          attributes,
        }).success,
      );
  });

  /** Random requests, a few at a time in parallel; `check` judges every answer. */
  async function randomRequests(numRuns: number, check: (p: Probe, r: Reply) => void): Promise<void> {
    // Real case and account IDs too, so that some of the random requests reach real cases.
    const fixtures = await Promise.all(
      (['fraudConfirmed', 'identityMismatch', 'impossibleTravel'] as const).map((name) => {
        const [type, attributes] = EXAMPLES[name];
        return openCase(type, attributes);
      }),
    );
    const ids = fixtures.flatMap((f) => [f.caseId, f.account]);
    let requests = 0;
    const statuses = new Map<number, number>();
    const t0 = Date.now();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(probeArb(ids), { minLength: 1, maxLength: 8 }), async (probes) => {
          const replies = await Promise.all(probes.map((p) => call(p.request)));
          probes.forEach((p, i) => {
            requests++;
            statuses.set(replies[i]!.status, (statuses.get(replies[i]!.status) ?? 0) + 1);
            check(p, replies[i]!);
          });
        }),
        params(numRuns),
      );
    } finally {
      console.log(
        `      ${requests} requests in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${[...statuses]
          .sort(([a], [b]) => a - b)
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')}`,
      );
    }
  }

  it('random requests on every route: never a 5xx, never a success without a token, errors as problems', () =>
    randomRequests(RUNS.requests, checkSafe));

  it('random requests on every route: every problem has a code, and a VALIDATION_FAILED names the fields', () =>
    randomRequests(RUNS.problems, (p, r) => {
      checkSafe(p, r);
      checkCoded(p, r);
    }));

  it('valid random risk events: a 200 restricts and opens or enters a case, and a repeat changes nothing', async () => {
    /** Accounts shared by runs (names on Object.prototype): the first answer to each of their event IDs. */
    const answered = new Map<string, unknown>();
    const SHARED_ACCOUNTS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype'];
    const accountArb = fc.oneof(
      { weight: 4, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: fc.constantFrom(...SHARED_ACCOUNTS) },
    );
    let posted = 0;
    const t0 = Date.now();
    await fc.assert(
      fc.asyncProperty(riskEventArb(accountArb), riskEventArb(fc.constant('')), async (generated, other) => {
        // A fresh account per run unless a shared one was drawn.
        const accountId = generated.accountId || `p2-${randomUUID().slice(0, 12)}`;
        const event = { ...generated, accountId };
        const trail = `event ${JSON.stringify(event)}`;

        const simulated = await post('/v1/simulate', 'senior', event);
        assert.equal(simulated.status, 200, `simulate: ${describeReply(simulated)}; ${trail}`);
        const before = await get(`/v1/accounts/${accountId}/restriction`);
        assert.equal(before.status, 200, `restriction: ${describeReply(before)}`);
        const caseBefore = before.body.caseId ? await view(before.body.caseId) : null;

        const first = await post('/v1/risk-events', 'backend', event);
        posted++;
        assert.equal(first.status, 200, `report: ${describeReply(first)}; ${trail}`);
        assert.equal(first.body.eventId, event.eventId, trail);
        assert.equal(first.body.accountId, accountId, trail);
        const seenKey = JSON.stringify([accountId, event.eventId]);
        const prior = answered.get(seenKey);
        if (prior) {
          assert.deepEqual(first.body, { ...prior, duplicate: true }, `a seen event ID: ${trail}`);
        } else {
          answered.set(seenKey, first.body);
          assert.equal(first.body.duplicate, false, trail);
          const decision = first.body.decision as { tier: Tier; score: number; reasons: { code: string }[] };
          assert.equal(decision.tier, simulated.body.decision.tier, `simulate and report agree: ${trail}`);
          assert.equal(decision.score, simulated.body.decision.score, trail);
          assert.deepEqual(decision.reasons, simulated.body.decision.reasons, trail);

          const restriction = await get(`/v1/accounts/${accountId}/restriction`);
          assert.equal(restriction.status, 200, describeReply(restriction));
          if (decision.tier === 'NONE' && !caseBefore) {
            assert.equal(first.body.caseId, null, trail);
            assert.equal(first.body.status, 'NO_ACTION', trail);
            assert.equal(restriction.body.restricted, false, trail);
            assert.equal(restriction.body.caseId, null, trail);
          } else {
            assert.equal(typeof first.body.caseId, 'string', `a case: ${describeReply(first)}; ${trail}`);
            if (caseBefore)
              assert.equal(first.body.caseId, caseBefore.caseId, `enters the open case: ${trail}`);
            const after = await view(first.body.caseId);
            assert.equal(after.status, first.body.status, trail);
            assert.equal(restriction.body.caseId, first.body.caseId, trail);
            if (decision.tier !== 'NONE') {
              assert.equal(
                restriction.body.restricted,
                true,
                `restricted: ${describeReply(restriction)}; ${trail}`,
              );
              assert.ok(
                tierRank(restriction.body.tier) >= tierRank(decision.tier),
                `at least as severe: ${restriction.body.tier} < ${decision.tier}; ${trail}`,
              );
            }
            // The 200 changed the case: a logged risk event, or one more counted one.
            const logged = after.timeline.some(
              (e: { type: string; eventId?: string }) =>
                e.type === 'RISK_EVENT' && e.eventId === event.eventId,
            );
            const counted =
              caseBefore !== null && after.unchangedEvents.count === caseBefore.unchangedEvents.count + 1;
            assert.ok(
              logged || counted,
              `the event left a trace in the case: ${JSON.stringify(after)}; ${trail}`,
            );
            if (!caseBefore) assert.ok(logged, `a new case logs its first event: ${trail}`);
          }
        }

        // Repeats: the same event, and another event under the same ID, get the first answer and change nothing.
        const caseId = first.body.caseId as string | null;
        const settled = caseId ? await view(caseId) : null;
        const again = await post('/v1/risk-events', 'backend', event);
        assert.equal(again.status, 200, describeReply(again));
        const expected = { ...(answered.get(seenKey) as object), duplicate: true };
        assert.deepEqual(again.body, expected, `the same event again: ${trail}`);
        const impostor = { ...other, eventId: event.eventId, accountId };
        const third = await post('/v1/risk-events', 'backend', impostor);
        assert.equal(third.status, 200, describeReply(third));
        assert.deepEqual(third.body, expected, `another event under the same ID: ${trail}`);
        if (caseId) assert.deepEqual(await view(caseId), settled, `the repeats changed the case: ${trail}`);
      }),
      params(RUNS.events),
    );
    console.log(`      ${posted} events in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('random action sequences: every 200 changes the case or repeats an answer; every 409 changes nothing', async () => {
    let actions = 0;
    const outcomes = new Map<string, number>();
    const t0 = Date.now();
    await fc.assert(
      fc.asyncProperty(
        openerArb,
        fc.constantFrom(...leadIns('a')),
        fc.array(actionArb, { minLength: 1, maxLength: 10 }),
        async ([, type, attributes], leadIn, random) => {
          const sequence = [...leadIn, ...random];
          const { account, caseId } = await openCase(type, attributes);
          /** Answered requests by identity: the body they carried and the first answer. */
          const answered = new Map<string, { body: string; reply: unknown }>();
          const trail: string[] = [`${type} ${JSON.stringify(attributes)} → ${caseId}`];
          let before = await view(caseId);
          // Every action once in order, then every request that was answered again (true repeats).
          const replays: Action[] = [];
          for (let step = 0; step < sequence.length + replays.length; step++) {
            const a = step < sequence.length ? sequence[step]! : replays[step - sequence.length]!;
            const path = `/v1/cases/${caseId}/${a.kind}`;
            const reply = await post(path, a.who, a.body);
            actions++;
            const tag = `${a.kind}:${reply.status}${reply.body?.code ? `:${reply.body.code}` : ''}`;
            outcomes.set(tag, (outcomes.get(tag) ?? 0) + 1);
            trail.push(
              `${step}. ${a.who} ${a.kind} ${JSON.stringify(a.body ?? null)} → ${reply.status} ${reply.body?.code ?? reply.body?.status ?? ''}`,
            );
            const after = await view(caseId);
            const story = () =>
              `\n${trail.join('\n')}\nbefore: ${JSON.stringify(before)}\nreply: ${reply.text.slice(0, 2000)}`;
            assert.ok(reply.status < 500, `never a 5xx${story()}`);
            if (reply.status >= 400) {
              assert.match(reply.headers['content-type'] ?? '', /^application\/problem\+json/, story());
              assert.equal(typeof reply.body.code, 'string', story());
            }

            const key = requestKeyOf(a);
            const prior = key === undefined ? undefined : answered.get(key);
            if (!mayAct(a.kind, a.who)) {
              assert.equal(reply.status, 403, `a principal without the role is refused${story()}`);
            } else if (prior && prior.body === sameBodyKey(a)) {
              assert.equal(reply.status, 200, `a repeat of an answered request is answered${story()}`);
              assert.deepEqual(reply.body, prior.reply, `a repeat gets the first answer${story()}`);
            } else if (prior) {
              assert.equal(reply.status, 409, `the same requestId with another body is refused${story()}`);
              assert.equal(reply.body.code, 'IDEMPOTENCY_KEY_REUSED', story());
            } else if (reply.status === 200) {
              const noOpClaim =
                a.kind === 'claim' &&
                before.outcome === null &&
                before.assignee === WHO[a.who].id &&
                REVIEW_STATUSES.includes(before.status as CaseStatus);
              if (noOpClaim)
                assert.deepEqual(caseOf(reply.body), before, `claiming again is a no-op${story()}`);
              else {
                // A new request answered 200 was applied: the timeline grew by the action's entry.
                assert.ok(
                  after.timeline.length > before.timeline.length,
                  `a 200 that changed nothing${story()}`,
                );
                assert.deepEqual(after.timeline.slice(0, before.timeline.length), before.timeline, story());
                const entry = after.timeline[before.timeline.length];
                assert.equal(entry.type, ENTRY_OF[a.kind], `the action's entry comes first${story()}`);
                assert.deepEqual(
                  entry.actor,
                  USER_ACTIONS.has(a.kind)
                    ? { kind: 'user', id: account }
                    : { kind: 'reviewer', id: WHO[a.who].id },
                  story(),
                );
                assert.deepEqual(caseOf(reply.body), after, `the answer is the case as it now is${story()}`);
              }
              if (key !== undefined) {
                answered.set(key, { body: sameBodyKey(a), reply: reply.body });
                replays.push(a);
              }
            } else {
              assert.equal(reply.status, 409, `a new request is applied (200) or refused (409)${story()}`);
              assert.ok(
                (REFUSAL_CODES as readonly string[]).includes(reply.body.code) &&
                  reply.body.code !== 'NO_SUCH_TIMER',
                `a refusal of the case machine${story()}`,
              );
            }
            if (reply.status !== 200 || (prior && prior.body === sameBodyKey(a)))
              assert.deepEqual(after, before, `a refusal or a repeat changed the case${story()}`);
            before = after;
          }
        },
      ),
      params(RUNS.sequences),
    );
    console.log(
      `      ${actions} actions in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${[...outcomes]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `${k}×${n}`)
        .join(' ')}`,
    );
  });
  it('concurrent bursts of actions: every 200 applied once or a repeat, a consistent history, never a 5xx', async () => {
    let actions = 0;
    const outcomes = new Map<string, number>();
    const t0 = Date.now();
    // A burst: a few actions, some of them sent twice, all at once (a retrying client, two reviewers...).
    const burstArb = fc
      .tuple(fc.array(actionArb, { minLength: 1, maxLength: 4 }), fc.nat(3))
      .map(([xs, k]) => [...xs, ...xs.slice(0, k)]);
    await fc.assert(
      fc.asyncProperty(
        openerArb,
        fc.constantFrom(...leadIns('lead-in')),
        burstArb,
        async ([, type, attributes], leadIn, burst) => {
          const { account, caseId } = await openCase(type, attributes);
          for (const a of leadIn) {
            const r = await post(`/v1/cases/${caseId}/${a.kind}`, a.who, a.body);
            assert.ok(r.status === 200 || r.status === 409, `lead-in ${a.kind}: ${describeReply(r)}`);
          }
          const before = await view(caseId);
          const replies = await Promise.all(
            burst.map((a) => post(`/v1/cases/${caseId}/${a.kind}`, a.who, a.body)),
          );
          const after = await view(caseId);
          actions += burst.length;
          const story = () =>
            `\n${type} ${JSON.stringify(attributes)} → ${caseId}, lead-in ${leadIn.map((a) => a.kind).join(', ')}\n${burst
              .map(
                (a, i) =>
                  `${a.who} ${a.kind} ${JSON.stringify(a.body ?? null)} → ${replies[i]!.status} ${replies[i]!.body?.code ?? ''}`,
              )
              .join('\n')}\nbefore: ${JSON.stringify(before)}\nafter: ${JSON.stringify(after)}`;

          const CODES = new Set<string>([
            ...REFUSAL_CODES.filter((c) => c !== 'NO_SUCH_TIMER'),
            'IDEMPOTENCY_KEY_REUSED',
          ]);
          burst.forEach((a, i) => {
            const r = replies[i]!;
            const tag = `${a.kind}:${r.status}${r.body?.code ? `:${r.body.code}` : ''}`;
            outcomes.set(tag, (outcomes.get(tag) ?? 0) + 1);
            assert.ok(r.status < 500, `never a 5xx${story()}`);
            if (!mayAct(a.kind, a.who)) return assert.equal(r.status, 403, `without the role: 403${story()}`);
            assert.ok(r.status === 200 || r.status === 409, `applied (200) or refused (409)${story()}`);
            if (r.status === 409) {
              assert.match(r.headers['content-type'] ?? '', /^application\/problem\+json/, story());
              assert.ok(CODES.has(r.body.code), `a refusal of the case machine or a reused key${story()}`);
            } else {
              // Every answer is the case at some point of one history: its timeline leads to the final one.
              const answer = caseOf(r.body);
              assert.deepEqual(after.timeline.slice(0, answer.timeline.length), answer.timeline, story());
            }
          });

          // Requests of one identity: answered with one body at most, and then all with the same answer.
          const byKey = new Map<string, number[]>();
          burst.forEach((a, i) => {
            const key = requestKeyOf(a);
            if (key !== undefined && mayAct(a.kind, a.who)) byKey.set(key, [...(byKey.get(key) ?? []), i]);
          });
          const expected = new Map<string, number>();
          const expect = (kind: ActionKind) =>
            expected.set(ENTRY_OF[kind], (expected.get(ENTRY_OF[kind]) ?? 0) + 1);
          for (const indexes of byKey.values()) {
            const ok = indexes.filter((i) => replies[i]!.status === 200);
            const bodies = new Set(ok.map((i) => sameBodyKey(burst[i]!)));
            assert.ok(bodies.size <= 1, `one identity, two bodies applied${story()}`);
            for (const i of ok)
              assert.deepEqual(replies[i]!.body, replies[ok[0]!]!.body, `repeats answer alike${story()}`);
            for (const i of indexes)
              if (replies[i]!.body?.code === 'IDEMPOTENCY_KEY_REUSED')
                assert.ok(
                  bodies.size === 1 && !bodies.has(sameBodyKey(burst[i]!)),
                  `IDEMPOTENCY_KEY_REUSED only when another body was applied${story()}`,
                );
            if (ok.length) expect(burst[ok[0]!]!.kind);
          }
          // Approvals without a requestId each count. Claims carry no request ID: how many CLAIM entries they
          // leave depends on the order the case applied them in (a reviewer's second claim is a repeat if they
          // still hold the case, a takeover back if another reviewer's claim came between), checked below.
          const claimed = new Set<string>();
          let claimsAnswered = 0;
          burst.forEach((a, i) => {
            if (replies[i]!.status !== 200) return;
            if (a.kind === 'approval' && requestKeyOf(a) === undefined) expect('approval');
            if (a.kind === 'claim') {
              claimsAnswered++;
              if (WHO[a.who].id !== before.assignee) claimed.add(WHO[a.who].id);
            }
          });

          // The case grew by exactly the entries of the requests answered 200 as applied, nothing else changed.
          assert.deepEqual(
            after.timeline.slice(0, before.timeline.length),
            before.timeline,
            `history kept${story()}`,
          );
          const added = after.timeline.slice(before.timeline.length) as { type: string; actor: unknown }[];
          // Each CLAIM entry moves the case to another reviewer (never one who holds it already), every
          // reviewer answered 200 who did not hold it has one, and there is no more of them than claims answered.
          const claimEntries = added.filter((e) => e.type === 'CLAIM') as { actor: { id: string } }[];
          let holder = before.assignee;
          for (const e of claimEntries) {
            assert.notEqual(
              e.actor.id,
              holder,
              `a claim by the reviewer who holds the case is a repeat${story()}`,
            );
            holder = e.actor.id;
          }
          for (const id of claimed)
            assert.ok(
              claimEntries.some((e) => e.actor.id === id),
              `${id}'s claim answered 200 left an entry${story()}`,
            );
          assert.ok(
            claimEntries.length <= claimsAnswered,
            `no CLAIM entry without a claim answered 200${story()}`,
          );
          if (claimEntries.length)
            assert.equal(after.assignee, holder, `the last claim holds the case${story()}`);
          for (const entryType of Object.values(ENTRY_OF).filter((t) => t !== 'CLAIM'))
            assert.equal(
              added.filter((e) => e.type === entryType).length,
              expected.get(entryType) ?? 0,
              `${entryType} entries, one per applied request${story()}`,
            );
          for (const e of added)
            if (
              USER_ACTIONS.has((Object.keys(ENTRY_OF) as ActionKind[]).find((k) => ENTRY_OF[k] === e.type)!)
            )
              assert.deepEqual(e.actor, { kind: 'user', id: account }, story());
          if (!replies.some((r) => r.status === 200))
            assert.deepEqual(after, before, `nothing applied, nothing changed${story()}`);
        },
      ),
      params(RUNS.bursts),
    );
    console.log(
      `      ${actions} concurrent actions in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${[...outcomes]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `${k}×${n}`)
        .join(' ')}`,
    );
  });
});
