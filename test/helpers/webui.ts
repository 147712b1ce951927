// An operator reading a case in the Temporal Web UI, in headless Chromium: signed in at a Cordon API's /console
// (or not), the case's workflow page opened in the Web UI, its text read once the payloads are decoded (or once
// the UI has given up and shows ciphertext). For test/webui.test.ts (npm start) and test/cluster.test.ts.
import type { Browser, Page } from 'playwright-core';
import { caseWorkflowId } from '../../core/contracts';
import { ENCODING_ENCRYPTED } from '../../infra/codec';
import { openPage, signIn } from './browser';

/** The codec's encoding marker as the Web UI shows an undecoded payload: as text, and in base64 metadata. */
export const CIPHERTEXT_MARKERS = [ENCODING_ENCRYPTED, Buffer.from(ENCODING_ENCRYPTED).toString('base64')];

/** What only decoded payloads show on a freezing case's page: the workflow's input, and an activity's summary. */
export const decodedTexts = (account: string): string[] => [
  `"accountId": "${account}"`,
  '"firstOfAccount": true',
  'apply FREEZE, then send notice RESTRICTED',
];

const decoded = (account: string, text: string) =>
  decodedTexts(account).every((w) => text.includes(w)) && !CIPHERTEXT_MARKERS.some((m) => text.includes(m));
const ciphertext = (text: string) => CIPHERTEXT_MARKERS.some((m) => text.includes(m));

/** Polls the page's text until check passes; answers the last text either way. */
async function pageTextUntil(page: Page, check: (text: string) => boolean, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = await page.locator('body').innerText();
    if (check(text) || Date.now() > deadline) return text;
    await page.waitForTimeout(250);
  }
}

export interface CaseInWebUi {
  /** The page's text once decoded (signed in) or once ciphertext shows (not), or at the time limit. */
  text: string;
  /** The status of every /codec/decode call the page made. */
  decodes: number[];
}

/**
 * Opens a freezing case's workflow in the Web UI in a fresh browser profile, after signing in at
 * `<signInAt>/console` with `token` when both are given.
 */
export async function readCaseInWebUi(
  browser: Browser,
  o: { webUi: string; account: string; signInAt?: string; token?: string; timeoutMs?: number },
): Promise<CaseInWebUi> {
  const { page, context } = await openPage(browser, o.signInAt ?? o.webUi);
  try {
    const decodes: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.endsWith('/codec/decode')) decodes.push(r.status());
    });
    const signedIn = Boolean(o.signInAt && o.token);
    if (signedIn) await signIn(page, o.token!);
    await page.goto(
      `${o.webUi}/namespaces/default/workflows/${encodeURIComponent(caseWorkflowId(o.account))}`,
    );
    const text = await pageTextUntil(
      page,
      (t) => (signedIn ? decoded(o.account, t) : ciphertext(t)),
      o.timeoutMs ?? 60_000,
    );
    return { text, decodes };
  } finally {
    await context.close();
  }
}
