// The reviewer console at /console (scaffold: filled in by the console work).
import { Router } from 'express';
import type { Principal, TokenTable } from '../infra/config';
import type { Logger } from '../infra/logger';
import type { RouteSpec } from '../api/app';
import type { Request } from 'express';

export interface ConsoleDeps {
  /** The API's own route table: the console acts through the same handlers and schemas as the API. */
  routes: RouteSpec[];
  tokens: TokenTable;
  sessionSecret: Buffer;
  logger: Logger;
}

export function consoleRouter(_deps: ConsoleDeps): Router {
  return Router();
}

/** The principal of a signed-in console session, if the request carries a valid one. */
export function sessionPrincipal(_deps: ConsoleDeps, _req: Request): Principal | undefined {
  return undefined;
}
