// The console's words in English and Simplified Chinese, the choice of language (a cookie set by the switch,
// else the browser's Accept-Language), and times as a reviewer reads them.

export const LANGS = ['en', 'zh-CN'] as const;
export type Lang = (typeof LANGS)[number];
export const LANG_COOKIE = 'cordon_console_lang';

const EN = {
  app: 'Cordon reviewer console',
  langName: 'English',
  signIn: 'Sign in',
  signInTitle: 'Sign in to the reviewer console',
  token: 'Reviewer token',
  tokenHelp: 'Your personal reviewer token. It is checked once and never stored in your browser.',
  devTokens: 'Development tokens: dev-reviewer-1, dev-reviewer-2, dev-senior.',
  badToken: 'This token is not valid.',
  notConsoleRole: 'This token cannot sign in to the console: only reviewer, senior and admin tokens can.',
  sessionEnded: 'Your session has ended. Please sign in again.',
  signedOut: 'You are signed out.',
  signOut: 'Sign out',
  signedInAs: 'Signed in as {id} ({role})',
  formExpired: 'This form has expired',
  formExpiredDetail: 'For your protection the action was not carried out. Reload the page and try again.',
  queue: 'Review queue',
  queueIntro: 'Breached cases first, then by the time left to the review SLA.',
  filters: 'Filters',
  status: 'Status',
  tier: 'Tier',
  reason: 'Reason code',
  assignee: 'Assignee',
  all: 'All',
  mine: 'Mine',
  unassigned: 'Unassigned',
  apply: 'Apply',
  clear: 'Clear filters',
  caseCol: 'Case',
  account: 'Account',
  reasons: 'Reasons',
  sla: 'Review SLA',
  escalated: 'Escalated',
  escalatedHint: 'Past its review SLA: in the senior queue',
  noCases: 'No cases match these filters.',
  shown: '{shown} of {total} cases',
  refreshes: 'Refreshes itself every {s} s. Updated {time}.',
  reasonsUnknown: 'Reason codes could not be read for {n} cases.',
  open: 'Open',
  caseTitle: 'Case {id}',
  backToQueue: '← Back to the queue',
  summary: 'Summary',
  score: 'Score',
  policyVersion: 'Policy version',
  openedAt: 'Opened',
  locale: "User's language",
  nobody: 'nobody',
  you: 'you',
  restricted: 'Restricted',
  yes: 'yes',
  no: 'no',
  deadlines: 'Deadlines',
  deadline: 'Deadline',
  when: 'When',
  timeLeft: 'Time left',
  overdueBy: 'overdue by {d}',
  left: '{d} left',
  noDeadlines: 'No open deadlines.',
  contribution: 'Contribution',
  reviewerNote: 'What to look at',
  userSays: "The user's statement and answers",
  statement: 'Appeal',
  answer: 'Answer',
  evidence: 'Evidence',
  nothingFromUser: 'The user has not written anything yet.',
  questionAsked: 'Question to the user',
  explanationGiven: 'Explanation for the user',
  pendingApproval: '{decision} by {by}, waiting for a second reviewer',
  timeline: 'Timeline',
  actor: 'Actor',
  what: 'What',
  details: 'Details',
  actions: 'Actions',
  heldBy: 'Held by {who}',
  notHeld: 'Nobody holds this case.',
  claim: 'Claim',
  takeOver: 'Take over',
  release: 'Release',
  decide: 'Decide',
  decision: 'Decision',
  UNLOCK: 'Unlock: restore the account',
  CLOSE: 'Close the account',
  UPHOLD: 'Uphold the restriction',
  REQUEST_INFO: 'Request information from the user',
  rationale: 'Rationale (for the record; not shown to the user)',
  question: 'Question for the user (Request information only)',
  explanation: 'Explanation for the user (outcomes only)',
  explanationCode: 'Reason the user is told',
  explanationText: 'Your words',
  explanationHint:
    "The user reads the catalogue's words for this reason, then your text, in their language ({locale}). Leave the text empty to send no explanation.",
  submitDecision: 'Record decision',
  claimToDecide: 'Claim the case to decide it.',
  notDecidable: 'This case is not waiting for a decision.',
  approval: 'Second approval',
  approvalOf: 'Approve or reject the decision {decision} by {by}.',
  ownDecision: 'You made this decision: another reviewer must approve or reject it.',
  approve: 'Approve',
  reject: 'Reject',
  approvalRationale: 'Rationale',
  required: 'required',
  refused: 'The action was refused',
  invalid: 'Please correct the fields below.',
  notFound: 'Not found',
  notFoundDetail: 'There is no such page in the console.',
  caseNotFound: 'Case not found',
  failed: 'Something went wrong',
  failedDetail: 'The error was logged with request ID {id}. Try again in a moment.',
  'done.claim': 'You claimed the case.',
  'done.release': 'You released the case to the queue.',
  'done.decision': 'Your decision was recorded.',
  'done.approval': 'Your approval was recorded.',
  'status.IN_REVIEW': 'In review',
  'status.AWAITING_INFO': 'Awaiting information',
  'status.PENDING_APPROVAL': 'Pending approval',
  'status.AWAITING_USER': 'Awaiting the user',
  'status.VERIFICATION_REQUIRED': 'Verification required',
  'status.LIMITED': 'Limited',
  'status.PROTECTIVE_HOLD': 'Protective hold',
  'status.MONITORING': 'Monitoring',
  'status.RESTORED': 'Restored',
  'status.CLOSED': 'Closed',
  'status.UPHELD': 'Upheld',
  'tier.STEP_UP': 'Step-up',
  'tier.LIMIT': 'Limit',
  'tier.PROTECT': 'Protect',
  'tier.FREEZE': 'Freeze',
  'tier.CLOSE': 'Close',
  'tier.NONE': 'None',
  'deadline.userDeadlineAt': "User's deadline",
  'deadline.coolingOffEndsAt': 'Cooling-off ends',
  'deadline.lockoutLiftsAt': 'Lockout lifts',
  'deadline.monitorUntil': 'Monitoring until',
  'deadline.reviewDueAt': 'Review SLA',
  'deadline.infoDueAt': 'Information due',
  'deadline.claimIdleAt': 'Claim lapses if idle',
  'deadline.approvalDueAt': 'Approval SLA',
  'problem.CLAIMED_BY_OTHER': 'Another reviewer holds this case.',
  'problem.NOT_CLAIMED': 'Nobody holds this case: claim it first.',
  'problem.SAME_REVIEWER': 'The second approval must come from a different reviewer.',
  'problem.NOT_IN_REVIEW': 'The case is not in review any more.',
  'problem.NOT_PENDING_APPROVAL': 'The case is not waiting for an approval.',
  'problem.EVIDENCE_CHANGED': 'New evidence arrived after you opened the case: read it, then decide again.',
  'problem.CASE_CLOSED': 'The case has ended.',
  'problem.IDEMPOTENCY_KEY_REUSED': 'This form was already sent with other values: reload the page.',
  'problem.FORBIDDEN': 'Your role may not do this.',
  'problem.TEMPORAL_UNAVAILABLE': 'The case engine cannot be reached just now; try again in a few seconds.',
  'problem.CASE_NOT_FOUND': 'There is no such case.',
  'problem.VALIDATION_FAILED': 'Please correct the fields below.',
  'role.reviewer': 'reviewer',
  'role.senior': 'senior reviewer',
  'role.admin': 'admin',
  'role.backend': 'backend',
  h: 'h',
  min: 'min',
  d: 'd',
  s: 's',
} as const;

