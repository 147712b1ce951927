// The payload codec endpoint for the Temporal Web UI (scaffold: filled in by the codec work).
import { Router, type Request } from 'express';
import type { Principal } from '../infra/config';

export interface CodecRouteDeps {
  /** Who is asking: a bearer token or a signed-in console session. */
  authorize(req: Request): Principal | undefined;
}

export function codecRouter(_deps: CodecRouteDeps): Router {
  return Router();
}
