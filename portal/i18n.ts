// The user's case page in English and Simplified Chinese. The language comes from the link (`?lang=`), else
// the case's own language (the notice's), else the browser's Accept-Language (web/i18n.ts chooseLang).
import type { Outcome, RestrictiveTier } from '../core/model';
import { chooseLang, fill, LANGS, type Lang } from '../web/i18n';
import type { DeadlineKind, HistoryKind } from './view';

export { LANGS, type Lang };

const EN = {
  app: 'Your account',
  langName: 'English',
  switchTo: 'Read this page in',
  caseRef: 'Case reference: {id}',
  restriction: 'What has happened',
  why: 'Why',
  nextSteps: 'What you can do',
  deadline: 'By when',
  timeLeft: '{d} left',
  passed: 'this time has passed',
  tzNote: 'Times are shown in {zone}.',
  notRestricted: 'Your account is not restricted.',
  status: 'Where your case stands',
  review: 'Review',
  history: 'What has happened so far',
  outcome: 'The result',
  explanation: 'What the reviewer says',
  // tiers
  'tier.STEP_UP': 'Some sensitive operations on your account need an extra check before you can use them.',
  'tier.LIMIT': 'Your available credit has been reduced for now.',
  'tier.PROTECT': 'We are holding a payment to protect you from a possible scam.',
  'tier.FREEZE': 'Your account is temporarily frozen.',
  'tier.CLOSE': 'We intend to close your account. You can appeal before the deadline.',
  // deadlines
  'deadline.act': 'Please act by',
  'deadline.answer': 'Please answer by',
  'deadline.confirmFrom': 'You can confirm the payment from',
  'deadline.lockoutEnds': 'The pause on sign-in ends at',
  'deadline.decision': 'You can expect a decision by',
  decisionLate:
    'The review is taking longer than planned. You do not need to do anything: we will tell you the result as soon as it is decided.',
  // what the case accepts now, when no reason's advice above says it
  'can.verify': 'Verify your identity.',
  'can.confirm': 'If you yourself want to make the held payment, confirm it once the waiting period is over.',
  'can.appeal': 'Appeal and tell us why you think this is wrong.',
  'can.answer': 'Answer the reviewer’s question below.',
  'can.addInfo': 'If you have more to tell the reviewer, you can add it below. You do not have to.',
  'can.wait': 'Nothing is needed from you now.',
  // review
  'review.none': 'Nobody is reviewing your case yet: you can verify or appeal.',
  'review.noneAppealable': 'Nobody is reviewing your case yet: you can appeal.',
  'review.noneVerifiable': 'Nobody is reviewing your case yet: you can verify.',
  'review.in-review': 'A member of our team is reviewing your case. We will tell you the result by e-mail.',
  'review.info-requested': 'The reviewer needs more information from you.',
  'review.second-review': 'A second reviewer is checking the decision on your case.',
  'review.done': 'The review of your case is complete.',
  appealFiled: 'You appealed on {at}{files}.',
  appealFiles: ', with {n} file(s)',
  // history
  'history.restricted': 'The restriction was applied',
  'history.tightened': 'The restriction was changed',
  'history.appeal': 'You appealed',
  'history.verified': 'You passed verification',
  'history.verificationFailed': 'A verification did not succeed',
  'history.infoRequested': 'A reviewer asked for more information',
  'history.info': 'You sent information',
  'history.inReview': 'The review started',
  'history.lifted': 'The restriction was lifted',
  'history.secondReview': 'You asked for a second review',
  'history.outcome': 'The case ended',
  // outcomes
  'outcome.RESTORED': 'Your account is fully available again.',
  'outcome.CLOSED': 'After review, your account has been closed.',
  'outcome.UPHELD': 'After review, the restriction on your account stays in place.',
  endedAt: 'Decided on {at}.',
  // after the outcome: the second review, the letter
  secondReviewTitle: 'Ask for a second review',
  secondReviewText:
    'A senior reviewer who had no part in the decision will look at your case again, once. Tell us why you think the decision is wrong and add any new documents. You can ask until {at}.',
  secondReviewButton: 'Ask for a second review',
  secondReviewOpen:
    'This is the second review you asked for: a senior reviewer is looking at your case again.',
  letterLink: 'Your decision letter, to print or keep',
  letterPrint: 'To print this letter or save it as a PDF, use your browser’s Print command.',
  // actions
  verifyTitle: 'Verify your identity',
  verifyText:
    'Verification is done by our identity provider. You will leave this page and come back here when it is done.',
  verifyButton: 'Start verification',
  verifyUnavailable: 'Verification is not available here just now. Please verify in the app.',
  confirmTitle: 'Confirm the payment',
  confirmText:
    'Only confirm if you yourself want to make this payment and nobody is telling you to, on the phone or in messages. Scammers often pretend to be the bank or the police.',
  confirmCheck: 'I want to make this payment myself, and nobody asked me to.',
  confirmButton: 'Confirm the payment',
  confirmLater: 'You can confirm from {at} ({d} from now).',
  appealTitle: 'Appeal',
  appealText:
    'Tell us why you think the restriction is wrong. A reviewer will read it and look at the files you attach.',
  statement: 'Your statement',
  statementHint: 'Up to 2,000 characters.',
  files: 'Files (optional)',
  filesHint: 'Up to {n} files, each up to {mb} MB: PNG, JPEG, PDF or plain text (.txt).',
  appealButton: 'Send the appeal',
  answerTitle: 'Answer the reviewer',
  addInfoTitle: 'Add information for the reviewer',
  question: 'The reviewer asks:',
  answer: 'Your answer',
  answerHint: 'Up to 4,000 characters.',
  answerButton: 'Send',
  // results
  back: 'Back to your case',
  'done.appeal': 'Your appeal has been received',
  'done.appealText': 'A reviewer will look at your appeal. We will tell you the result by e-mail.',
  'done.info': 'Your information has been sent',
  'done.infoText': 'Thank you. The reviewer will take it into account.',
  'done.confirmation': 'The payment is confirmed',
  'done.confirmationText': 'Thank you. The hold has been lifted.',
  'done.verified': 'You have been verified',
  'done.verifiedText': 'Thank you. The restriction on your account has been lifted.',
  'done.verifiedReview': 'Thank you. A reviewer will now look at your case.',
  'done.verificationFailed': 'The verification did not succeed',
  'done.verificationFailedText': 'A reviewer will look at your case. You can also appeal and tell us more.',
  'done.secondReview': 'Your request for a second review has been received',
  'done.secondReviewText':
    'A senior reviewer will look at your case again. We will tell you the result by e-mail.',
  // problems
  problem: 'This could not be done',
  'problem.ALREADY_APPEALED': 'You have already appealed on this case.',
  'problem.APPEAL_NOT_ALLOWED': 'An appeal is not possible on this case now.',
  'problem.CASE_CLOSED': 'This case has ended: nothing can be changed any more.',
  'problem.NOT_AWAITING_INFO': 'The reviewer is not waiting for information from you just now.',
  'problem.NOT_AWAITING_VERIFICATION': 'Your case is not waiting for verification any more.',
  'problem.VERIFICATION_NOT_ALLOWED': 'Verification cannot resolve this case. You can appeal instead.',
  'problem.COOLING_OFF': 'The waiting period is not over yet. Please confirm later.',
  'problem.SECOND_REVIEW_USED': 'A second review of this case has already been asked for.',
  'problem.SECOND_REVIEW_WINDOW_PASSED': 'The time to ask for a second review has passed.',
  'problem.SECOND_REVIEW_NOT_AVAILABLE': 'A second review is not possible for this case.',
  'problem.CASE_OPEN':
    'Another case on your account is still open: you can ask for a second review once it has ended.',
  'problem.IDEMPOTENCY_KEY_REUSED':
    'This form was already sent with other content. Open the case again to send something new.',
  'problem.TEMPORAL_UNAVAILABLE': 'We cannot reach our case system just now. Please try again in a minute.',
  'problem.VALIDATION_FAILED': 'Please check what you entered.',
  'problem.statement': 'Please write a statement (at most 2,000 characters).',
  'problem.answer': 'Please write an answer (at most 4,000 characters).',
  'problem.confirm': 'Please tick the box to confirm.',
  'problem.FILE_TYPE': 'A file is not a PNG, JPEG, PDF or .txt file. Please choose your files again.',
  'problem.FILE_SIZE': 'A file is larger than {mb} MB. Please choose your files again.',
  'problem.FILE_COUNT': 'You can attach at most {n} files. Please choose your files again.',
  'problem.FORM': 'The form could not be read. Please try again.',
  filesAgain: 'For your safety, files are not kept when a form is refused: please choose them again.',
  keptMoved:
    'What you wrote was not sent. It is in the form below: read it again and send it from there if you wish.',
  keptShown: 'What you wrote was not sent, and it is not kept. Here it is, so you can copy it:',
  keptLabel: 'What you wrote (not sent)',
  // neutral and error pages
  linkTitle: 'This link cannot be opened',
  linkText:
    'The link may have expired or may not be complete. Please open the most recent message we sent you, or contact us through the app.',
  csrfTitle: 'This form has expired',
  csrfText:
    'For your protection nothing was done. Please go back to your case page, reload it and try again.',
  limitTitle: 'Too many requests',
  limitText: 'Please wait {d} and try again. Nothing was changed.',
  errorTitle: 'Something went wrong',
  errorText: 'Nothing was changed. Please try again later (reference {id}).',
  verifyFailedTitle: 'The verification result could not be used',
  verifyFailedText:
    'The answer from the identity provider was not valid or has expired. Please start verification again from your case page.',
  safety:
    'We will never ask for your password or verification codes, or ask you to move money to a "safe account".',
  // development stand-in
  devTitle: 'Identity provider (development stand-in)',
  devText:
    'This page stands in for the platform’s identity provider in development only. Nothing is checked here: choose the result the provider would send back.',
  devPass: 'Pass verification',
  devFail: 'Fail verification',
};

