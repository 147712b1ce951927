// The frame of every user page: the language switch, the stylesheet, the safety line. No script at all.
import { href, html, type Html } from '../web/html';
import { PORTAL_CSS_PATH } from './assets';
import type { PortalContext } from './context';
import { LANGS, portalTranslator, type Lang } from './i18n';

/** The page around a body. `path` is where the language switch points (this page, in the other language). */
export function layout(ctx: PortalContext, title: string, body: Html, path?: string): string {
  const { t } = ctx;
  const other = LANGS.filter((l) => l !== ctx.lang);
  const switchTo = (l: Lang) =>
    // Without a path (the neutral page) the link keeps whatever path the browser is on.
    path ? href(path, { lang: l, tz: ctx.tz }) : `?${new URLSearchParams({ lang: l }).toString()}`;
  return html`<!doctype html>
    <html lang="${ctx.lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <title>${title} · ${t('app')}</title>
        <link rel="stylesheet" href="${PORTAL_CSS_PATH}" />
      </head>
      <body>
        <header class="top">
          <span class="brand">${t('app')}</span>
          <nav class="lang" aria-label="${t('switchTo')}">
            ${other.map(
              (l) =>
                html`<a href="${switchTo(l)}" hreflang="${l}" lang="${l}"
                  >${portalTranslator(l)('langName')}</a
                >`,
            )}
          </nav>
        </header>
        <main id="main">${body}</main>
        <footer class="foot"><p>${t('safety')}</p></footer>
      </body>
    </html>`.text;
}
