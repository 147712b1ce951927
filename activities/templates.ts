import type { NoticeTemplate } from '../core/case-types';
import type { Locale, RestrictiveTier } from '../core/model';
import { decisionSentence } from '../core/decision-letter';
import { explanationLead } from '../core/outcomes';
import { REASONS } from '../core/reasons';
import type { UserNotice } from '../core/messages';
import { nextStepsOf, type NextStep } from '../core/user-actions';

export interface RenderedMessage {
  locale: Locale;
  subject: string;
  body: string;
}

type Text = Record<Locale, string>;

const TIER_TEXT: Record<RestrictiveTier, Text> = {
  STEP_UP: {
    en: 'Some sensitive operations need extra verification.',
    'zh-CN': '部分敏感操作需要额外验证。',
  },
  LIMIT: { en: 'Your available credit has been reduced.', 'zh-CN': '您的可用额度已被调低。' },
  PROTECT: {
    en: 'We are holding a payment to protect you.',
    'zh-CN': '为保护您的资金，我们暂时冻结了一笔付款。',
  },
  FREEZE: { en: 'Your account is temporarily frozen.', 'zh-CN': '您的账户已被临时冻结。' },
  CLOSE: { en: 'Your account is being closed.', 'zh-CN': '您的账户即将被关闭。' },
};

/** What a notice tells the user to do when no reason's advice shown says it (the case page's words, for a mail). */
export const ACTION_TEXT: Record<Exclude<NextStep, { reason: unknown }>['action'], Text> = {
  verify: { en: 'Verify your identity.', 'zh-CN': '完成身份验证。' },
  confirm: {
    en: 'If you yourself want to make the held payment, confirm it once the waiting period is over.',
    'zh-CN': '如果您本人确实想付款，请在等待期结束后确认这笔被暂停的付款。',
  },
  appeal: {
    en: 'Appeal and tell us why you think this is wrong.',
    'zh-CN': '提出申诉，并告诉我们您认为有误的原因。',
  },
  answer: {
    en: 'Answer the reviewer’s question on your case page.',
    'zh-CN': '请在案件页面回复审核人员的问题。',
  },
  addInfo: {
    en: 'If you have more to tell the reviewer, you can add it on your case page. You do not have to.',
    'zh-CN': '如您还有需要告知审核人员的内容，可在案件页面补充。这不是必需的。',
  },
  wait: { en: 'Nothing is needed from you now.', 'zh-CN': '目前无需您做任何事。' },
};

/**
 * What the user can do, one line each: only what the case accepted when the notice was built (the case page's
 * rule, core/user-actions.ts); a notice built before 0.5 carries no such facts and lists every reason's advice.
 */
export function canDoLines(n: UserNotice): string[] {
  const codes = [...new Set(n.reasonCodes)];
  if (!n.actions) return codes.map((c) => REASONS[c].nextStep[n.locale]);
  return nextStepsOf(codes, n.actions).map((s) =>
    'reason' in s ? REASONS[s.reason].nextStep[n.locale] : ACTION_TEXT[s.action][n.locale],
  );
}

const SUBJECT: Record<NoticeTemplate, Text> = {
  RESTRICTED: { en: 'Action needed on your account', 'zh-CN': '您的账户需要处理' },
  REMINDER: { en: 'Reminder: action needed on your account', 'zh-CN': '提醒：您的账户仍需处理' },
  IN_REVIEW: { en: 'Your case is being reviewed', 'zh-CN': '您的案件正在审核中' },
  INFO_REQUESTED: { en: 'We need more information', 'zh-CN': '我们需要更多信息' },
  CONFIRMATION_OPEN: { en: 'You can now confirm your payment', 'zh-CN': '您现在可以确认付款' },
  LOCKOUT_LIFTED: { en: 'You can sign in again', 'zh-CN': '您可以重新登录了' },
  OUTCOME: { en: 'The review of your account is complete', 'zh-CN': '您的账户审核已完成' },
};

const LINES: Partial<Record<NoticeTemplate, Text>> = {
  IN_REVIEW: {
    en: 'A member of our team is looking at your case. We will tell you the result.',
    'zh-CN': '我们的工作人员正在处理您的案件，结果将另行通知。',
  },
  INFO_REQUESTED: {
    en: 'A reviewer needs more information about your case. Please answer through the app.',
    'zh-CN': '审核人员需要您补充信息，请通过应用回复。',
  },
  CONFIRMATION_OPEN: {
    en: 'The waiting period is over. If you still want to make the payment, confirm it in the app.',
    'zh-CN': '等待期已结束。如仍需付款，请在应用中确认。',
  },
  LOCKOUT_LIFTED: {
    en: 'The pause on sign-in has ended. If the failed attempts were not you, change your password.',
    'zh-CN': '登录暂停已结束。如失败的登录尝试非本人操作，请修改密码。',
  },
};

const DEADLINE: Text = { en: 'Please act by', 'zh-CN': '请在以下时间前处理：' };
export const DECISION_BY: Text = { en: 'You can expect a decision by', 'zh-CN': '预计作出决定的时间：' };
const QUESTION: Text = { en: 'The question:', 'zh-CN': '需要您回答的问题：' };
const WHY: Text = { en: 'Why:', 'zh-CN': '原因：' };

/** Renders a user notice: what kind of problem, what to do next, by when. Never thresholds or rule internals. */
export function renderNotice(n: UserNotice): RenderedMessage {
  const l = n.locale;
  const lines: string[] = [];
  if (
    n.template === 'OUTCOME' &&
    (n.status === 'RESTORED' || n.status === 'CLOSED' || n.status === 'UPHELD')
  ) {
    lines.push(decisionSentence(n.status, n.letter?.decidedBy ?? null, l));
    // The reviewer's explanation: the outcome code's words (a legacy reason code's where they fit), then their own.
    if (n.explanation) {
      const lead = explanationLead(n.explanation.code, n.status, l);
      lines.push(`${WHY[l]} ${lead ? `${lead} ` : ''}${n.explanation.text}`);
    }
  } else if (n.template === 'RESTRICTED' || n.template === 'REMINDER') {
    lines.push(TIER_TEXT[n.tier][l]);
    if (n.actions)
      lines.push(...[...new Set(n.reasonCodes)].map((c) => REASONS[c].user[l]), ...canDoLines(n));
    else
      for (const code of new Set(n.reasonCodes))
        lines.push(`${REASONS[code].user[l]} ${REASONS[code].nextStep[l]}`);
    if (n.deadline) lines.push(`${DEADLINE[l]} ${n.deadline}`);
  } else {
    const line = LINES[n.template];
    if (line) lines.push(line[l]);
    if (n.template === 'INFO_REQUESTED' && n.question) lines.push(`${QUESTION[l]} ${n.question}`);
    if (n.template === 'INFO_REQUESTED' && n.deadline) lines.push(`${DEADLINE[l]} ${n.deadline}`);
    if (n.decisionDueAt) lines.push(`${DECISION_BY[l]} ${n.decisionDueAt}`);
  }
  return { locale: l, subject: SUBJECT[n.template][l], body: lines.join('\n') };
}