export type Key = keyof typeof EN;

const ZH: Record<Key, string> = {
  app: 'Cordon 审核控制台',
  langName: '中文',
  signIn: '登录',
  signInTitle: '登录审核控制台',
  token: '审核员令牌',
  tokenHelp: '您的个人审核员令牌。令牌仅用于本次校验，不会保存在浏览器中。',
  devTokens: '开发环境令牌：dev-reviewer-1、dev-reviewer-2、dev-senior。',
  badToken: '令牌无效。',
  notConsoleRole: '此令牌不能登录控制台：仅审核员、高级审核员和管理员令牌可以登录。',
  sessionEnded: '您的会话已结束，请重新登录。',
  signedOut: '您已退出登录。',
  signOut: '退出登录',
  signedInAs: '当前用户：{id}（{role}）',
  formExpired: '表单已过期',
  formExpiredDetail: '为保护您的账户，操作未执行。请刷新页面后重试。',
  queue: '审核队列',
  queueIntro: '已超时的案件排在最前，其余按距审核时限的剩余时间排序。',
  filters: '筛选',
  status: '状态',
  tier: '级别',
  reason: '原因代码',
  assignee: '处理人',
  all: '全部',
  mine: '我的',
  unassigned: '未分配',
  apply: '应用',
  clear: '清除筛选',
  caseCol: '案件',
  account: '账户',
  reasons: '原因',
  sla: '审核时限',
  escalated: '已升级',
  escalatedHint: '已超过审核时限：进入高级审核队列',
  noCases: '没有符合筛选条件的案件。',
  shown: '显示 {shown} / 共 {total} 个案件',
  refreshes: '每 {s} 秒自动刷新。更新于 {time}。',
  reasonsUnknown: '有 {n} 个案件的原因代码暂时无法读取。',
  open: '打开',
  caseTitle: '案件 {id}',
  backToQueue: '← 返回队列',
  summary: '概要',
  score: '分数',
  policyVersion: '策略版本',
  openedAt: '创建时间',
  locale: '用户语言',
  nobody: '无',
  you: '您',
  restricted: '受限',
  yes: '是',
  no: '否',
  deadlines: '期限',
  deadline: '期限',
  when: '时间',
  timeLeft: '剩余时间',
  overdueBy: '已超时 {d}',
  left: '剩余 {d}',
  noDeadlines: '没有进行中的期限。',
  contribution: '分值贡献',
  reviewerNote: '审核要点',
  userSays: '用户的陈述和回答',
  statement: '申诉',
  answer: '回答',
  evidence: '证据',
  nothingFromUser: '用户尚未提交任何内容。',
  questionAsked: '向用户提出的问题',
  explanationGiven: '给用户的说明',
  pendingApproval: '{by} 作出的决定 {decision}，等待第二位审核员批准',
  timeline: '时间线',
  actor: '执行者',
  what: '事件',
  details: '详情',
  actions: '操作',
  heldBy: '处理人：{who}',
  notHeld: '此案件尚无人处理。',
  claim: '认领',
  takeOver: '接管',
  release: '释放',
  decide: '作出决定',
  decision: '决定',
  UNLOCK: '解除限制：恢复账户',
  CLOSE: '关闭账户',
  UPHOLD: '维持限制',
  REQUEST_INFO: '要求用户补充信息',
  rationale: '理由（存档用，不向用户展示）',
  question: '向用户提出的问题（仅限要求补充信息）',
  explanation: '给用户的说明（仅限最终结果）',
  explanationCode: '告知用户的原因',
  explanationText: '您的说明',
  explanationHint: '用户将以其语言（{locale}）先看到该原因的标准说明，然后是您的文字。文字留空则不发送说明。',
  submitDecision: '提交决定',
  claimToDecide: '请先认领案件再作出决定。',
  notDecidable: '此案件当前不等待决定。',
  approval: '第二审核',
  approvalOf: '批准或驳回 {by} 作出的决定 {decision}。',
  ownDecision: '此决定由您作出：需由另一位审核员批准或驳回。',
  approve: '批准',
  reject: '驳回',
  approvalRationale: '理由',
  required: '必填',
  refused: '操作被拒绝',
  invalid: '请更正以下字段。',
  notFound: '页面不存在',
  notFoundDetail: '控制台中没有此页面。',
  caseNotFound: '案件不存在',
  failed: '出现错误',
  failedDetail: '错误已记录，请求 ID 为 {id}。请稍后重试。',
  'done.claim': '您已认领此案件。',
  'done.release': '您已将此案件释放回队列。',
  'done.decision': '您的决定已记录。',
  'done.approval': '您的审批已记录。',
  'status.IN_REVIEW': '审核中',
  'status.AWAITING_INFO': '等待补充信息',
  'status.PENDING_APPROVAL': '等待批准',
  'status.AWAITING_USER': '等待用户',
  'status.VERIFICATION_REQUIRED': '需要验证',
  'status.LIMITED': '已限额',
  'status.PROTECTIVE_HOLD': '保护性暂停',
  'status.MONITORING': '观察中',
  'status.RESTORED': '已恢复',
  'status.CLOSED': '已关闭',
  'status.UPHELD': '维持原判',
  'tier.STEP_UP': '加强验证',
  'tier.LIMIT': '限额',
  'tier.PROTECT': '保护',
  'tier.FREEZE': '冻结',
  'tier.CLOSE': '关闭',
  'tier.NONE': '无',
  'deadline.userDeadlineAt': '用户期限',
  'deadline.coolingOffEndsAt': '冷静期结束',
  'deadline.lockoutLiftsAt': '锁定解除',
  'deadline.monitorUntil': '观察至',
  'deadline.reviewDueAt': '审核时限',
  'deadline.infoDueAt': '补充信息期限',
  'deadline.claimIdleAt': '认领闲置到期',
  'deadline.approvalDueAt': '批准时限',
  'problem.CLAIMED_BY_OTHER': '此案件已由其他审核员处理。',
  'problem.NOT_CLAIMED': '此案件尚无人认领，请先认领。',
  'problem.SAME_REVIEWER': '第二审核必须由另一位审核员完成。',
  'problem.NOT_IN_REVIEW': '此案件已不在审核中。',
  'problem.NOT_PENDING_APPROVAL': '此案件不在等待批准。',
  'problem.EVIDENCE_CHANGED': '您打开案件后有新的证据，请查看后重新作出决定。',
  'problem.CASE_CLOSED': '此案件已结束。',
  'problem.IDEMPOTENCY_KEY_REUSED': '此表单已用其他内容提交过，请刷新页面。',
  'problem.FORBIDDEN': '您的角色无权执行此操作。',
  'problem.TEMPORAL_UNAVAILABLE': '暂时无法连接案件引擎，请几秒后重试。',
  'problem.CASE_NOT_FOUND': '案件不存在。',
  'problem.VALIDATION_FAILED': '请更正以下字段。',
  'role.reviewer': '审核员',
  'role.senior': '高级审核员',
  'role.admin': '管理员',
  'role.backend': '后端服务',
  h: '小时',
  min: '分钟',
  d: '天',
  s: '秒',
};

