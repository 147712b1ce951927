// Pieces the user pages' forms share: the hidden fields every form carries, the file chooser, the statement.
import { html, type Html } from '../web/html';
import type { PortalContext } from './context';
import { MAX_FILE_BYTES, MAX_FILES } from './forms';

/** The hidden fields every form carries: CSRF token, language and zone (so the answer keeps them). */
export interface FormHidden {
  csrf: string;
  requestId: string;
}

export function hidden(ctx: PortalContext, f: FormHidden): Html {
  return html`<input type="hidden" name="_csrf" value="${f.csrf}" />
    <input type="hidden" name="requestId" value="${f.requestId}" />
    <input type="hidden" name="lang" value="${ctx.lang}" />
    ${ctx.tz ? html`<input type="hidden" name="tz" value="${ctx.tz}" />` : ''}`;
}

const mb = Math.round(MAX_FILE_BYTES / (1024 * 1024));

export function filesField(ctx: PortalContext, id: string): Html {
  return html`<div class="field">
    <label for="${id}">${ctx.t('files')}</label>
    <input
      type="file"
      id="${id}"
      name="files"
      multiple
      accept=".png,.jpg,.jpeg,.pdf,.txt,image/png,image/jpeg,application/pdf,text/plain"
      aria-describedby="${id}-hint"
    />
    <p class="hint" id="${id}-hint">${ctx.t('filesHint', { n: MAX_FILES, mb })}</p>
  </div>`;
}

/** A statement of up to 2,000 characters (an appeal's, a second review's), with what the user typed back. */
export function statementField(ctx: PortalContext, id: string, typed: string): Html {
  return html`<div class="field">
    <label for="${id}">${ctx.t('statement')}</label>
    <textarea id="${id}" name="statement" required maxlength="2000" rows="6" aria-describedby="${id}-hint">
${typed}</textarea>
    <p class="hint" id="${id}-hint">${ctx.t('statementHint')}</p>
  </div>`;
}
