// Shadow mode's comparison: the live policy's decision and a candidate's on the same event (and the same
// data-source answers). A disagreement is another tier, or the same tier for other reasons.
import { tierRank, type Decision, type Tier } from '../core/model';

export interface ShadowDisagreementRecord {
  liveTier: Tier;
  candidateTier: Tier;
  /** STRICTER: the candidate picks a more severe tier; MILDER: less severe; SAME_TIER: other reasons. */
  direction: 'STRICTER' | 'MILDER' | 'SAME_TIER';
  /** Whether the candidate would restrict (tier other than NONE) where the live policy does not, or the reverse. */
  restrictionChanged: boolean;
  liveScore: number;
  candidateScore: number;
  liveVersion: string;
  candidateVersion: string;
  /** Distinct reason codes, sorted. */
  liveReasons: string[];
  candidateReasons: string[];
  /** Rules that matched under one policy only. */
  rulesOnlyLive: string[];
  rulesOnlyCandidate: string[];
}

const sortedUnique = (xs: string[]) => [...new Set(xs)].sort();

/** The disagreement between a live and a candidate decision, or null when they agree on tier and reasons. */
export function shadowCompare(live: Decision, candidate: Decision): ShadowDisagreementRecord | null {
  const liveReasons = sortedUnique(live.reasons.map((r) => r.code));
  const candidateReasons = sortedUnique(candidate.reasons.map((r) => r.code));
  if (live.tier === candidate.tier && liveReasons.join() === candidateReasons.join()) return null;
  const liveRules = new Set(live.reasons.map((r) => r.ruleId));
  const candidateRules = new Set(candidate.reasons.map((r) => r.ruleId));
  const delta = tierRank(candidate.tier) - tierRank(live.tier);
  return {
    liveTier: live.tier,
    candidateTier: candidate.tier,
    direction: delta > 0 ? 'STRICTER' : delta < 0 ? 'MILDER' : 'SAME_TIER',
    restrictionChanged: (live.tier === 'NONE') !== (candidate.tier === 'NONE'),
    liveScore: live.score,
    candidateScore: candidate.score,
    liveVersion: live.policyVersion,
    candidateVersion: candidate.policyVersion,
    liveReasons,
    candidateReasons,
    rulesOnlyLive: [...liveRules].filter((r) => !candidateRules.has(r)).sort(),
    rulesOnlyCandidate: [...candidateRules].filter((r) => !liveRules.has(r)).sort(),
  };
}
