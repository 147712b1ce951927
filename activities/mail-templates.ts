// A user notice as an e-mail: what happened (the reason catalogue's plain words), what the user can do (only what
// the case accepted, as the case page shows it), by when, and when to expect a decision (in the user's own time
// zone, the zone named), and the signed link to their case page; the final notice carries the whole decision
// letter (core/decision-letter.ts), so it outlives the link. In the notice's locale, as plain text and as HTML.
// Every value that goes into the HTML is escaped, whatever its source.
import { capabilitiesOf } from '../core/capabilities';
import {
  decisionLetter,
  DEFAULT_SECOND_REVIEW_WINDOW,
  letterNextOf,
  secondReviewDeadline,
  type Letter,
  type LetterBlock,
} from '../core/decision-letter';
import { parseDuration } from '../core/durations';
import type { UserNotice } from '../core/messages';
import type { Locale } from '../core/model';
import type { Policy } from '../core/policy';
import { REASONS } from '../core/reasons';
import { escapeHtml } from '../web/html';
import { canDoLines, DECISION_BY, renderNotice } from './templates';

export interface RenderedMail {
  locale: Locale;
  subject: string;
  text: string;
  html: string;
}

/** What the final mail takes from the running policy: the tiers' capabilities, the channels, the review window. */
export type MailPolicy = Pick<Policy, 'tiers' | 'complaints'> & {
  review?: { secondReviewWindow?: string };
};

export interface MailLink {
  /** The case page, `${publicUrl}/u/<token>`. */
  url: string;
  /** When the link stops working (Unix ms), told to the user. */
  expiresAt: number;
}

type Text = Record<Locale, string>;

const T = {
  greeting: { en: 'Hello,', 'zh-CN': '您好：' },
  happened: { en: 'What happened', 'zh-CN': '发生了什么' },
  canDo: { en: 'What you can do', 'zh-CN': '您可以怎么做' },
  byWhen: { en: 'By when', 'zh-CN': '截止时间' },
  actBy: { en: 'Please act by', 'zh-CN': '请在以下时间前处理：' },
  open: { en: 'Open your case', 'zh-CN': '查看您的案件' },
  copy: {
    en: 'If the button does not work, copy this address into your browser:',
    'zh-CN': '如果按钮无法使用，请将以下地址复制到浏览器中打开：',
  },
  personal: {
    en: 'This link is for you alone: do not forward it. It works until',
    'zh-CN': '此链接仅供您本人使用，请勿转发。有效期至',
  },
  safety: {
    en: 'We will never ask for your password or verification codes by e-mail, or ask you to move money to a "safe account".',
    'zh-CN': '我们绝不会通过邮件索要您的密码或验证码，也不会要求您把钱转到“安全账户”。',
  },
  footer: {
    en: 'Case {case}. This message was sent automatically; replies are not read.',
    'zh-CN': '案件编号：{case}。此邮件由系统自动发送，请勿直接回复。',
  },
} satisfies Record<string, Text>;

function validZone(timeZone: string | undefined): string {
  if (!timeZone) return 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return timeZone;
  } catch {
    // The event schema checks zones; a zone this Node's ICU lacks must not stop the notice.
    return 'UTC';
  }
}

/**
 * A moment as the user reads it: date, weekday and time in their zone, in their language, with the zone's
 * name and its IANA ID (a name alone can be ambiguous). Not a date (garbage in): shown as given.
 */
export function formatMoment(iso: string | number, locale: Locale, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const zone = validZone(timeZone);
  const text = new Intl.DateTimeFormat(locale, {
    timeZone: zone,
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'long',
  }).format(date);
  return `${text} (${zone})`;
}

interface Parts {
  subject: string;
  /** What the notice says before the details: the restriction, the outcome, the request. */
  lead: string[];
  happened: string[];
  canDo: string[];
  deadline?: string;
  /** In review: when a decision is expected. */
  decisionBy?: string;
  /** The final notice: the decision letter. */
  letter?: Letter;
}

/** The final notice's letter, where the notice carries its facts (notices built since 0.5). */
function letterOf(n: UserNotice, policy: MailPolicy | undefined, now: number): Letter | undefined {
  const outcome = n.status;
  if (n.template !== 'OUTCOME' || !n.letter) return undefined;
  if (outcome !== 'RESTORED' && outcome !== 'UPHELD' && outcome !== 'CLOSED') return undefined;
  const window = parseDuration(policy?.review?.secondReviewWindow ?? DEFAULT_SECOND_REVIEW_WINDOW);
  const until =
    window === undefined
      ? null
      : secondReviewDeadline(
          { outcome, decidedAt: n.letter.decidedAt, secondReview: n.letter.secondReview === true },
          window,
        );
  return decisionLetter(
    {
      caseId: n.caseId,
      outcome,
      reasons: n.reasonCodes,
      explanation: n.explanation ?? null,
      openedAt: n.letter.openedAt,
      decidedAt: n.letter.decidedAt,
      decidedBy: n.letter.decidedBy,
      secondReview: n.letter.secondReview === true,
      // What the gateway receives for this restriction (the same policy, the same catalogue).
      capabilities: capabilitiesOf(
        { restricted: outcome !== 'RESTORED', tier: n.tier, status: outcome },
        policy?.tiers,
      ),
      until: n.letter.until ?? null,
      next: letterNextOf({ outcome, secondReviewUntil: until, secondReviewRequested: false }, now),
      complaints: policy?.complaints ?? [],
    },
    n.locale,
    (iso) => formatMoment(iso, n.locale, n.contact?.timeZone),
  );
}

