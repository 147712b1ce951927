// The decision letter of an ended case: what was decided, why, what it means in practice, for how long, and
// what the account holder can do next. One model, in the user's language, that the printable page
// (portal/letter.ts), the final outcome page and the final mail (activities/mail-templates.ts) all render, so
// they say the same. Reasons in the catalogue's plain words, never scores, rules or thresholds. Pure.
import type { Capabilities } from './capabilities';
import { CAPABILITY_TEXTS } from './capabilities';
import type { Explanation } from './case-types';
import type { ActorKind, Locale, Outcome, ReasonCode } from './model';
import { explanationLead } from './outcomes';
import { REASONS } from './reasons';

/** What comes next for the account holder once the case has ended. */
export type LetterNext =
  /** The one second review may still be asked for, until then (ISO). */
  | { kind: 'secondReview'; until: string }
  /** It was asked for (its own case ends with its own letter): and the external channels. */
  | { kind: 'secondReviewRequested' }
  /** Cordon's own reviews are over: the policy's external channels (an ombudsman, a regulator's hotline). */
  | { kind: 'complaints' }
  /** Restored: nothing. */
  | { kind: 'none' };

export interface LetterInput {
  caseId: string;
  outcome: Outcome;
  reasons: readonly ReasonCode[];
  explanation: Explanation | null;
  openedAt: string | null;
  decidedAt: string | null;
  decidedBy: ActorKind | null;
  /** The case was itself a second review. */
  secondReview: boolean;
  capabilities: Capabilities;
  /** When the restriction ends, where the case has such a date. */
  until?: string | null;
  next: LetterNext;
  /** The policy's `complaints`: one text per channel, in every locale. */
  complaints: readonly Record<Locale, string>[];
}

export type LetterBlock =
  | { kind: 'p'; text: string }
  | { kind: 'list'; title?: string; items: string[] }
  /** The reviewer's own words, as written. */
  | { kind: 'quote'; text: string };

export type LetterSectionId = 'case' | 'why' | 'decision' | 'practice' | 'duration' | 'next';
export interface LetterSection {
  id: LetterSectionId;
  heading: string;
  blocks: LetterBlock[];
}

export interface Letter {
  title: string;
  sections: LetterSection[];
}

type Text = Record<Locale, string>;

const T = {
  title: { en: 'Decision on your case', 'zh-CN': '关于您案件的决定' },
  case: { en: 'Your case', 'zh-CN': '您的案件' },
  caseRef: { en: 'Case reference: {id}', 'zh-CN': '案件编号：{id}' },
  opened: { en: 'Opened on {at}.', 'zh-CN': '立案时间：{at}。' },
  decided: { en: 'Decided on {at}.', 'zh-CN': '决定时间：{at}。' },
  why: { en: 'Why the case was opened', 'zh-CN': '立案原因' },
  decision: { en: 'The decision', 'zh-CN': '决定' },
  byReviewer: { en: 'A member of our review team decided it.', 'zh-CN': '由我们的审核人员作出。' },
  bySenior: {
    en: 'A senior reviewer who had no part in the first decision decided it, on second review.',
    'zh-CN': '由未参与首次决定的资深审核人员在复核后作出。',
  },
  reviewerSays: { en: 'What the reviewer says:', 'zh-CN': '审核人员的说明：' },
  practice: { en: 'What this means for you', 'zh-CN': '这对您意味着什么' },
  everything: { en: 'Everything on your account works again.', 'zh-CN': '您账户的所有功能均已恢复。' },
  canStill: { en: 'You can still:', 'zh-CN': '您仍然可以：' },
  cannot: { en: 'You cannot:', 'zh-CN': '您不能：' },
  duration: { en: 'How long', 'zh-CN': '持续多久' },
  endsOn: { en: 'The restriction ends on {at}.', 'zh-CN': '限制将于 {at} 结束。' },
  noEnd: {
    en: 'It has no end date: it stays in place until a review lifts it.',
    'zh-CN': '没有结束日期：限制将一直保留，直至经审核解除。',
  },
  permanent: { en: 'The closure is permanent.', 'zh-CN': '账户关闭是永久性的。' },
  next: { en: 'What you can do next', 'zh-CN': '您接下来可以怎么做' },
  nothing: { en: 'Nothing: you do not need to do anything.', 'zh-CN': '无需您做任何事。' },
  secondReview: {
    en: 'You can ask once for a second review by a senior reviewer who had no part in this decision, until {at}. Tell us why and add any new documents on your case page.',
    'zh-CN':
      '您可以在 {at} 之前申请一次复核，由未参与本次决定的资深审核人员处理。请在案件页面说明理由并附上新的材料。',
  },
  requested: {
    en: 'You have asked for a second review. We will tell you its result.',
    'zh-CN': '您已申请复核，我们会将结果告知您。',
  },
  complaints: {
    en: 'Our own reviews of this decision are complete. If you disagree, you can turn to:',
    'zh-CN': '我们对此决定的内部审核已全部完成。如您有异议，可以联系：',
  },
  keepLetter: {
    en: 'Our own reviews of this decision are complete. Keep this letter: it records the decision if you take your complaint further.',
    'zh-CN': '我们对此决定的内部审核已全部完成。请保留此函：如您进一步投诉，它是本次决定的记录。',
  },
} satisfies Record<string, Text>;

