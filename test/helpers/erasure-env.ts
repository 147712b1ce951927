// What the erasure tests share: two admins (development has none), their two requests, and the scans that look
// for what an erased account could have left in Cordon's database, its evidence folder and Temporal.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { caseWorkflowId } from '../../core/contracts';
import type { Database } from '../../infra/database';
import { evidenceHeader } from '../../infra/evidence/seal';
import { call, filesUnder } from './personal-case';

/** Development has no admin token: two are added, for the two admins four-eyes needs. */
export const ADMIN_1 = `erasure-admin-one-${randomUUID()}`;
export const ADMIN_2 = `erasure-admin-two-${randomUUID()}`;
export const TOKENS = `${ADMIN_1}=admin:admin-one,${ADMIN_2}=admin:admin-two`;
export const ADMIN_ONE = { authorization: `Bearer ${ADMIN_1}` };
export const ADMIN_TWO = { authorization: `Bearer ${ADMIN_2}` };
export const requestErasure = (base: string, accountId: string, requestId = `er-${randomUUID()}`) =>
  call(base, 'POST', `/v1/accounts/${accountId}/erasure`, ADMIN_ONE, {
    requestId,
    reason: 'DATA_SUBJECT_REQUEST',
  });
export const approve = (base: string, erasureId: string, who = ADMIN_TWO, requestId = `ap-${randomUUID()}`) =>
  call(base, 'POST', `/v1/erasures/${erasureId}/approval`, who, { requestId });

/** Every table of the database, each row's values. */
export async function everyRow(db: Database): Promise<{ table: string; row: Record<string, unknown> }[]> {
  const tables =
    db.dialect === 'postgres'
      ? await db.query<{ name: string }>(
          "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'",
        )
      : await db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'");
  const out: { table: string; row: Record<string, unknown> }[] = [];
  for (const { name } of tables)
    for (const row of await db.query(`SELECT * FROM ${name}`)) out.push({ table: name, row });
  return out;
}

/**
 * Where anything sealed under this data key still is: text values in its envelope and evidence bytes whose
 * header names it, in every live row of every table and in the evidence folder.
 */
export async function sealedUnder(db: Database, keyId: string, evidenceDir?: string): Promise<string[]> {
  const found: string[] = [];
  for (const { table, row } of await everyRow(db))
    for (const [column, value] of Object.entries(row)) {
      if (typeof value === 'string' && value.includes(`cdk1:${keyId}:`)) found.push(`${table}.${column}`);
      if (value instanceof Uint8Array && evidenceHeader(Buffer.from(value))?.keyId === keyId)
        found.push(`${table}.${column}`);
    }
  if (evidenceDir)
    for (const file of filesUnder(evidenceDir))
      if (evidenceHeader(file)?.keyId === keyId) found.push('evidence folder');
  return found;
}

/** The account's workflow runs Temporal knows, by ID (visibility: eventually consistent). */
export async function runsOf(
  client: Client,
  accountId: string,
): Promise<{ workflowId: string; runId: string }[]> {
  const runs: { workflowId: string; runId: string }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = "${caseWorkflowId(accountId)}"` }))
    runs.push({ workflowId: wf.workflowId, runId: wf.runId });
  return runs;
}
