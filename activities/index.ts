import type { AccountGateway } from './gateway';
import type { BackendNotifier, NotificationChannel } from './channels';
import type { Scorer } from './scorer';
import { renderNotice } from './templates';
import type { CaseActivities } from '../core/activity-contract';

export interface ActivityDeps {
  scorer: Scorer;
  gateway: AccountGateway;
  channels: NotificationChannel[];
  backend: BackendNotifier;
}

/** The case workflow's activities over injected dependencies (real ones in the worker, test doubles of I/O only). */
export function createActivities(deps: ActivityDeps): CaseActivities {
  return {
    scoreRiskEvent: (event) => deps.scorer.score(event),
    applyRestriction: (command) => deps.gateway.apply(command),
    liftRestriction: (command) => deps.gateway.lift(command),
    closeAccount: (command) => deps.gateway.close(command),
    async notifyUser(notice) {
      const message = renderNotice(notice);
      const deliveries = [];
      // Each channel gets the same key, so a retry after a partial failure re-sends only where it dedupes.
      for (const channel of deps.channels) {
        const { delivered } = await channel.send(notice, message);
        deliveries.push({ channel: channel.name, delivered });
      }
      return deliveries;
    },
    async notifyBackend(event) {
      const { delivered } = await deps.backend.send(event);
      return { channel: deps.backend.name, delivered };
    },
  };
}

export type { CaseActivities } from '../core/activity-contract';
