// `cordon simulate EVENT.json [--policy FILE]` and `npm run simulate -- '<event JSON>'`: scores one event
// with the live scorer (activities/scorer.ts, as the API's POST /v1/simulate) and prints the decision.
import { createScorer } from '../activities/scorer';
import { RiskEventSchema } from '../core/events';
import type { LoadedPolicy } from '../core/policy';

export interface SimulateResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Scores the event in `text` (JSON) under the policy: the decision as printed, or its problems (exit 2). */
export async function simulate(text: string, policy: LoadedPolicy): Promise<SimulateResult> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { exitCode: 2, stdout: '', stderr: `(event): not JSON: ${(err as Error).message}\n` };
  }
  const parsed = RiskEventSchema.safeParse(raw);
  if (!parsed.success)
    return {
      exitCode: 2,
      stdout: '',
      stderr: parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}\n`).join(''),
    };
  const { decision } = await createScorer(policy).score(parsed.data);
  return { exitCode: 0, stdout: `${JSON.stringify({ decision }, null, 2)}\n`, stderr: '' };
}
