// Feature windows against the naive reference (test/helpers/feature-reference.ts): any declared features, any
// events in any order (ties, retries, late and too-late events, events without the feature's key), each
// recorded and then read as the decision path does. Every outcome and every value must be equal, and the state
// must not keep keys the clock has left behind.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FeaturesSchema, type Features } from '../core/features';
import { FeatureWindows } from '../core/feature-windows';
import { ReferenceWindows } from './helpers/feature-reference';

const seed = process.env.CORDON_PROPERTY_SEED ? Number(process.env.CORDON_PROPERTY_SEED) : undefined;
const BASE = Date.parse('2026-10-01T00:00:00Z');

const windowMs = fc.constantFrom(500, 1000, 1500, 2500, 5000);
const types = fc.constantFrom(undefined, ['LOGIN_FAILED'], ['TRANSFER_ATTEMPT'], ['LOGIN_FAILED', 'LOGIN']);
const spec = fc.oneof(
  fc.record({
    aggregate: fc.constant('count' as const),
    eventTypes: types,
    by: fc.constantFrom('account', 'entity:device', 'entity:ip'),
    window: windowMs,
  }),
  fc.record({
    aggregate: fc.constant('sum' as const),
    eventTypes: fc.constant(['TRANSFER_ATTEMPT']),
    field: fc.constant('amount'),
    by: fc.constantFrom('account', 'entity:device'),
    window: windowMs,
  }),
  fc.record({
    aggregate: fc.constant('distinct' as const),
    eventTypes: types,
    field: fc.constantFrom('account', 'entity:device', 'entity:payee'),
    by: fc.constantFrom('account', 'entity:device', 'entity:ip'),
    window: windowMs,
  }),
);
const features = fc.array(spec, { minLength: 1, maxLength: 4 }).map((specs) => {
  const out: Record<string, unknown> = {};
  specs.forEach((s, i) => {
    const { eventTypes, window, ...rest } = s;
    // distinct X by X is refused by the schema: count devices per account instead.
    const fixed = 'field' in rest && rest.field === rest.by ? { ...rest, by: 'account' } : rest;
    if (fixed.aggregate === 'distinct' && fixed.field === 'account' && fixed.by === 'account')
      fixed.by = 'entity:ip';
    out[`f${i}`] = { ...fixed, ...(eventTypes ? { eventTypes } : {}), window: `${window}ms` };
  });
  return FeaturesSchema.parse(out);
});

const event = fc.record({
  id: fc.integer({ min: 0, max: 150 }),
  account: fc.constantFrom('a1', 'a2', 'a3'),
  // Times on a 250 ms grid over 20 s, so events sit exactly on window edges often, or a millisecond off it (so
  // a bucket at a window's edge holds events on both sides of it).
  at: fc
    .tuple(fc.integer({ min: 0, max: 80 }), fc.constantFrom(0, 0, 0, 1, 249))
    .map(([k, d]) => k * 250 + d),
  type: fc.constantFrom('LOGIN_FAILED', 'LOGIN', 'TRANSFER_ATTEMPT'),
  amount: fc.oneof(
    fc.integer({ min: 0, max: 5000 }),
    fc.integer({ min: 0, max: 10_000 }).map((c) => c / 100),
  ),
  device: fc.option(fc.constantFrom('d1', 'd2', 'd3'), { nil: undefined }),
  ip: fc.option(fc.constantFrom('i1', 'i2'), { nil: undefined }),
  payee: fc.option(fc.constantFrom('p1', 'p2', 'p3', 'p4'), { nil: undefined }),
});

type Arb = typeof event extends fc.Arbitrary<infer T> ? T : never;
const toEvent = (x: Arb) => ({
  eventId: `e${x.id}`,
  accountId: x.account,
  type: x.type,
  occurredAt: new Date(BASE + x.at).toISOString(),
  attributes:
    x.type === 'TRANSFER_ATTEMPT'
      ? { toNewPayee: false, amount: x.amount }
      : x.type === 'LOGIN'
        ? { newDevice: true }
        : { consecutiveFailures: 1 },
  entities: {
    ...(x.device ? { device: x.device } : {}),
    ...(x.ip ? { ip: x.ip } : {}),
    ...(x.payee ? { payee: x.payee } : {}),
  },
});

describe('feature windows: property against the naive reference', () => {
  it('features-property: every outcome and value equals a full rescan, in any order, with retries and late events', () => {
    fc.assert(
      fc.property(
        features,
        fc.array(event, { minLength: 1, maxLength: 120 }),
        fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
        // Mostly in time order (as a file usually is) or in any order.
        fc.boolean(),
        (f: Features, drawn, late, retry, ordered) => {
          const xs = ordered ? [...drawn].sort((a, b) => a.at - b.at) : drawn;
          const o = {
            ...(late === undefined ? {} : { lateToleranceMs: late }),
            ...(retry === undefined ? {} : { retryMemoryMs: retry }),
          };
          const store = new FeatureWindows(f, o);
          const ref = new ReferenceWindows(f, o);
          xs.forEach((x, i) => {
            const e = toEvent(x);
            assert.equal(store.record(e), ref.record(e), `outcome of event ${i}`);
            assert.deepEqual(store.valuesFor(e), ref.valuesFor(e), `values at event ${i}`);
          });
        },
      ),
      { numRuns: 300, ...(seed !== undefined ? { seed } : {}) },
    );
  });

  it('features-expiry: keys the clock has left behind are dropped by themselves', () => {
    const store = new FeatureWindows(
      FeaturesSchema.parse({ n: { aggregate: 'count', by: 'entity:device', window: '10s' } }),
      { lateToleranceMs: 0 },
    );
    for (let i = 0; i < 1000; i++)
      store.record({
        eventId: `e${i}`,
        accountId: `a${i}`,
        type: 'LOGIN',
        occurredAt: new Date(BASE + i * 1000).toISOString(),
        attributes: { newDevice: false },
        entities: { device: `d${i}` },
      });
    // One device per second and a 10 s window: only the last ten or so devices can still be read.
    assert.ok(store.activeKeys <= 12, `${store.activeKeys} keys kept`);
    assert.ok(store.activeKeys >= 10, `${store.activeKeys} keys kept`);
  });
});