/** The decision in one sentence, by what ended the case. */
export function decisionSentence(outcome: Outcome, decidedBy: ActorKind | null, l: Locale): string {
  if (outcome === 'RESTORED')
    return { en: 'Your account is fully available again.', 'zh-CN': '您的账户已恢复正常使用。' }[l];
  if (outcome === 'CLOSED')
    return { en: 'After review, your account has been closed.', 'zh-CN': '经审核，您的账户已被关闭。' }[l];
  return decidedBy === 'system'
    ? {
        en: 'The time to act on your case passed, so the restriction on your account stays in place.',
        'zh-CN': '您案件的处理期限已过，因此您账户的限制将继续保留。',
      }[l]
    : {
        en: 'After review, the restriction on your account stays in place.',
        'zh-CN': '经审核，您账户的限制将继续保留。',
      }[l];
}

const fill = (text: string, vars: Record<string, string>) =>
  text.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);

/** How long the outcome lasts, in one sentence; null for a restore (nothing lasts). */
export function durationSentence(
  outcome: Outcome,
  until: string | null | undefined,
  l: Locale,
  moment: (iso: string) => string,
): string | null {
  if (outcome === 'RESTORED') return null;
  if (outcome === 'CLOSED') return T.permanent[l];
  return until ? fill(T.endsOn[l], { at: moment(until) }) : T.noEnd[l];
}

/** The policy's review.secondReviewWindow when it sets none. */
export const DEFAULT_SECOND_REVIEW_WINDOW = '14d';

/**
 * Until when the one second review may be asked for: the window after an outcome of UPHELD or CLOSED that was
 * not itself a second review; null where there is none.
 */
export function secondReviewDeadline(
  o: { outcome: Outcome; decidedAt: string; secondReview: boolean },
  windowMs: number,
): string | null {
  if (o.secondReview || o.outcome === 'RESTORED') return null;
  const at = Date.parse(o.decidedAt);
  return Number.isNaN(at) ? null : new Date(at + windowMs).toISOString();
}

/** The letter's model in the user's language; `moment` shows a time as the user reads it. */
export function decisionLetter(i: LetterInput, l: Locale, moment: (iso: string) => string): Letter {
  const sections: LetterSection[] = [];
  const caseBlocks: LetterBlock[] = [{ kind: 'p', text: fill(T.caseRef[l], { id: i.caseId }) }];
  if (i.openedAt) caseBlocks.push({ kind: 'p', text: fill(T.opened[l], { at: moment(i.openedAt) }) });
  if (i.decidedAt) caseBlocks.push({ kind: 'p', text: fill(T.decided[l], { at: moment(i.decidedAt) }) });
  sections.push({ id: 'case', heading: T.case[l], blocks: caseBlocks });

  const reasons = [...new Set(i.reasons)];
  if (reasons.length)
    sections.push({
      id: 'why',
      heading: T.why[l],
      blocks: [{ kind: 'list', items: reasons.map((c) => REASONS[c].user[l]) }],
    });

  const decision: LetterBlock[] = [{ kind: 'p', text: decisionSentence(i.outcome, i.decidedBy, l) }];
  if (i.decidedBy === 'reviewer')
    decision.push({ kind: 'p', text: (i.secondReview ? T.bySenior : T.byReviewer)[l] });
  if (i.explanation) {
    const lead = explanationLead(i.explanation.code, i.outcome, l);
    decision.push({ kind: 'p', text: lead ? `${T.reviewerSays[l]} ${lead}` : T.reviewerSays[l] });
    decision.push({ kind: 'quote', text: i.explanation.text });
  }
  sections.push({ id: 'decision', heading: T.decision[l], blocks: decision });

  const practice: LetterBlock[] = [];
  if (i.outcome === 'RESTORED' || i.capabilities.blocked.length === 0)
    practice.push({ kind: 'p', text: T.everything[l] });
  else {
    const words = (cs: readonly (keyof typeof CAPABILITY_TEXTS)[]) => cs.map((c) => CAPABILITY_TEXTS[c][l]);
    if (i.capabilities.allowed.length)
      practice.push({ kind: 'list', title: T.canStill[l], items: words(i.capabilities.allowed) });
    practice.push({ kind: 'list', title: T.cannot[l], items: words(i.capabilities.blocked) });
  }
  sections.push({ id: 'practice', heading: T.practice[l], blocks: practice });

  const lasts = durationSentence(i.outcome, i.until, l, moment);
  if (lasts) sections.push({ id: 'duration', heading: T.duration[l], blocks: [{ kind: 'p', text: lasts }] });

  const next: LetterBlock[] = [];
  if (i.next.kind === 'none') next.push({ kind: 'p', text: T.nothing[l] });
  else if (i.next.kind === 'secondReview')
    next.push({ kind: 'p', text: fill(T.secondReview[l], { at: moment(i.next.until) }) });
  else {
    // The second review used (or none to be had): the channels outside Cordon.
    if (i.next.kind === 'secondReviewRequested') next.push({ kind: 'p', text: T.requested[l] });
    if (i.complaints.length)
      next.push({ kind: 'list', title: T.complaints[l], items: i.complaints.map((c) => c[l]) });
    else next.push({ kind: 'p', text: T.keepLetter[l] });
  }
  sections.push({ id: 'next', heading: T.next[l], blocks: next });
  return { title: T.title[l], sections };
}

/**
 * What comes next after an outcome: nothing after a restore; the second review while it may be asked for (and
 * was not); else, once it was used or cannot be had, the external channels.
 */
export function letterNextOf(
  o: { outcome: Outcome; secondReviewUntil: string | null; secondReviewRequested: boolean },
  now: number,
): LetterNext {
  if (o.outcome === 'RESTORED') return { kind: 'none' };
  if (o.secondReviewRequested) return { kind: 'secondReviewRequested' };
  if (o.secondReviewUntil && Date.parse(o.secondReviewUntil) > now)
    return { kind: 'secondReview', until: o.secondReviewUntil };
  return { kind: 'complaints' };
}
