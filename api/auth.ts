// Bearer-token authentication and role checks.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { Principal, Role, TokenTable } from '../infra/config';
import { Problem } from '../web/problems';

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Finds the principal of a request's bearer token. The presented token and every configured token are hashed
 * to SHA-256 and compared with timingSafeEqual, all of them every time: how long the check takes says nothing
 * about how much of a token was right, nor which token matched. Only configured tokens can match, so names
 * such as `constructor` or `__proto__` are just unknown tokens.
 */
export function createAuthenticator(tokens: TokenTable): (req: Request) => Principal {
  const table = [...tokens].map(([token, principal]) => ({ digest: sha256(token), principal }));
  return (req) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const presented = sha256(match?.[1] ?? '');
    let principal: Principal | undefined;
    for (const entry of table) {
      const same = timingSafeEqual(presented, entry.digest);
      principal = same && match && !principal ? entry.principal : principal;
    }
    if (!principal)
      throw new Problem(401, 'Unauthorized', 'a valid bearer token is required', {
        code: 'UNAUTHORIZED',
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    return principal;
  };
}

/** 403 unless the principal has one of the roles. */
export function requireRole(principal: Principal, roles: readonly Role[]): void {
  if (!roles.includes(principal.role))
    throw new Problem(403, 'Forbidden', `this action needs one of the roles: ${roles.join(', ')}`, {
      code: 'FORBIDDEN',
    });
}
