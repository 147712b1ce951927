// A copy of the default policy with two guarded rules, shared by the guard tests (pure and over HTTP).
import { defaultPolicy } from './deps';

export function guardedPolicy() {
  const raw = JSON.parse(JSON.stringify(defaultPolicy().policy));
  raw.version = 'guarded-1';
  const rule = (id: string) => raw.rules.find((r: { id: string }) => r.id === id);
  // Identity mismatches freeze (minTier FREEZE): capped at STEP_UP once more than 3 in an hour.
  rule('identity-mismatch').guard = { maxPerHour: 3, onTrip: 'capAtStepUp' };
  // Confirmed fraud reports close: a guard may only alert.
  rule('fraud-report-confirmed').guard = { maxPerHour: 2 };
  return raw;
}
