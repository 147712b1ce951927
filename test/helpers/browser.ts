// A real headless Chromium for the console's tests: Debian's chromium by default, CORDON_CHROMIUM to use another.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CORDON_CHROMIUM || '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH });
}

export interface ReviewerPage {
  context: BrowserContext;
  page: Page;
  /** Page errors and console errors (a Content-Security-Policy violation is one): a test expects none. */
  problems: string[];
}

/** A fresh browser profile (its own cookies) whose Accept-Language is the locale's. */
export async function openPage(browser: Browser, baseURL: string, locale = 'en-US'): Promise<ReviewerPage> {
  const context = await browser.newContext({ baseURL, locale, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // A refused action answers 4xx on purpose; Chromium logs that as a failed load, which is no fault.
    if (
      msg.type() === 'error' &&
      !/^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())
    )
      problems.push(`console error: ${msg.text()}`);
  });
  return { context, page, problems };
}

/** Signs in through the sign-in form, from wherever the console sends a visitor who is not signed in. */
export async function signIn(page: Page, token: string, start = '/console/'): Promise<void> {
  await page.goto(start);
  await page.locator('#token').fill(token);
  await Promise.all([
    page.waitForURL((url) => !url.pathname.endsWith('/login')),
    page.locator('form[action="/console/login"] button').click(),
  ]);
}

export const SCREENSHOTS_DIR = join(__dirname, '..', '..', 'docs', 'screenshots');

/** With CORDON_SCREENSHOTS=1, saves the page as docs/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.CORDON_SCREENSHOTS !== '1') return;
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
}
