// A refused form on the case page: why it was refused, in the user's language, and what the user typed, given
// back. The text comes from the refused request itself (never from the case, so a forwarded link shows no
// statement), is escaped like everything else, and is neither logged nor kept.
import { html, type Html } from '../web/html';
import type { PortalContext } from './context';
import { MAX_FILE_BYTES, MAX_FILES } from './forms';
import { problemKey } from './i18n';

export interface Failure {
  /** Which form failed: its values come back into it. */
  form: 'verify' | 'confirm' | 'appeal' | 'info' | 'secondReview';
  status: number;
  /** A refusal code or one of the page's own (FILE_TYPE, FILE_SIZE, FILE_COUNT, FORM, statement, answer…). */
  code?: string;
  values: Record<string, string>;
  /** Files had been chosen: the user must choose them again. */
  hadFiles: boolean;
}

/** The forms the user writes in: the field that holds the text, and how much it takes. */
export const TEXT_FORMS = {
  appeal: { field: 'statement', max: 2_000 },
  info: { field: 'answer', max: 4_000 },
  secondReview: { field: 'statement', max: 2_000 },
} as const;
export type TextForm = keyof typeof TEXT_FORMS;

/** What the user typed, and the form it goes back into (none: the refusal shows it, read-only). */
export interface KeptText {
  text: string;
  into: TextForm | null;
}

/** Where a refused form's text may go when its own form is gone: an open case's other form, never across an end. */
const OTHER: Record<TextForm, TextForm | null> = { appeal: 'info', info: 'appeal', secondReview: null };

/**
 * Its own form while the case still offers it; else (the case moved on, say in another tab) the other form the
 * user writes in, when the case offers it and it has room; else none.
 */
export function keptText(f: Failure | undefined, offered: Record<TextForm, boolean>): KeptText | undefined {
  if (!f || !(f.form in TEXT_FORMS)) return undefined;
  const form = f.form as TextForm;
  const text = f.values[TEXT_FORMS[form].field];
  if (!text) return undefined;
  if (offered[form]) return { text, into: form };
  const other = OTHER[form];
  return { text, into: other && offered[other] && text.length <= TEXT_FORMS[other].max ? other : null };
}

/** A textarea drops the first newline of its content: this one, not one the user typed. */
const LEADING_NEWLINE = '\n';

export function failureBox(ctx: PortalContext, f: Failure, kept?: KeptText): Html {
  const key = problemKey(f.code);
  const text = key
    ? ctx.t(key, { mb: Math.round(MAX_FILE_BYTES / (1024 * 1024)), n: MAX_FILES })
    : ctx.t('problem.FORM');
  const elsewhere = kept && kept.into !== f.form;
  return html`<div
    class="alert error"
    role="alert"
    id="problem"
    data-status="${f.status}"
    data-code="${f.code ?? ''}"
  >
    <strong>${ctx.t('problem')}</strong>
    <p>${text}</p>
    ${f.hadFiles ? html`<p>${ctx.t('filesAgain')}</p>` : ''}
    ${
      elsewhere && kept.into
        ? html`<p id="kept-moved">${ctx.t('keptMoved')}</p>`
        : elsewhere
          ? html`<p>${ctx.t('keptShown')}</p>
              <div class="field">
                <label for="kept-text">${ctx.t('keptLabel')}</label>
                <textarea id="kept-text" readonly rows="6">${LEADING_NEWLINE}${kept.text}</textarea>
              </div>`
          : ''
    }
  </div>`;
}