const DICTIONARIES: Record<Lang, Record<Key, string>> = { en: EN, 'zh-CN': ZH };

export type Translate = (key: Key, vars?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  const dict = DICTIONARIES[lang];
  return (key, vars = {}) => dict[key].replace(/\{(\w+)\}/g, (m, name: string) => String(vars[name] ?? m));
}

/** A label for a code the catalogue knows (status.X, tier.X…), else the code itself. */
export function label(
  t: Translate,
  prefix: 'status' | 'tier' | 'deadline' | 'problem' | 'role',
  code: string,
): string {
  const key = `${prefix}.${code}`;
  return key in EN ? t(key as Key) : code;
}

/** The switch's cookie if set, else the first supported language of Accept-Language by weight, else English. */
export function chooseLang(cookie: string | undefined, acceptLanguage: string | undefined): Lang {
  if (cookie === 'en' || cookie === 'zh-CN') return cookie;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((r) => r.tag && r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

/** "2 h 5 min", "3 d 4 h", "45 s": the two largest units. */
export function duration(t: Translate, ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const parts: [number, Key][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3_600), 'h'],
    [Math.floor((s % 3_600) / 60), 'min'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return `0 ${t('s')}`;
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n} ${t(unit)}`)
    .join(' ');
}

/** Time left to a deadline, or how long ago it passed. */
export function timeLeft(t: Translate, dueAt: string, now: number): { text: string; overdue: boolean } {
  const ms = Date.parse(dueAt) - now;
  return ms < 0
    ? { text: t('overdueBy', { d: duration(t, ms) }), overdue: true }
    : { text: t('left', { d: duration(t, ms) }), overdue: false };
}

/** "2026-11-23 09:00 UTC": one zone for every reviewer, wherever they sit. */
export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * What the decision form proposes to tell the user, in the user's language (not the reviewer's): it follows
 * the catalogue's words for the reason code, and the reviewer edits it freely.
 */
export const USER_PRESETS: Record<Lang, Record<'generic' | 'unlock' | 'close' | 'uphold', string>> = {
  en: {
    generic: 'We have reviewed your case carefully.',
    unlock: 'We reviewed your case and the information you gave us, and lifted the restriction.',
    close: 'We reviewed your case carefully and decided to close the account.',
    uphold: 'We reviewed your case carefully, and the restriction stays in place.',
  },
  'zh-CN': {
    generic: '我们已仔细审核了您的案件。',
    unlock: '我们审核了您的案件及您提供的信息，已解除限制。',
    close: '我们仔细审核了您的案件，决定关闭该账户。',
    uphold: '我们仔细审核了您的案件，限制将继续保留。',
  },
};
