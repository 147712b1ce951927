// `npm run simulate -- '<event JSON>'` (or the event on stdin): scores one event with the policy file
// (CORDON_POLICY_FILE, default policy/default.json) and prints the decision. Touches nothing.
import { readFileSync } from 'node:fs';
import { createScorer } from '../activities/scorer';
import { RiskEventSchema } from '../core/events';
import { parseConfig } from '../infra/config';
import { loadPolicy } from '../infra/policy-loader';

async function main(): Promise<void> {
  const text = process.argv[2] ?? readFileSync(0, 'utf8');
  const parsed = RiskEventSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      process.stderr.write(`${issue.path.join('.') || '(event)'}: ${issue.message}\n`);
    process.exit(2);
  }
  const { decision } = await createScorer(loadPolicy(parseConfig().policyFile)).score(parsed.data);
  process.stdout.write(`${JSON.stringify({ decision }, null, 2)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
