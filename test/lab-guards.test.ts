// When a policy's guards would trip over a file (lab/guard-trips.ts): the same thresholds as the live path
// (core/guards.ts), by the events' own time, once per rule, checked against a direct count of the matches.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Decision } from '../core/model';
import { PolicySchema } from '../core/policy';
import { GuardTrips } from '../lab/guard-trips';
import { defaultPolicy } from './helpers/deps';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');

function policy(guard: Record<string, unknown>) {
  const raw = JSON.parse(JSON.stringify(defaultPolicy().policy));
  raw.rules.find((r: { id: string }) => r.id === 'identity-mismatch').guard = guard;
  return PolicySchema.parse(raw);
}
const decision = (tier: Decision['tier'], ruleId = 'identity-mismatch'): Decision => ({
  tier,
  score: 50,
  reasons: [{ code: 'IDENTITY_MISMATCH', contribution: 50, ruleId }],
  policyVersion: 'v',
  policyHash: 'h',
  lockout: false,
  verificationAllowed: true,
  unavailableSources: [],
});

describe('the lab: when guards would trip (lab/guard-trips.ts)', () => {
  it('trips past the hourly cap at the match that crosses it, once; harmless decisions and other rules do not count', () => {
    const g = new GuardTrips(policy({ maxPerHour: 3 }));
    const at = (m: number) => new Date(T0 + m * 60_000).toISOString();
    g.observe(decision('FREEZE'), at(0));
    g.observe(decision('NONE'), at(1));
    g.observe(decision('FREEZE', 'other-rule'), at(2));
    g.observe(decision('FREEZE'), at(3));
    g.observe(decision('FREEZE'), at(61)); // the first has left the hour: 2 in (1, 61]
    assert.deepEqual(g.trips(), []);
    g.observe(decision('FREEZE'), at(62));
    g.observe(decision('FREEZE'), at(63)); // (3, 63]: 61, 62, 63, not past 3
    assert.deepEqual(g.trips(), []);
    g.observe(decision('FREEZE'), at(64));
    assert.deepEqual(g.trips(), [
      {
        ruleId: 'identity-mismatch',
        at: at(64),
        cause: 'MAX_PER_HOUR',
        hourCount: 4,
        baselinePerHour: 10,
        onTrip: 'alert',
      },
    ]);
    g.observe(decision('FREEZE'), at(65));
    assert.equal(g.trips().length, 1, 'once per rule');
  });

  it('property: the trip is at the first match whose hour (or baseline multiple) a direct count finds crossed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10 * 24 * 60 }), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom(undefined, 2, 3),
        (minutes, cap, times) => {
          const sorted = [...minutes].sort((a, b) => a - b).map((m) => T0 + m * 60_000);
          const guard = { maxPerHour: cap, ...(times ? { maxTimesBaseline: times } : {}) };
          const g = new GuardTrips(policy(guard));
          for (const t of sorted) g.observe(decision('FREEZE'), new Date(t).toISOString());
          let expected: number | undefined;
          for (let i = 0; i < sorted.length && expected === undefined; i++) {
            const t = sorted[i]!;
            const upTo = sorted.slice(0, i + 1);
            const hour = upTo.filter((x) => x > t - HOUR && x <= t).length;
            const trailing = upTo.filter((x) => x > t - HOUR - 168 * HOUR && x <= t - HOUR).length;
            const baseline = Math.max(trailing / 168, 10);
            if (hour > cap || (times !== undefined && hour > times * baseline)) expected = t;
          }
          const trips = g.trips();
          if (expected === undefined) assert.deepEqual(trips, []);
          else assert.equal(trips[0]?.at, new Date(expected).toISOString());
        },
      ),
    );
  });
});
