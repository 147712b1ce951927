// The audit trail anyone can verify (docs/audit.md): a case's export, for reviewers, seniors and admins (an ended
// case's from the archive), and the public keys its signature is checked with, for anyone.
import { z } from 'zod';
import { auditExportOf } from '../audit-export';
import type { CaseService } from '../case-service';
import type { AuditKeyRing } from '../../infra/audit-keys';
import { Problem } from '../../web/problems';
import * as S from '../schemas';
import { REVIEWERS, route, type RouteSpec } from './spec';

const HEX64 = z.string().regex(/^[0-9a-f]{64}$/);

const AuditEntry = z
  .looseObject({
    at: z.string(),
    actor: z.strictObject({ kind: z.string(), id: z.string() }),
    type: z.string(),
    digests: z
      .record(z.string(), HEX64)
      .optional()
      .describe(
        'Each detail written in words (a statement, an answer, a rationale, evidence...) by the SHA-256 of its RFC 8785 canonical JSON: the words themselves are never exported',
      ),
  })
  .describe(
    "The entry as chained: its time, actor, type, the details that are codes, numbers, times and IDs, and the words' digests",
  );

export const AuditExportAnswer = z
  .strictObject({
    caseId: z.string(),
    rulesVersion: z
      .number()
      .describe('The rules the case opened under: from 4, entries are hashed as they are written'),
    erased: z
      .strictObject({ erasureId: z.string(), at: z.string() })
      .optional()
      .describe("The erasure that removed the case's words (digests and hashes stay); not signed"),
    entries: z.array(
      z.strictObject({
        entry: AuditEntry,
        hash: HEX64.nullable().describe(
          "SHA-256 of the previous entry's hash (the first: SHA-256 of `cordon-audit-1:<caseId>`) followed by the entry's canonical JSON; null when not chained",
        ),
      }),
    ),
    head: z
      .strictObject({
        caseId: z.string(),
        chained: z.boolean().describe('False for a case opened before rules 4: nothing proves its entries'),
        entryCount: z.number(),
        headHash: HEX64.nullable(),
        exportedAt: z.string(),
        keyId: z.string().describe('The key in GET /v1/audit-keys the signature is checked with'),
      })
      .describe('What the signature covers'),
    signature: z.string().describe("Ed25519 over the head's RFC 8785 canonical JSON (UTF-8), base64"),
  })
  .meta({ id: 'AuditExport' });

export const AuditKeysAnswer = z
  .strictObject({
    keys: z.array(
      z.strictObject({
        keyId: z.string(),
        algorithm: z.literal('Ed25519'),
        publicKey: z.string().describe('SubjectPublicKeyInfo, PEM'),
        publicKeyJwk: z.looseObject({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string() }),
        signing: z
          .boolean()
          .describe('Signs exports now; the others verify exports signed before a rotation'),
      }),
    ),
  })
  .meta({ id: 'AuditKeys' });

/** `auditKeys` is asked for at each call: a route table built without it (for its shape only) still builds. */
export function auditRoutes(d: { cases: CaseService; auditKeys: AuditKeyRing }): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/v1/cases/:caseId/audit',
      summary:
        "A case's audit export: every timeline entry as chained (words by their digests only) with its hash, and a head signed with Ed25519; an ended case's from the archive. Check it with `npx cordon audit verify` (docs/audit.md)",
      roles: REVIEWERS,
      params: S.CaseIdParams,
      answerSchema: AuditExportAnswer,
      handle: async ({ params }) => {
        const found = await d.cases.findCase(params.caseId);
        if (!found)
          throw new Problem(404, 'Case not found', `no case ${params.caseId}`, { code: 'CASE_NOT_FOUND' });
        return auditExportOf(found.view, d.auditKeys, new Date());
      },
    }),
    route({
      method: 'get',
      path: '/v1/audit-keys',
      summary:
        'The public keys audit exports are signed with (no token): the signing key and those kept after a rotation',
      roles: 'public',
      answerSchema: AuditKeysAnswer,
      handle: async () => d.auditKeys.published(),
    }),
  ];
}