type Key = keyof typeof EN;

const ZH: Record<Key, string> = {
  app: '您的账户',
  langName: '简体中文',
  switchTo: '切换语言：',
  caseRef: '案件编号：{id}',
  restriction: '发生了什么',
  why: '原因',
  nextSteps: '您可以怎么做',
  deadline: '截止时间',
  timeLeft: '剩余 {d}',
  passed: '已过截止时间',
  tzNote: '时间按 {zone} 显示。',
  notRestricted: '您的账户未受限制。',
  status: '案件进展',
  review: '审核',
  history: '处理记录',
  outcome: '处理结果',
  explanation: '审核人员的说明',
  'tier.STEP_UP': '您账户的部分敏感操作需要额外验证后才能使用。',
  'tier.LIMIT': '您的可用额度已被暂时调低。',
  'tier.PROTECT': '为防止您遭受诈骗，我们暂时冻结了一笔付款。',
  'tier.FREEZE': '您的账户已被临时冻结。',
  'tier.CLOSE': '我们拟关闭您的账户。您可以在截止时间前提出申诉。',
  'deadline.act': '请在以下时间前处理',
  'deadline.answer': '请在以下时间前回复',
  'deadline.confirmFrom': '可确认付款的时间',
  'deadline.lockoutEnds': '登录暂停结束时间',
  'deadline.decision': '预计作出决定的时间',
  decisionLate: '审核用时超出预期。您无需做任何事：一旦作出决定，我们会立即通知您结果。',
  'can.verify': '完成身份验证。',
  'can.confirm': '如果您本人确实想付款，请在等待期结束后确认这笔被暂停的付款。',
  'can.appeal': '提出申诉，并告诉我们您认为有误的原因。',
  'can.answer': '请在下方回复审核人员的问题。',
  'can.addInfo': '如您还有需要告知审核人员的内容，可在下方补充。这不是必需的。',
  'can.wait': '目前无需您做任何事。',
  'review.none': '您的案件尚未进入审核：您可以完成验证或提出申诉。',
  'review.noneAppealable': '您的案件尚未进入审核：您可以提出申诉。',
  'review.noneVerifiable': '您的案件尚未进入审核：您可以完成验证。',
  'review.in-review': '我们的工作人员正在审核您的案件，结果将通过邮件通知您。',
  'review.info-requested': '审核人员需要您补充信息。',
  'review.second-review': '另一位审核人员正在复核您的案件决定。',
  'review.done': '您的案件审核已完成。',
  appealFiled: '您已于 {at} 提出申诉{files}。',
  appealFiles: '，附 {n} 个文件',
  'history.restricted': '已施加限制',
  'history.tightened': '限制已调整',
  'history.appeal': '您提出了申诉',
  'history.verified': '您已通过验证',
  'history.verificationFailed': '一次验证未通过',
  'history.infoRequested': '审核人员要求补充信息',
  'history.info': '您提交了补充信息',
  'history.inReview': '开始审核',
  'history.lifted': '限制已解除',
  'history.secondReview': '您申请了复核',
  'history.outcome': '案件已结束',
  'outcome.RESTORED': '您的账户已恢复正常使用。',
  'outcome.CLOSED': '经审核，您的账户已被关闭。',
  'outcome.UPHELD': '经审核，您账户的限制将继续保留。',
  endedAt: '决定时间：{at}。',
  secondReviewTitle: '申请复核',
  secondReviewText:
    '未参与本次决定的资深审核人员将重新审核您的案件（仅限一次）。请说明您认为决定有误的原因，并附上新的材料。申请截止时间：{at}。',
  secondReviewButton: '提交复核申请',
  secondReviewOpen: '这是您申请的复核：资深审核人员正在重新审核您的案件。',
  letterLink: '您的决定函（可打印或保存）',
  letterPrint: '如需打印此函或另存为 PDF，请使用浏览器的“打印”功能。',
  verifyTitle: '验证您的身份',
  verifyText: '身份验证由我们的身份验证服务完成。您将离开本页，完成后会返回这里。',
  verifyButton: '开始验证',
  verifyUnavailable: '目前无法在此验证，请在应用中完成验证。',
  confirmTitle: '确认付款',
  confirmText:
    '只有在您本人确实想付款、且没有任何人通过电话或消息要求您付款时，才可确认。骗子常冒充银行或警方。',
  confirmCheck: '我本人想要付款，没有任何人要求我这样做。',
  confirmButton: '确认付款',
  confirmLater: '您可以在 {at} 之后确认（还需 {d}）。',
  appealTitle: '申诉',
  appealText: '请告诉我们您认为限制有误的原因。审核人员会阅读您的说明并查看您附上的文件。',
  statement: '您的说明',
  statementHint: '最多 2000 字。',
  files: '文件（可选）',
  filesHint: '最多 {n} 个文件，每个不超过 {mb} MB：PNG、JPEG、PDF 或纯文本（.txt）。',
  appealButton: '提交申诉',
  answerTitle: '回复审核人员',
  addInfoTitle: '向审核人员补充信息',
  question: '审核人员的问题：',
  answer: '您的回复',
  answerHint: '最多 4000 字。',
  answerButton: '发送',
  back: '返回您的案件',
  'done.appeal': '我们已收到您的申诉',
  'done.appealText': '审核人员将处理您的申诉，结果将通过邮件通知您。',
  'done.info': '您的信息已发送',
  'done.infoText': '谢谢。审核人员会参考您提供的信息。',
  'done.confirmation': '付款已确认',
  'done.confirmationText': '谢谢。冻结已解除。',
  'done.verified': '您已通过验证',
  'done.verifiedText': '谢谢。您账户的限制已解除。',
  'done.verifiedReview': '谢谢。审核人员将继续处理您的案件。',
  'done.verificationFailed': '验证未通过',
  'done.verificationFailedText': '审核人员将处理您的案件。您也可以提出申诉并补充说明。',
  'done.secondReview': '我们已收到您的复核申请',
  'done.secondReviewText': '资深审核人员将重新审核您的案件，结果将通过邮件通知您。',
  problem: '无法完成此操作',
  'problem.ALREADY_APPEALED': '您已就此案件提出过申诉。',
  'problem.APPEAL_NOT_ALLOWED': '此案件目前无法申诉。',
  'problem.CASE_CLOSED': '此案件已结束，无法再更改。',
  'problem.NOT_AWAITING_INFO': '审核人员目前不需要您补充信息。',
  'problem.NOT_AWAITING_VERIFICATION': '您的案件已不再等待验证。',
  'problem.VERIFICATION_NOT_ALLOWED': '此案件无法通过验证解决，您可以提出申诉。',
  'problem.COOLING_OFF': '等待期尚未结束，请稍后再确认。',
  'problem.SECOND_REVIEW_USED': '此案件已申请过复核。',
  'problem.SECOND_REVIEW_WINDOW_PASSED': '申请复核的期限已过。',
  'problem.SECOND_REVIEW_NOT_AVAILABLE': '此案件无法申请复核。',
  'problem.CASE_OPEN': '您的账户还有未结束的案件，请在其结束后再申请复核。',
  'problem.IDEMPOTENCY_KEY_REUSED': '此表单已以其他内容提交过。请重新打开案件页面后再提交。',
  'problem.TEMPORAL_UNAVAILABLE': '暂时无法连接案件系统，请一分钟后重试。',
  'problem.VALIDATION_FAILED': '请检查您填写的内容。',
  'problem.statement': '请填写说明（最多 2000 字）。',
  'problem.answer': '请填写回复（最多 4000 字）。',
  'problem.confirm': '请勾选确认框。',
  'problem.FILE_TYPE': '有文件不是 PNG、JPEG、PDF 或 .txt 文件，请重新选择文件。',
  'problem.FILE_SIZE': '有文件超过 {mb} MB，请重新选择文件。',
  'problem.FILE_COUNT': '最多只能附 {n} 个文件，请重新选择文件。',
  'problem.FORM': '无法读取表单，请重试。',
  filesAgain: '为了您的安全，表单被拒绝时不会保留文件，请重新选择。',
  keptMoved: '您填写的内容未发送。它已放在下方的表单中：请再核对一遍，如有需要可从那里发送。',
  keptShown: '您填写的内容未发送，也不会被保存。内容如下，方便您复制：',
  keptLabel: '您填写的内容（未发送）',
  linkTitle: '无法打开此链接',
  linkText: '链接可能已过期或不完整。请打开我们最近发给您的消息，或通过应用联系我们。',
  csrfTitle: '此表单已过期',
  csrfText: '为保护您的安全，本次操作未执行。请返回案件页面，刷新后重试。',
  limitTitle: '请求过于频繁',
  limitText: '请等待 {d} 后再试。本次未做任何更改。',
  errorTitle: '出现了问题',
  errorText: '未做任何更改。请稍后重试（参考编号 {id}）。',
  verifyFailedTitle: '无法使用此验证结果',
  verifyFailedText: '身份验证服务返回的结果无效或已过期。请从案件页面重新开始验证。',
  safety: '我们绝不会索要您的密码或验证码，也不会要求您把钱转到“安全账户”。',
  devTitle: '身份验证服务（开发环境替身）',
  devText: '此页面仅在开发环境中代替平台的身份验证服务，不做任何检查：请选择验证服务将返回的结果。',
  devPass: '验证通过',
  devFail: '验证不通过',
};

