// What an account holder can still do under a restriction: a fixed catalogue of capabilities, each tier's
// defaults, and the policy's overrides (`tiers.<TIER>.capabilities`, the capabilities the tier allows). The
// single source of truth: the gateway receives them with every restriction read (GET
// /v1/accounts/{id}/restriction), and the user's pages and mails say only what it says, so nothing tells the
// user about a limit nobody enforces. Pure data, no zod.
import type { CaseStatus, Locale, RestrictiveTier, Tier } from './model';

export const CAPABILITIES = [
  'SIGN_IN',
  'VIEW_STATEMENTS',
  'REPAY',
  'DEPOSIT',
  'CHANGE_DETAILS',
  'TRANSFER_OUT',
  'WITHDRAW',
  'BORROW',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** What each capability lets the account holder do, in their words. */
export const CAPABILITY_TEXTS: Record<Capability, Record<Locale, string>> = {
  SIGN_IN: { en: 'Sign in to your account', 'zh-CN': '登录您的账户' },
  VIEW_STATEMENTS: {
    en: 'See your balance, statements and history',
    'zh-CN': '查看余额、账单和交易记录',
  },
  REPAY: { en: 'Repay what you owe', 'zh-CN': '偿还欠款' },
  DEPOSIT: { en: 'Pay money into your account', 'zh-CN': '向账户存入资金' },
  CHANGE_DETAILS: {
    en: 'Change your contact and security details',
    'zh-CN': '修改联系方式和安全设置',
  },
  TRANSFER_OUT: { en: 'Send money to other people', 'zh-CN': '向他人转账' },
  WITHDRAW: { en: 'Withdraw money to your bank card', 'zh-CN': '提现到银行卡' },
  BORROW: { en: 'Borrow or use your credit line', 'zh-CN': '借款或使用信用额度' },
};

/**
 * What each tier allows when the policy says nothing. Repaying works under every tier (blocking it would only
 * add late fees); a closed account also lets its holder sign in and read their statements.
 */
export const DEFAULT_ALLOWED: Record<RestrictiveTier, readonly Capability[]> = {
  STEP_UP: ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY', 'DEPOSIT', 'BORROW'],
  LIMIT: ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY', 'DEPOSIT', 'CHANGE_DETAILS', 'TRANSFER_OUT', 'WITHDRAW'],
  PROTECT: ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY', 'DEPOSIT'],
  FREEZE: ['REPAY'],
  CLOSE: ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY'],
};

/** The policy's tiers as far as capabilities go (structurally: core/policy.ts's parsed tiers fit). */
export type CapabilityTiers = Partial<Record<RestrictiveTier, { capabilities?: readonly Capability[] }>>;

export interface Capabilities {
  /** What still works, in the catalogue's order. */
  allowed: Capability[];
  /** What does not, in the catalogue's order. */
  blocked: Capability[];
}

/**
 * The capabilities of an account: everything when it is not restricted; else its tier's (the policy's list, or
 * the default); a closed account has the CLOSE tier's whatever tier its case had.
 */
export function capabilitiesOf(
  r: { restricted: boolean; tier: Tier; status?: CaseStatus | null },
  tiers: CapabilityTiers = {},
): Capabilities {
  if (!r.restricted || r.tier === 'NONE') return { allowed: [...CAPABILITIES], blocked: [] };
  const tier: RestrictiveTier = r.status === 'CLOSED' ? 'CLOSE' : r.tier;
  const allowed = new Set(tiers[tier]?.capabilities ?? DEFAULT_ALLOWED[tier]);
  return {
    allowed: CAPABILITIES.filter((c) => allowed.has(c)),
    blocked: CAPABILITIES.filter((c) => !allowed.has(c)),
  };
}
