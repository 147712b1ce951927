// Under each reason of a case page, what the reason rests on: the risk events that gave it, each with its
// attributes (those the reason's rules read highlighted), the rules with the value of every field they read, and
// the data sources' answers or that a source could not be reached. From the case's `evidence` as
// GET /v1/cases/{id} answers it (api/case-evidence.ts); every value is escaped, none is ever in a URL.
import type { EvidenceEvent } from '../api/case-evidence';
import { html, type Html } from '../web/html';
import type { Lang } from '../web/i18n';
import { when, type Translate } from './i18n';

type Shown = string | number | boolean | null | { masked: true };

/** A value as a reviewer reads it: numbers grouped in the reviewer's language, a masked one said so. */
function shown(t: Translate, lang: Lang, v: Shown): string {
  if (v === null) return '—';
  if (typeof v === 'object') return t('evidenceMasked');
  if (typeof v === 'number') return new Intl.NumberFormat(lang).format(v);
  return String(v);
}

type FeatureDefinition = NonNullable<Extract<EvidenceEvent, { recorded: true }>['features']>[string];

/**
 * What a feature counts, in the reviewer's words: "LOGIN_FAILED events per account within 10m", so that its value
 * reads as "5 failed logins in ten minutes".
 */
export function featureWords(t: Translate, f: FeatureDefinition): string {
  const events = f.eventTypes?.join(', ') ?? t('featureAllEvents');
  const per = f.by === 'account' ? t('featurePerAccount') : t('featurePerEntity', { kind: f.by.slice(7) });
  const vars = { events, per, window: f.window, field: f.field ?? '' };
  return f.aggregate === 'count'
    ? t('featureCount', vars)
    : f.aggregate === 'sum'
      ? t('featureSum', vars)
      : t('featureDistinct', vars);
}

/** "name: value", wrapped in <mark> when a rule of the reason read it; a feature says what it counts. */
function pair(
  t: Translate,
  lang: Lang,
  name: string,
  v: Shown,
  read: boolean,
  attr: string,
  features: Record<string, FeatureDefinition> = {},
): Html {
  const feature = name.startsWith('feature.') ? features[name.slice(8)] : undefined;
  const text = `${name}: ${shown(t, lang, v)}${feature ? ` (${featureWords(t, feature)})` : ''}`;
  return read
    ? html`<mark data-${attr}="${name}">${text}</mark>`
    : html`<span data-${attr}="${name}">${text}</span>`;
}

function recorded(t: Translate, lang: Lang, e: Extract<EvidenceEvent, { recorded: true }>): Html {
  const read = new Set(e.rules.flatMap((r) => Object.keys(r.fields)));
  const attributes = Object.entries(e.attributes);
  return html`<p class="muted">${t('evidenceAttributes')}</p>
    <dl class="facts evidence-attributes">
      ${attributes.map(
        ([name, v]) =>
          html`<dt><code>${name}</code></dt>
            <dd>${pair(t, lang, name, v, read.has(name), 'attribute')}</dd>`,
      )}
    </dl>
    ${e.rules.map((r) => {
      const fields = Object.entries(r.fields);
      return html`<p class="evidence-rule" data-rule="${r.ruleId}">
        ${
          fields.length
            ? html`${t('evidenceRuleRead', { rule: r.ruleId })}:
              ${fields.map(
                ([name, v], i) => html`${i ? ', ' : ''}${pair(t, lang, name, v, true, 'field', e.features)}`,
              )}`
            : t('evidenceRuleNothing', { rule: r.ruleId })
        }
      </p>`;
    })}
    <p class="evidence-sources">
      <b>${t('evidenceSources')}:</b>
      ${
        e.sources.length
          ? e.sources.map(
              (s, i) =>
                html`${i ? '; ' : ''}<span data-source="${s.name}"
                    ><code>${s.name}</code>:
                    ${
                      'unavailable' in s
                        ? html`<span class="overdue" data-unavailable="true"
                            >${t('evidenceUnavailable')}</span
                          >`
                        : Object.entries(s.answer).map(
                            ([signal, v], j) =>
                              html`${j ? ', ' : ''}${pair(t, lang, signal, v, read.has(`source.${s.name}.${signal}`), 'signal')}`,
                          )
                    }</span
                  >`,
            )
          : html`<span class="muted">${t('evidenceNoSources')}</span>`
      }
    </p>`;
}

function event(t: Translate, lang: Lang, e: EvidenceEvent): Html {
  return html`<div class="evidence-event" data-event-id="${e.eventId}" data-recorded="${String(e.recorded)}">
    <p>
      <b
        >${
          e.recorded
            ? t('evidenceEvent', { id: e.eventId, type: e.eventType, when: when(e.occurredAt) })
            : t('evidenceEventUnrecorded', { id: e.eventId, type: e.eventType })
        }</b
      >
      ${e.retracted ? html` <span class="badge">${t('evidenceRetracted')}</span>` : ''}
    </p>
    ${e.recorded ? recorded(t, lang, e) : html`<p class="muted">${t('evidenceNotRecorded')}</p>`}
  </div>`;
}

/** The evidence of one reason code; nothing when the case came without evidence (an action's answer). */
export function reasonEvidence(
  t: Translate,
  lang: Lang,
  code: string,
  events: readonly EvidenceEvent[] | undefined,
): Html {
  if (!events) return html``;
  return html`<div class="evidence" data-evidence-for="${code}">
    <p><b>${t('evidenceTitle')}</b></p>
    ${events.length ? events.map((e) => event(t, lang, e)) : html`<p class="muted">${t('evidenceNone')}</p>`}
  </div>`;
}