const DICTIONARIES: Record<Lang, Record<Key, string>> = { en: EN, 'zh-CN': ZH };

export type PortalKey = Key;
export type PortalTranslate = (key: Key, vars?: Record<string, string | number>) => string;

export function portalTranslator(lang: Lang): PortalTranslate {
  const dict = DICTIONARIES[lang];
  return (key, vars) => fill(dict[key], vars);
}

export const tierKey = (tier: RestrictiveTier): Key => `tier.${tier}`;
export const outcomeKey = (o: Outcome): Key => `outcome.${o}`;
export const deadlineKey = (k: DeadlineKind): Key => `deadline.${k}`;
export const historyKey = (k: HistoryKind): Key => `history.${k}`;

/** A refusal code the page explains, else undefined (the generic words are used). */
export function problemKey(code: string | undefined): Key | undefined {
  const key = `problem.${code ?? ''}`;
  return key in EN ? (key as Key) : undefined;
}

/** `?lang=` if it names a language; else the case's language; else the browser's (or English). */
export function portalLang(query: unknown, caseLocale: string | undefined, acceptLanguage?: string): Lang {
  if (query === 'en' || query === 'zh-CN') return query;
  if (caseLocale === 'en' || caseLocale === 'zh-CN') return caseLocale;
  return chooseLang(undefined, acceptLanguage);
}
