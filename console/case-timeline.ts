// The case page's record of what happened: the user's own words and documents, and the whole timeline, both
// read from the case's timeline entries.
import type { TimelineEntry } from '../core/case-types';
import { html, type Html } from '../web/html';
import type { ConsoleCase } from './case-model';
import { when, type Translate } from './i18n';

/** The user's own words and documents: the appeal and every answer, as the timeline recorded them. */
export function fromUser(t: Translate, v: ConsoleCase, files: (refs: string[]) => Html): Html {
  const entries = v.timeline.filter((e) => e.type === 'APPEAL' || e.type === 'INFO_PROVIDED');
  return html`<div class="card" id="user-statements">
    <h2>${t('userSays')}</h2>
    ${
      v.question
        ? html`<p><b>${t('questionAsked')}:</b></p>
            <div class="quote">${v.question}</div>`
        : ''
    }
    ${entries.length ? '' : html`<p class="muted">${t('nothingFromUser')}</p>`}
    ${entries.map((e) => {
      const text = e.type === 'APPEAL' ? e.statement : e.answer;
      const evidence = Array.isArray(e.evidence) ? (e.evidence as unknown[]).map(String) : [];
      return html`<div class="statement">
        <p>
          <b>${e.type === 'APPEAL' ? t('statement') : t('answer')}</b>
          <span class="muted">${when(e.at)} · ${actorOf(e)}</span>
        </p>
        <div class="quote">${typeof text === 'string' ? text : ''}</div>
        ${
          evidence.length
            ? html`<p>${t('evidence')}:</p>
                ${files(evidence)}`
            : ''
        }
      </div>`;
    })}
    ${
      v.explanation
        ? html`<p><b>${t('explanationGiven')}:</b> <code>${v.explanation.code}</code></p>
            <div class="quote">${v.explanation.text}</div>`
        : ''
    }
  </div>`;
}

const actorOf = (e: TimelineEntry): string => `${e.actor.kind}:${e.actor.id}`;

function detailsOf(e: TimelineEntry): Html {
  // The audit chain's hash and digests are for the audit trail page (console/audit-page.ts), not for reading here.
  const rest = Object.entries(e).filter(([k]) => !['at', 'actor', 'type', 'hash', 'digests'].includes(k));
  return html`${rest.map(
    ([k, val]) => html`<span><b>${k}</b>: ${typeof val === 'string' ? val : JSON.stringify(val)}</span>; `,
  )}`;
}

export function timeline(t: Translate, v: ConsoleCase): Html {
  return html`<div class="card" id="timeline">
    <h2>${t('timeline')}</h2>
    <table>
      <thead>
        <tr>
          <th>${t('when')}</th>
          <th>${t('actor')}</th>
          <th>${t('what')}</th>
          <th>${t('details')}</th>
        </tr>
      </thead>
      <tbody>
        ${v.timeline.map(
          (e) =>
            html`<tr data-type="${e.type}" data-actor="${actorOf(e)}">
              <td>${when(e.at)}</td>
              <td><code>${actorOf(e)}</code></td>
              <td><code>${e.type}</code></td>
              <td class="details">${detailsOf(e)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
