// What the console and the user's pages share of their languages: which there are, the choice from the
// browser's Accept-Language, the filling in of a text's {placeholders}, and durations as both write them.

export const LANGS = ['en', 'zh-CN'] as const;
export type Lang = (typeof LANGS)[number];

/** The text with each {name} replaced by its value; a name without a value stays as written. */
export function fill(text: string, vars: Record<string, string | number> = {}): string {
  return text.replace(/\{(\w+)\}/g, (m, name: string) => String(vars[name] ?? m));
}

/** The switch's cookie if set, else the first supported language of Accept-Language by weight, else English. */
export function chooseLang(cookie: string | undefined, acceptLanguage: string | undefined): Lang {
  if (cookie === 'en' || cookie === 'zh-CN') return cookie;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((r) => r.tag && r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

export type Unit = 'd' | 'h' | 'min' | 's';

/** The units of a duration in each language; the console's dictionaries take them in as keys d, h, min, s. */
export const UNITS: Record<Lang, Record<Unit, string>> = {
  en: { h: 'h', min: 'min', d: 'd', s: 's' },
  'zh-CN': { h: '小时', min: '分钟', d: '天', s: '秒' },
};

/** The units' names in a language. */
export const unitsIn =
  (lang: Lang) =>
  (u: Unit): string =>
    UNITS[lang][u];

/** "2 h 5 min", "3 d 4 h", "45 s": the two largest units, named by `unit` (unitsIn, or the console's translator). */
export function duration(unit: (u: Unit) => string, ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const parts: [number, Unit][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3_600), 'h'],
    [Math.floor((s % 3_600) / 60), 'min'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return `0 ${unit('s')}`;
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n} ${unit(u)}`)
    .join(' ');
}
