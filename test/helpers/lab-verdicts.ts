// Each event's decision as the lab's backtest makes it. `backtest` prints a report, not one line per event, so
// the lines are fed one at a time to the lab's own Backtest (lab/backtest.ts, the class cli/run-backtest.ts
// drives in one thread) and its report is read after each: the tier whose count rose, the rules whose hits rose,
// and the score as the rise of their contributions (the score is the sum of the matched rules' weights).
//
// The report holds no feature values either, so they are read through rules too: a probe policy with the same
// features whose rules each hold for one value (`feature.X eq v`, one per value the API answered) or for any
// value at all; which of them an event matched in the backtest says its value, or that it had none, or that it
// had one the API never answered.
import type { BacktestReport } from '../../lab/backtest';
import { Backtest } from '../../lab/backtest';
import type { Tier } from '../../core/model';
import type { LoadedPolicy, Policy } from '../../core/policy';
import { parsePolicy } from '../../infra/policy-loader';

export interface Verdict {
  tier: Tier;
  score: number;
  /** The IDs of the rules that matched, sorted. */
  rules: string[];
}

/** The backtest's verdict on every line (in order) under `policy`, and its report at the end. */
export function backtestVerdicts(
  lines: readonly string[],
  policy: LoadedPolicy,
): { verdicts: Verdict[]; report: BacktestReport } {
  const backtest = new Backtest({ policy });
  let before = backtest.report();
  const verdicts = lines.map((line, i) => {
    backtest.addLine(line, i + 1);
    const after = backtest.report();
    const rose = (Object.keys(after.policy.tiers) as Tier[]).filter(
      (t) => after.policy.tiers[t] !== before.policy.tiers[t],
    );
    if (rose.length !== 1 || after.policy.tiers[rose[0]!] !== before.policy.tiers[rose[0]!] + 1)
      throw new Error(`line ${i + 1}: the backtest did not decide it once (${JSON.stringify(rose)})`);
    const earlier = new Map(before.policy.rules.map((r) => [r.ruleId, r]));
    const matched = after.policy.rules.filter((r) => r.hits !== (earlier.get(r.ruleId)?.hits ?? 0));
    before = after;
    return {
      tier: rose[0]!,
      score: matched.reduce((s, r) => s + r.contribution - (earlier.get(r.ruleId)?.contribution ?? 0), 0),
      rules: matched.map((r) => r.ruleId).sort(),
    };
  });
  return { verdicts, report: before };
}

/** What a probe decodes when an event had a value the live side never answered for that feature. */
export const UNSEEN = 'a value the API never answered';

/**
 * A policy with `base`'s features and only probe rules (weight 0: every event stays NONE), for the values
 * `seen` lists per feature; `decode` turns the rules an event matched back into its feature values.
 */
export function featureProbe(
  base: Policy,
  seen: ReadonlyMap<string, ReadonlySet<number>>,
): { policy: LoadedPolicy; decode(rules: readonly string[]): Record<string, number | string> } {
  const names = Object.keys(base.features ?? {});
  const probes = new Map<string, { feature: string; value?: number }>();
  const rules: Policy['rules'] = [];
  names.forEach((feature, f) => {
    const rule = (id: string, when: Policy['rules'][number]['when']) =>
      rules.push({
        id,
        eventType: '*',
        reason: 'ABNORMAL_FUND_FLOWS',
        when,
        weight: 0,
        lockout: false,
        verificationAllowed: true,
      });
    // Any number at all: a feature the event has no key for is missing, and then no condition on it holds.
    rule(`probe-${f}-any`, [{ field: `feature.${feature}`, op: 'gte', value: Number.MIN_SAFE_INTEGER }]);
    probes.set(`probe-${f}-any`, { feature });
    [...(seen.get(feature) ?? [])].forEach((value, v) => {
      rule(`probe-${f}-${v}`, [{ field: `feature.${feature}`, op: 'eq', value }]);
      probes.set(`probe-${f}-${v}`, { feature, value });
    });
  });
  // No `linked` section: it would need a rule for LINKED_ACCOUNT_RISK, and it decides nothing here.
  const { linked: _linked, ...rest } = base;
  const policy = parsePolicy({ ...rest, version: `${base.version}-probe`, rules }, 'feature probe');
  return {
    policy,
    decode(matched) {
      const values: Record<string, number | string> = {};
      for (const id of matched) {
        const probe = probes.get(id);
        if (!probe) throw new Error(`not a probe rule: ${id}`);
        if (probe.value !== undefined) values[probe.feature] = probe.value;
        else values[probe.feature] ??= UNSEEN;
      }
      return values;
    },
  };
}
