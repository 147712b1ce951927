import type { Locale, ReasonCode } from './model';

export interface ReasonText {
  /** What kind of problem, in words the account holder understands. Never thresholds or rule internals. */
  user: Record<Locale, string>;
  /** What the account holder can do about it. */
  nextStep: Record<Locale, string>;
  /** What a reviewer should look at. */
  reviewer: string;
}

/** The closed, documented list of reason codes with their explanations. */
export const REASONS: Record<ReasonCode, ReasonText> = {
  CREDENTIAL_BRUTE_FORCE: {
    user: {
      en: 'There were many unsuccessful sign-in attempts on your account, so we paused sign-in to protect it.',
      'zh-CN': '您的账户出现多次登录失败，为保护账户安全，我们已暂停登录。',
    },
    nextStep: {
      en: 'Wait for the pause to end, or verify your identity to restore access now. If these attempts were not you, change your password.',
      'zh-CN': '请等待暂停结束，或立即完成身份验证以恢复访问。如非本人操作，请修改密码。',
    },
    reviewer:
      'Repeated failed logins (possible credential stuffing or brute force). Check login sources and lockout history.',
  },
  ACCOUNT_TAKEOVER_SUSPECTED: {
    user: {
      en: 'We noticed activity that may mean someone else has access to your account.',
      'zh-CN': '我们发现您的账户可能被他人使用。',
    },
    nextStep: {
      en: 'Verify your identity. If you did not recognise the activity, contact us and change your password.',
      'zh-CN': '请完成身份验证。如您不认识这些操作，请联系我们并修改密码。',
    },
    reviewer:
      'Signals consistent with account takeover. Compare device, location and contact-detail changes.',
  },
  NEW_DEVICE_LOCATION_JUMP: {
    user: {
      en: 'Your account was used from a new device in an unusual place.',
      'zh-CN': '您的账户在异常地点通过新设备登录。',
    },
    nextStep: {
      en: 'Confirm it was you by completing verification; until then some sensitive operations are paused.',
      'zh-CN': '请完成验证以确认是本人操作；在此之前部分敏感操作将暂停。',
    },
    reviewer: 'New device with an implausible location change since the previous login (impossible travel).',
  },
  IDENTITY_MISMATCH: {
    user: {
      en: 'Some of the identity details on your account could not be confirmed.',
      'zh-CN': '您账户中的部分身份信息未能核实。',
    },
    nextStep: {
      en: 'Complete identity verification, or appeal and tell us more.',
      'zh-CN': '请完成身份验证，或提交申诉并补充说明。',
    },
    reviewer: 'An identity check did not match (see the field in the event). Compare with KYC records.',
  },
  MULTI_LENDER_BORROWING: {
    user: {
      en: 'Recent credit activity suggests borrowing from many lenders at once, so we adjusted your available credit.',
      'zh-CN': '近期信用记录显示您在多家机构同时借款，因此我们调整了您的可用额度。',
    },
    nextStep: {
      en: 'If this does not reflect your situation, appeal and tell us why.',
      'zh-CN': '如与实际情况不符，请提交申诉并说明原因。',
    },
    reviewer: 'Many credit inquiries or new loans from different lenders in a short period (multi-lending).',
  },
  REPAYMENT_CAPACITY_DROP: {
    user: {
      en: 'Changes in your credit report suggest your ability to repay has changed.',
      'zh-CN': '您的信用报告变化显示您的还款能力可能发生了变化。',
    },
    nextStep: {
      en: 'If your situation is different, appeal and include any supporting documents.',
      'zh-CN': '如情况不同，请提交申诉并附上证明材料。',
    },
    reviewer: 'Credit score dropped markedly since the last report. Review income and obligations.',
  },
  ABNORMAL_BORROWING_PATTERN: {
    user: {
      en: 'Recent borrowing on your account looked unusual.',
      'zh-CN': '您账户近期的借款行为存在异常。',
    },
    nextStep: {
      en: 'Verify it was you, or appeal if you think this is a mistake.',
      'zh-CN': '请验证是否为本人操作，如认为有误请提交申诉。',
    },
    reviewer: 'Unusual borrowing frequency or amount relative to the credit limit.',
  },
  ABNORMAL_FUND_FLOWS: {
    user: {
      en: 'Some money movements on your account looked unusual.',
      'zh-CN': '您账户的部分资金往来存在异常。',
    },
    nextStep: {
      en: 'Verify the payments were yours, or appeal with an explanation.',
      'zh-CN': '请确认这些付款为本人操作，或提交申诉并说明情况。',
    },
    reviewer: 'Transfers to new payees or amounts unusual for this account.',
  },
  OVERDUE_HISTORY: {
    user: {
      en: 'Your credit history shows overdue repayments.',
      'zh-CN': '您的信用记录显示存在逾期还款。',
    },
    nextStep: {
      en: 'Bring overdue amounts up to date, or appeal if the record is wrong.',
      'zh-CN': '请尽快结清逾期款项，如记录有误请提交申诉。',
    },
    reviewer: 'Overdue days reported by the credit bureau.',
  },
  SCAM_VICTIM_INDICATORS: {
    user: {
      en: 'This payment looks like ones we see in scams: we are holding it for a short time to protect you. We will never ask you to move money to a "safe account".',
      'zh-CN':
        '这笔付款与常见诈骗特征相似，为保护您的资金，我们将暂时冻结。我们绝不会要求您把钱转到“安全账户”。',
    },
    nextStep: {
      en: 'Take a moment, hang up on anyone pressing you to pay, and confirm the payment yourself once the waiting period ends.',
      'zh-CN': '请先冷静一下，挂断任何催促您付款的电话，并在等待期结束后亲自确认这笔付款。',
    },
    reviewer:
      'Transfer to a new payee during a phone call shortly after borrowing: typical authorised push payment scam.',
  },
  EXTERNAL_FRAUD_REPORT: {
    user: {
      en: 'We received a report connecting your account with fraud.',
      'zh-CN': '我们收到了与您账户相关的欺诈举报。',
    },
    nextStep: {
      en: 'If you believe this is wrong, appeal before the deadline with any evidence you have.',
      'zh-CN': '如您认为有误，请在截止日期前提交申诉并附上相关证据。',
    },
    reviewer: 'Fraud report from an external source (see source and whether it was confirmed).',
  },
  REGULATORY_HOLD: {
    user: {
      en: 'Your account is on hold because of a legal or regulatory requirement.',
      'zh-CN': '根据法律或监管要求，您的账户已被暂停。',
    },
    nextStep: {
      en: 'You can appeal; a reviewer will check the hold and tell you what is needed.',
      'zh-CN': '您可以提交申诉，审核人员将核查并告知您所需材料。',
    },
    reviewer: 'Hold requested by a regulator or court (see reference). Verification cannot lift it.',
  },
  FAILED_VERIFICATIONS: {
    user: {
      en: 'An identity verification on your account did not succeed.',
      'zh-CN': '您账户的身份验证未能通过。',
    },
    nextStep: {
      en: 'A reviewer will look at your case; you can appeal and tell us more.',
      'zh-CN': '审核人员将处理您的案件；您可以提交申诉并补充说明。',
    },
    reviewer:
      'Verification failed (see method). Repeated failures can mean someone other than the holder is trying.',
  },
  SUSPICIOUS_ACTION_BURST: {
    user: {
      en: 'We received an unusual number of requests on your case in a short time.',
      'zh-CN': '短时间内您的案件收到了异常多的请求。',
    },
    nextStep: {
      en: 'Please wait a moment before trying again. If this was not you, tell us in your appeal.',
      'zh-CN': '请稍后再试。如非本人操作，请在申诉中告知我们。',
    },
    reviewer:
      'User actions on this case went past the rate limits (see action): possibly automated or an attacker.',
  },
};
