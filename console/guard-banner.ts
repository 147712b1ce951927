// The banner over the review queue while a rule's guard is tripped (core/guards.ts): which rule, the hour's count
// against its baseline, what the trip does, and for a senior or an admin the button that re-arms it. Read from
// GET /v1/guards through the API's own handler; a guard that cannot be read hides the banner, never the queue.
import type { TripView } from '../api/guards';
import { html, type Html } from '../web/html';
import { csrfField, type PageContext } from './pages';
import { when } from './i18n';

export function guardBanner(ctx: PageContext, trips: readonly TripView[], canRearm: boolean): Html | '' {
  if (trips.length === 0) return '';
  const { t } = ctx;
  return html`<section class="card banner danger" id="guards" role="alert">
    <h2>${t('guardTripped')}</h2>
    ${trips.map(
      (trip) =>
        html`<div class="guard" data-rule="${trip.ruleId}">
          <p>
            <b><code>${trip.ruleId}</code></b
            >:
            ${t('guardCounts', {
              count: trip.hourCount,
              baseline: Math.round(trip.baselinePerHour * 10) / 10,
              at: when(trip.trippedAt),
            })}
            ${trip.onTrip === 'capAtStepUp' ? t('guardCapped') : t('guardAlertOnly')}
          </p>
          ${
            canRearm
              ? html`<form method="post" action="/console/guards/${encodeURIComponent(trip.ruleId)}/rearm">
                  ${csrfField(ctx)}<button type="submit">${t('guardRearm')}</button>
                </form>`
              : html`<p class="muted">${t('guardRearmSeniors')}</p>`
          }
        </div>`,
    )}
  </section>`;
}
