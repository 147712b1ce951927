// The risk events the tracing test sends (test/tracing.test.ts): one that restricts and carries personal data
// no span may hold, posted over real HTTP, and the trace header Temporal's interceptors put on its update.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { caseWorkflowId } from '../../core/contracts';
import { riskEvent } from './events';
import { sharedConnections } from './harness';
import { testCodec } from './servers';

/** An event that restricts (the default policy freezes a failed identity check), with personal data in it. */
export function restrictingEvent(accountId: string) {
  const tag = randomUUID().slice(0, 8);
  const personal = {
    email: `mei.lin.${tag}@example.test`,
    phone: `+86 139 ${String(randomInt(10_000)).padStart(4, '0')} ${String(randomInt(10_000)).padStart(4, '0')}`,
    device: `device-fp-${tag}`,
    payee: `payee-iban-${tag}`,
  };
  const event = {
    ...riskEvent(accountId, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
    contact: { email: personal.email, phone: personal.phone },
    entities: { device: personal.device, payee: personal.payee },
  };
  return { event, personal };
}

export async function postEvent(
  base: string,
  body: unknown,
  requestId: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${base}/v1/risk-events`, {
    method: 'POST',
    headers: {
      authorization: 'Bearer dev-backend',
      'content-type': 'application/json',
      'x-request-id': requestId,
      ...headers,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as { caseId: string; status: string; decision: { tier: string } };
}

/** The `_tracer-data` header of the case's accepted risk-event update, decoded (undefined: none). */
export async function updateTraceHeader(accountId: string): Promise<Record<string, string> | undefined> {
  const { client } = await sharedConnections();
  const history = await client.workflow.getHandle(caseWorkflowId(accountId)).fetchHistory();
  const accepted = history.events?.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes)
    ?.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
  assert.equal(accepted?.name, 'riskEvent', 'the history holds the accepted risk-event update');
  const header: Payload | undefined = accepted?.header?.fields?.['_tracer-data'];
  if (!header) return undefined;
  const [plain] = await testCodec.decode([header]);
  return JSON.parse(Buffer.from(plain!.data!).toString('utf8')) as Record<string, string>;
}
