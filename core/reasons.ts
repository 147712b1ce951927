import type { Locale, ReasonCode } from './model';

export interface ReasonText {
  /** What kind of problem, in words the account holder understands. Never thresholds or rule internals. */
  user: Record<Locale, string>;
  /** What the account holder can do about it. */
  nextStep: Record<Locale, string>;
  /** What a reviewer should look at, in the reviewer's language (the console's, not the account holder's). */
  reviewer: Record<Locale, string>;
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
    reviewer: {
      en: 'Repeated failed logins (possible credential stuffing or brute force). Check login sources and lockout history.',
      'zh-CN': '多次登录失败（可能是撞库或暴力破解）。请核查登录来源和锁定记录。',
    },
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
    reviewer: {
      en: 'Signals consistent with account takeover. Compare device, location and contact-detail changes.',
      'zh-CN': '存在账户被他人控制的迹象。请比对设备、位置及联系方式的变更。',
    },
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
    reviewer: {
      en: 'New device with an implausible location change since the previous login (impossible travel).',
      'zh-CN': '新设备登录，且与上次登录相比位置变化不合常理（不可能的行程）。',
    },
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
    reviewer: {
      en: 'An identity check did not match (see the field in the event). Compare with KYC records.',
      'zh-CN': '身份核验不一致（见事件中的字段）。请与 KYC 记录比对。',
    },
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
    reviewer: {
      en: 'Many credit inquiries or new loans from different lenders in a short period (multi-lending).',
      'zh-CN': '短期内在多家机构有大量信用查询或新增贷款（多头借贷）。',
    },
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
    reviewer: {
      en: 'Credit score dropped markedly since the last report. Review income and obligations.',
      'zh-CN': '信用评分较上次报告明显下降。请核查收入和负债情况。',
    },
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
    reviewer: {
      en: 'Unusual borrowing frequency or amount relative to the credit limit.',
      'zh-CN': '相对于授信额度，借款频率或金额异常。',
    },
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
    reviewer: {
      en: 'Transfers to new payees or amounts unusual for this account.',
      'zh-CN': '向新收款人转账，或转账金额对该账户而言异常。',
    },
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
    reviewer: {
      en: 'Overdue days reported by the credit bureau.',
      'zh-CN': '征信机构报告的逾期天数，请核对逾期记录。',
    },
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
    reviewer: {
      en: 'Transfer to a new payee during a phone call shortly after borrowing: typical authorised push payment scam.',
      'zh-CN': '借款后不久、通话期间向新收款人转账：典型的授权推送支付诈骗。',
    },
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
    reviewer: {
      en: 'Fraud report from an external source (see source and whether it was confirmed).',
      'zh-CN': '来自外部来源的欺诈举报（见来源及是否已确认）。',
    },
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
    reviewer: {
      en: 'Hold requested by a regulator or court (see reference). Verification cannot lift it.',
      'zh-CN': '监管机构或法院要求的冻结（见参考编号）。身份验证无法解除。',
    },
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
    reviewer: {
      en: 'Verification failed (see method). Repeated failures can mean someone other than the holder is trying.',
      'zh-CN': '验证未通过（见验证方式）。多次失败可能意味着非账户持有人在尝试。',
    },
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
    reviewer: {
      en: 'User actions on this case went past the rate limits (see action): possibly automated or an attacker.',
      'zh-CN': '此案件的用户操作超出频率限制（见操作类型）：可能是自动化程序或攻击者。',
    },
  },
  LINKED_ACCOUNT: {
    user: {
      en: 'Your account shares a device or payment details with an account we closed because of fraud.',
      'zh-CN': '您的账户与一个因欺诈被关闭的账户共用了设备或支付信息。',
    },
    nextStep: {
      en: 'Verify your identity, or appeal and tell us how you came to share it (a family device, a shared workplace).',
      'zh-CN': '请完成身份验证，或提交申诉并说明共用的原因（例如家庭共用设备、同一工作场所）。',
    },
    reviewer: {
      en: 'Shared an entity (see entityKind) with an account closed for fraud; which account is not shown. Judge this account on its own activity.',
      'zh-CN':
        '与一个因欺诈被关闭的账户共用了某类实体（见 entityKind）；不显示对方账户。请依据本账户自身的活动判断。',
    },
  },
};
