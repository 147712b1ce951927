// The console's words in English and Simplified Chinese, the choice of language (a cookie set by the switch,
// else the browser's Accept-Language, web/i18n.ts), and times as a reviewer reads them.
import { duration, fill, type Lang } from '../web/i18n';
import { EN, type Key } from './words';
import { ZH } from './words-zh';

export type { Key } from './words';

export const LANG_COOKIE = 'cordon_console_lang';

const DICTIONARIES: Record<Lang, Record<Key, string>> = { en: EN, 'zh-CN': ZH };

export type Translate = (key: Key, vars?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  const dict = DICTIONARIES[lang];
  return (key, vars) => fill(dict[key], vars);
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
