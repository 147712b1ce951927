// Cases brought to an end over the API, for the tests of what the user reads after a decision (the outcome
// page, the decision letter, the final mail): opened by a risk event with the user's contact, appealed by the
// backend for the user, claimed and decided by reviewers, and the link the user's mail carries.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CaseView } from '../../core/contracts';
import { signLink } from '../../infra/links';
import { eventually } from './harness';
import { caseLinkIn, mailsTo, type PortalEnv } from './portal-env';

export type Lang = 'en' | 'zh-CN';
export const LANGS: Lang[] = ['en', 'zh-CN'];
export const ZONE = 'Asia/Shanghai';

export const TOKENS = {
  backend: 'dev-backend',
  reviewer1: 'dev-reviewer-1',
  reviewer2: 'dev-reviewer-2',
  senior: 'dev-senior',
} as const;

export interface Answer {
  status: number;
  json: any;
}

export function apiOf(env: PortalEnv) {
  const api = async (
    path: string,
    o: { method?: string; body?: unknown; token?: string } = {},
  ): Promise<Answer> => {
    const res = await fetch(`${env.api.url}${path}`, {
      method: o.method ?? 'GET',
      headers: {
        authorization: `Bearer ${o.token ?? TOKENS.backend}`,
        'content-type': 'application/json',
      },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
    return { status: res.status, json: await res.json() };
  };
  const post = (path: string, body: unknown, token: string = TOKENS.backend) =>
    api(path, { method: 'POST', body, token });
  const caseOf = async (caseId: string) => (await api(`/v1/cases/${caseId}`)).json as CaseView;

  /** A case opened by an event of `type` for a new account, in the language, with the user's contact. */
  const open = async (
    lang: Lang,
    type: string,
    attributes: Record<string, unknown>,
  ): Promise<{ caseId: string; accountId: string; email: string }> => {
    const accountId = `acct-out-${randomUUID().slice(0, 8)}`;
    const email = `${accountId}@example.test`;
    const res = await post('/v1/risk-events', {
      eventId: `evt-${randomUUID()}`,
      accountId,
      type,
      occurredAt: new Date().toISOString(),
      attributes,
      locale: lang,
      contact: { email, timeZone: ZONE },
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.ok(res.json.caseId, `the event opened a case: ${JSON.stringify(res.json)}`);
    return { caseId: res.json.caseId as string, accountId, email };
  };

  /** The backend appeals for the user and `token` claims the case (visibility may lag: claimed once it can). */
  const appealAndClaim = async (caseId: string, token: string = TOKENS.reviewer1) => {
    const appealed = await post(`/v1/cases/${caseId}/appeal`, {
      statement: 'I did nothing wrong.',
      requestId: `a-${randomUUID()}`,
    });
    assert.equal(appealed.status, 200, JSON.stringify(appealed.json));
    await eventually(async () => (await post(`/v1/cases/${caseId}/claim`, {}, token)).status === 200);
  };

  const decide = async (
    caseId: string,
    decision: 'UNLOCK' | 'UPHOLD' | 'CLOSE',
    explanation?: { code: string; text: string },
    token: string = TOKENS.reviewer1,
  ): Promise<Answer> =>
    post(
      `/v1/cases/${caseId}/decision`,
      {
        decision,
        rationale: 'Checked against the records.',
        requestId: `d-${randomUUID()}`,
        ...(explanation ? { explanation } : {}),
      },
      token,
    );

  /** An identity mismatch (FREEZE), appealed, claimed by reviewer 1 and decided. */
  const decided = async (
    lang: Lang,
    decision: 'UNLOCK' | 'UPHOLD',
    explanation?: { code: string; text: string },
  ) => {
    const opened = await open(lang, 'IDENTITY_CHECK', { matched: false, field: 'name' });
    await appealAndClaim(opened.caseId);
    const answer = await decide(opened.caseId, decision, explanation);
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    return opened;
  };

  /** The link to the case's page a user's mail carries (signed with the API's keys, as the mails are). */
  const linkTo = (caseId: string, lang: Lang) => {
    const token = signLink(env.linkKeys, {
      caseId,
      purpose: 'case',
      expiresAt: Date.now() + 3_600_000,
    });
    return `${env.api.url}/u/${token}?lang=${lang}&tz=${encodeURIComponent(ZONE)}`;
  };

  /** The link in the first mail the user received. */
  const mailedLink = async (email: string) => caseLinkIn((await mailsTo(env.smtp, email))[0]!);

  return { api, post, caseOf, open, appealAndClaim, decide, decided, linkTo, mailedLink };
}