function partsOf(n: UserNotice, policy: MailPolicy | undefined, now: number): Parts {
  const l = n.locale;
  const reasonsApply = n.template === 'RESTRICTED' || n.template === 'REMINDER';
  // The shared renderer, less the reasons, the raw ISO times and the outcome the letter states itself, which
  // the mail lays out itself.
  const base = renderNotice({ ...n, reasonCodes: [], deadline: undefined, decisionDueAt: undefined });
  const codes = reasonsApply ? [...new Set(n.reasonCodes)] : [];
  const letter = letterOf(n, policy, now);
  return {
    subject: base.subject,
    // With the letter, only the decision's sentence leads (the letter states the rest, the explanation too).
    lead: base.body
      .split('\n')
      .filter((line) => line.trim() !== '')
      .slice(0, letter ? 1 : undefined),
    happened: codes.map((c) => REASONS[c].user[l]),
    canDo: reasonsApply || (n.template === 'IN_REVIEW' && n.actions) ? canDoLines(n) : [],
    deadline: n.deadline ? formatMoment(n.deadline, l, n.contact?.timeZone) : undefined,
    decisionBy: n.decisionDueAt ? formatMoment(n.decisionDueAt, l, n.contact?.timeZone) : undefined,
    letter,
  };
}

/** A letter block as lines of plain text. */
function blockText(b: LetterBlock): string[] {
  if (b.kind === 'p') return [b.text];
  if (b.kind === 'quote') return b.text.split('\n').map((line) => `> ${line}`);
  return [...(b.title ? [b.title] : []), ...b.items.map((i) => `- ${i}`)];
}

/** The notice as an e-mail's subject, text part and HTML part (the final one with the running policy's terms). */
export function renderMail(
  n: UserNotice,
  link: MailLink,
  o: { policy?: MailPolicy; now?: number } = {},
): RenderedMail {
  const l = n.locale;
  const p = partsOf(n, o.policy, o.now ?? Date.now());
  const linkUntil = formatMoment(link.expiresAt, l, n.contact?.timeZone);
  const footer = T.footer[l].replace('{case}', n.caseId);

  const text: string[] = [T.greeting[l], '', ...p.lead];
  if (p.happened.length) text.push('', `${T.happened[l]}:`, ...p.happened.map((s) => `- ${s}`));
  if (p.canDo.length) text.push('', `${T.canDo[l]}:`, ...p.canDo.map((s) => `- ${s}`));
  if (p.deadline) text.push('', `${T.actBy[l]} ${p.deadline}`);
  if (p.decisionBy) text.push('', `${DECISION_BY[l]} ${p.decisionBy}`);
  for (const section of p.letter?.sections ?? [])
    text.push('', `${section.heading}:`, ...section.blocks.flatMap(blockText));
  text.push(
    '',
    `${T.open[l]}: ${link.url}`,
    `${T.personal[l]} ${linkUntil}.`,
    '',
    T.safety[l],
    '',
    '-- ',
    footer,
  );

  const e = escapeHtml;
  const h2 = (s: string) => `<h2 style="font-size:16px;margin:24px 0 8px">${e(s)}</h2>`;
  const list = (items: string[]) =>
    `<ul style="margin:0;padding-left:20px">${items.map((s) => `<li style="margin:4px 0">${e(s)}</li>`).join('')}</ul>`;
  const small = (s: string) => `<p style="font-size:13px;color:#555">${s}</p>`;
  const html: string[] = [
    '<!doctype html>',
    `<html lang="${e(l)}"><head><meta charset="utf-8">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(p.subject)}</title></head>`,
    '<body style="margin:0;background:#f4f5f7;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d1d1f;line-height:1.5">',
    '<div style="max-width:560px;margin:0 auto;padding:24px;background:#fff">',
    `<h1 style="font-size:20px;margin:0 0 16px">${e(p.subject)}</h1>`,
    `<p>${e(T.greeting[l])}</p>`,
    ...p.lead.map((s) => `<p>${e(s)}</p>`),
  ];
  if (p.happened.length) html.push(h2(T.happened[l]), list(p.happened));
  if (p.canDo.length) html.push(h2(T.canDo[l]), list(p.canDo));
  if (p.deadline) html.push(h2(T.byWhen[l]), `<p><strong>${e(p.deadline)}</strong></p>`);
  if (p.decisionBy) html.push(`<p>${e(DECISION_BY[l])} <strong>${e(p.decisionBy)}</strong></p>`);
  const block = (b: LetterBlock) =>
    b.kind === 'p'
      ? `<p>${e(b.text)}</p>`
      : b.kind === 'quote'
        ? `<blockquote style="white-space:pre-wrap;margin:8px 0;padding:8px 12px;border-left:3px solid #ccc;background:#f8f9fb">${e(b.text)}</blockquote>`
        : `${b.title ? `<p>${e(b.title)}</p>` : ''}${list(b.items)}`;
  for (const section of p.letter?.sections ?? [])
    html.push(
      `<div data-letter="${e(section.id)}">`,
      h2(section.heading),
      ...section.blocks.map(block),
      '</div>',
    );
  html.push(
    `<p style="margin:28px 0"><a href="${e(link.url)}" style="background:#0b57d0;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none;display:inline-block">${e(T.open[l])}</a></p>`,
    small(`${e(T.copy[l])}<br><a href="${e(link.url)}" style="word-break:break-all">${e(link.url)}</a>`),
    small(`${e(T.personal[l])} ${e(linkUntil)}.`),
    '<hr style="border:none;border-top:1px solid #ddd;margin:24px 0">',
    small(e(T.safety[l])),
    small(e(footer)),
    '</div></body></html>',
  );
  return { locale: l, subject: p.subject, text: text.join('\n'), html: html.join('\n') };
}
