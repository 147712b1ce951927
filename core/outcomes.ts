// The outcome codes: why a case ended as it did, in words the account holder reads with the decision. A reason
// code (core/reasons.ts) says why a case was opened ("could not be confirmed"); it is the wrong opening for an
// unlock. Each outcome code fits the outcomes it can explain: an unlock code cannot explain a closure.
// Reason codes were the explanation's codes before 0.5: still accepted for that release (deprecated), and cases
// that hold one still render. Pure data, no zod: the pages, the mail and the workflow's notices read it.
import { REASON_CODES, type Locale, type Outcome, type ReasonCode, type ReviewDecision } from './model';
import { REASONS } from './reasons';

export const OUTCOME_CODES = [
  'IDENTITY_CONFIRMED',
  'ACTIVITY_EXPLAINED',
  'EVIDENCE_ACCEPTED',
  'RESTRICTED_IN_ERROR',
  'RISK_CONFIRMED',
  'INSUFFICIENT_EVIDENCE',
  'NO_RESPONSE',
  'POLICY_BREACH',
  'FRAUD_CONFIRMED',
  'LEGAL_REQUIREMENT',
] as const;
export type OutcomeCode = (typeof OUTCOME_CODES)[number];

export interface OutcomeText {
  /** The outcomes this code can explain. */
  fits: readonly Outcome[];
  /** What the account holder reads first under "What the reviewer says" (positive for a restore). */
  user: Record<Locale, string>;
  /** The reviewer's short name for it in the console's decision form. */
  label: Record<Locale, string>;
}

const ENDED_AGAINST: readonly Outcome[] = ['UPHELD', 'CLOSED'];

export const OUTCOME_TEXTS: Record<OutcomeCode, OutcomeText> = {
  IDENTITY_CONFIRMED: {
    fits: ['RESTORED'],
    user: { en: 'We have confirmed your identity.', 'zh-CN': '我们已核实您的身份。' },
    label: { en: 'Identity confirmed', 'zh-CN': '身份已核实' },
  },
  ACTIVITY_EXPLAINED: {
    fits: ['RESTORED'],
    user: {
      en: 'We have checked the activity on your account and it is explained.',
      'zh-CN': '我们已核查您账户的相关操作，情况已得到说明。',
    },
    label: { en: 'Activity explained', 'zh-CN': '操作已得到说明' },
  },
  EVIDENCE_ACCEPTED: {
    fits: ['RESTORED'],
    user: {
      en: 'We have accepted the information and documents you sent us.',
      'zh-CN': '我们已采纳您提供的信息和材料。',
    },
    label: { en: 'Evidence accepted', 'zh-CN': '材料已采纳' },
  },
  RESTRICTED_IN_ERROR: {
    fits: ['RESTORED'],
    user: {
      en: 'We have corrected our mistake: the restriction has been lifted.',
      'zh-CN': '我们已纠正了自己的差错，限制已解除。',
    },
    label: { en: 'Restricted in error', 'zh-CN': '误加限制' },
  },
  RISK_CONFIRMED: {
    fits: ENDED_AGAINST,
    user: {
      en: 'After review, the risk that led to the restriction is still there.',
      'zh-CN': '经审核，导致限制的风险依然存在。',
    },
    label: { en: 'Risk confirmed', 'zh-CN': '风险已确认' },
  },
  INSUFFICIENT_EVIDENCE: {
    fits: ENDED_AGAINST,
    user: {
      en: 'The information we have is not enough to lift the restriction.',
      'zh-CN': '目前掌握的信息不足以解除限制。',
    },
    label: { en: 'Not enough evidence', 'zh-CN': '证据不足' },
  },
  NO_RESPONSE: {
    fits: ENDED_AGAINST,
    user: {
      en: 'We did not receive the information we needed in time.',
      'zh-CN': '我们未能按时收到所需的信息。',
    },
    label: { en: 'No response', 'zh-CN': '未回复' },
  },
  POLICY_BREACH: {
    fits: ENDED_AGAINST,
    user: {
      en: 'The way the account was used breaks the terms of your agreement with us.',
      'zh-CN': '账户的使用方式违反了您与我们签订的协议条款。',
    },
    label: { en: 'Breach of terms', 'zh-CN': '违反协议条款' },
  },
  FRAUD_CONFIRMED: {
    fits: ENDED_AGAINST,
    user: {
      en: 'We have confirmed that the account was used for fraud.',
      'zh-CN': '我们已确认该账户被用于欺诈。',
    },
    label: { en: 'Fraud confirmed', 'zh-CN': '欺诈已确认' },
  },
  LEGAL_REQUIREMENT: {
    fits: ENDED_AGAINST,
    user: {
      en: 'A legal or regulatory requirement means the restriction must stay.',
      'zh-CN': '根据法律或监管要求，限制必须保留。',
    },
    label: { en: 'Legal requirement', 'zh-CN': '法律要求' },
  },
};

/** What a decision ends the case with (REQUEST_INFO ends nothing). */
export const DECISION_OUTCOMES: Record<Exclude<ReviewDecision, 'REQUEST_INFO'>, Outcome> = {
  UNLOCK: 'RESTORED',
  UPHOLD: 'UPHELD',
  CLOSE: 'CLOSED',
};
/** What a break-glass action ends the case with. */
export const BREAK_GLASS_OUTCOMES: Record<'LIFT' | 'CLOSE', Outcome> = { LIFT: 'RESTORED', CLOSE: 'CLOSED' };

export const isOutcomeCode = (code: unknown): code is OutcomeCode =>
  OUTCOME_CODES.includes(code as OutcomeCode);
export const isReasonCode = (code: unknown): code is ReasonCode => REASON_CODES.includes(code as ReasonCode);

/** The outcome codes that can explain an outcome, in the catalogue's order. */
export function outcomeCodesFor(outcome: Outcome): OutcomeCode[] {
  return OUTCOME_CODES.filter((c) => OUTCOME_TEXTS[c].fits.includes(outcome));
}

/**
 * The catalogue's sentence that opens an explanation, in the user's language; null when there is none to show.
 * An outcome code's own words; a (deprecated) reason code's words only where the case did not end restored:
 * on a restore, "could not be confirmed" would contradict the decision, so the reviewer's words stand alone.
 */
export function explanationLead(code: string, outcome: Outcome | null, locale: Locale): string | null {
  if (isOutcomeCode(code)) return OUTCOME_TEXTS[code].user[locale];
  if (isReasonCode(code) && outcome !== 'RESTORED') return REASONS[code].user[locale];
  return null;
}
