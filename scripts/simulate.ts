// `npm run simulate -- '<event JSON>'` (or the event on stdin): scores one event with the policy file
// (CORDON_POLICY_FILE, default policy/default.json) and prints the decision. Touches nothing. The same code
// as `npx cordon simulate EVENT.json` (cli/simulate.ts).
import { readFileSync } from 'node:fs';
import { simulate } from '../cli/simulate';
import { parseConfig } from '../infra/config';
import { loadPolicy } from '../infra/policy-loader';

async function main(): Promise<void> {
  const text = process.argv[2] ?? readFileSync(0, 'utf8');
  const result = await simulate(text, loadPolicy(parseConfig().policyFile));
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
