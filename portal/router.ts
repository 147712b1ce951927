// The account holder's case page at /u/<signed link token> (scaffold: filled in by the portal work).
import { Router } from 'express';
import type { RouteSpec } from '../api/app';
import type { LinkKey } from '../infra/links';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store';
import type { Policy } from '../core/policy';

export interface PortalDeps {
  /** The API's own route table: the page acts through the same handlers and schemas as the backend does. */
  routes: RouteSpec[];
  store: Store;
  linkKeys: readonly LinkKey[];
  /** Signs the page's CSRF cookies. */
  sessionSecret: Buffer;
  /** Where evidence files are kept (encrypted). */
  dataDir: string;
  publicUrl: string;
  mode: 'development' | 'production';
  limits: Policy['userActions'];
  logger: Logger;
}

export function portalRouter(_deps: PortalDeps): Router {
  return Router();
}
