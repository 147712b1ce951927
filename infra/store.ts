// Cordon's durable records outside Temporal, one store per concern (infra/stores/): first answers to event IDs,
// answers to human requests, the outbox with its delivery status and the backend's change feed built on it,
// account restriction records, deliveries of channels that cannot deduplicate, rate limits, shadow mode's
// counts and the archive of ended cases. Personal values are sealed under their account's data key
// (infra/personal-data.ts says which); IDs, statuses and times stay plain columns. This file wires them together.
import { dirname } from 'node:path';
import type { CodecKey } from './codec';
import { DataKeys, processLocalWrapKeys, wrapKeysOf } from './data-keys';
import { openDatabase, type Database } from './database';
import { ArchiveStore } from './stores/archive';
import { ChangeFeed } from './stores/changes';
import type { StoreContext } from './stores/context';
import { DeliveryStore } from './stores/deliveries';
import { EventEvidenceStore } from './stores/event-evidence';
import { EventStore } from './stores/events';
import { FeatureTables } from './stores/feature-store';
import { EntityLinks } from './stores/entity-links';
import { GuardStore } from './stores/guards';
import { BulkActionStore } from './stores/bulk-actions';
import { OutboxStore } from './stores/outbox';
import { RateLimits } from './stores/rate-limits';
import { RequestStore } from './stores/requests';
import { SecondReviewStore } from './stores/second-reviews';
import { RestrictionStore } from './stores/restrictions';
import { ShadowStore } from './stores/shadow';

export interface StoreOptions {
  /** Seals personal values; without it (tests on a bare database) a key that lives as long as the process. */
  dataKeys?: DataKeys;
  /** How long a settled user notice keeps its personal fields (default 30 days). */
  messageRetentionMs?: number;
}

export class Store {
  readonly dataKeys: DataKeys;
  /** The first answer to each risk event ID. */
  readonly events: EventStore;
  /** The answer to each human request, with its body's fingerprint. */
  readonly requests: RequestStore;
  /** Messages owed to users and the backend, with their delivery status. */
  readonly outbox: OutboxStore;
  /** The backend's change feed (GET /v1/changes), read from the outbox. */
  readonly changes: ChangeFeed;
  /** Each account's restriction record (the hot-path check). */
  readonly restrictions: RestrictionStore;
  /** Deliveries by channels that cannot deduplicate. */
  readonly deliveries: DeliveryStore;
  readonly rateLimits: RateLimits;
  /** Shadow mode's counts and disagreements. */
  readonly shadow: ShadowStore;
  /** Ended cases: final views and answered requests. */
  readonly archive: ArchiveStore;
  /** What each risk event of a case rests on: attributes, rules fired, data sources' answers (sealed). */
  readonly eventEvidence: EventEvidenceStore;
  /** Each ended case's one second review and the case it opened. */
  readonly secondReviews: SecondReviewStore;
  /** Policy features' windows (recorded events and what each adds to each feature), shared by processes. */
  readonly features: FeatureTables;
  /** Linked accounts: entity sightings, the linker's jobs, the signals sent. */
  readonly links: EntityLinks;
  /** Rule guards: matches of guarded rules and their trips. */
  readonly guards: GuardStore;
  /** Reviewed bulk actions: the intake's rule index, each action and its exact cases. */
  readonly bulkActions: BulkActionStore;

  constructor(
    readonly db: Database,
    private readonly clock: () => number = Date.now,
    o: StoreOptions = {},
  ) {
    this.dataKeys = o.dataKeys ?? new DataKeys(db, processLocalWrapKeys(), { register: true });
    const c: StoreContext = { db, dataKeys: this.dataKeys, clock };
    this.events = new EventStore(c);
    this.requests = new RequestStore(c);
    this.outbox = new OutboxStore(c, o.messageRetentionMs);
    this.changes = new ChangeFeed(c);
    this.restrictions = new RestrictionStore(c);
    this.deliveries = new DeliveryStore(c);
    this.rateLimits = new RateLimits(c);
    this.shadow = new ShadowStore(c);
    this.archive = new ArchiveStore(c, this.events);
    this.eventEvidence = new EventEvidenceStore(c);
    this.secondReviews = new SecondReviewStore(c);
    this.features = new FeatureTables(c);
    this.links = new EntityLinks(c);
    this.guards = new GuardStore(c);
    this.bulkActions = new BulkActionStore(c);
  }

  /** Drops what has outlived its keeping period, and settled notices' personal fields past their retention. */
  async purge(eventWindowMs: number): Promise<void> {
    const now = this.clock();
    await this.outbox.purge(now);
    await this.rateLimits.purge(now);
    await this.eventEvidence.purge(now); // before the archive's: it finds the cases by their archive rows
    await this.archive.purge(now);
    await this.events.purge(now - eventWindowMs);
    await this.requests.purge(now - eventWindowMs);
    await this.features.purge(); // by event time: what the latest event has left behind
    await this.links.purge(now);
    await this.guards.purge(now);
  }
}

/**
 * Opens Cordon's database as configured (PostgreSQL by URL, else the SQLite file in the data folder), with data
 * keys wrapped by CORDON_CODEC_KEYS, or in development by the codec key in the data folder (the SQLite file's).
 */
export async function openStore(config: {
  url?: string;
  sqliteFile: string;
  codecKeys?: readonly CodecKey[];
  messageRetentionMs?: number;
}): Promise<Store> {
  const db = await openDatabase(config);
  const wrapKeys = wrapKeysOf({ codecKeys: config.codecKeys, dataDir: dirname(config.sqliteFile) });
  return new Store(db, Date.now, {
    dataKeys: new DataKeys(db, wrapKeys, { register: true }),
    messageRetentionMs: config.messageRetentionMs,
  });
}
