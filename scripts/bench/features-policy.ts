// The policy of the figures with features: the policy in force (CORDON_POLICY_FILE) with what
// scripts/bench/policy-features.json adds (features and a rule reading one), written next to the bench's data.
// Built at each run, so it follows the policy in force instead of a copy that would drift from it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicy } from '../../infra/policy-loader';
import type { LoadedPolicy } from '../../core/policy';

const ADDITIONS = join(__dirname, 'policy-features.json');

/** Writes the merged policy into dir and loads it as the API will (windows checked against eventIdDays). */
export function writeFeaturesPolicy(
  basePath: string,
  dir: string,
  eventIdDays: number,
): { path: string; loaded: LoadedPolicy } {
  const base = JSON.parse(readFileSync(basePath, 'utf8')) as {
    version: string;
    rules: unknown[];
    features?: Record<string, unknown>;
  };
  const add = JSON.parse(readFileSync(ADDITIONS, 'utf8')) as {
    features: Record<string, unknown>;
    rules: unknown[];
  };
  const merged = {
    ...base,
    version: `${base.version}+bench-features`.slice(0, 64),
    features: { ...base.features, ...add.features },
    rules: [...base.rules, ...add.rules],
  };
  const path = join(dir, 'policy-features.json');
  writeFileSync(path, `${JSON.stringify(merged, null, 2)}\n`);
  return { path, loaded: loadPolicy(path, eventIdDays) };
}
