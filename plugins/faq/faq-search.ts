import type { Locale } from 'dingops';
import MiniSearch from 'minisearch';
import type { FaqEntry } from './knowledge-base.js';

const HAN = /\p{Script=Han}/u;
/** Words that carry no meaning in a question. */
const STOP = new Set(
  'a an the is are am was be to of in on at for with and or my our your it its i we you do does did how what why when where which can cannot could should would there this that from by me us them they he she any some please help'.split(
    ' ',
  ),
);

/** A light English stemmer: enough for "responding" to meet "respond" and "replies" "reply". */
function stem(word: string): string {
  if (word.length <= 4) return word;
  for (const [suffix, keep] of [
    ['ies', 'y'],
    ['ing', ''],
    ['ed', ''],
    ['es', ''],
    ['s', ''],
    ['ly', ''],
  ] as const)
    if (word.endsWith(suffix) && word.length - suffix.length >= 3)
      return word.slice(0, -suffix.length) + keep;
  return word;
}

/**
 * Terms of a text in either language: English words (lower-cased, stop words dropped,
 * stemmed); Chinese, which has no spaces, as overlapping character pairs (and single
 * characters when alone), so "机器人群里没反应" meets "机器人" and "没反应".
 */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(/\p{Script=Han}+|[\p{L}\p{N}_.]+/gu)) {
    const s = m[0];
    if (HAN.test(s)) {
      const chars = [...s];
      if (chars.length === 1) out.push(s);
      // Overlapping pairs of characters (bigrams): Chinese has no spaces between words.
      for (const [i, ch] of chars.slice(1).entries()) out.push(`${chars[i]}${ch}`);
    } else if (!STOP.has(s)) out.push(stem(s.replace(/\.+$/, '')));
  }
  return out.filter(Boolean);
}

export interface FaqHit {
  entry: FaqEntry;
  score: number;
}

/**
 * Full-text search over both languages of every entry (MiniSearch): titles and keywords
 * weigh most; English terms tolerate a typo or two; results are per entry, best first.
 */
export class FaqSearch {
  /** Built on the first question: building it is most of the plugin's start-up (~50 ms) and memory. */
  private index: MiniSearch | undefined;
  private readonly byId: Map<string, FaqEntry>;

  constructor(private readonly entries: FaqEntry[]) {
    this.byId = new Map(entries.map((e) => [e.id, e]));
  }

  private built(): MiniSearch {
    if (this.index) return this.index;
    const index = new MiniSearch({
      fields: ['title', 'keywords', 'symptom', 'check', 'fix'],
      storeFields: ['entry'],
      tokenize: terms,
      processTerm: (t) => t,
      searchOptions: {
        boost: { title: 3, keywords: 2.5, symptom: 1.5 },
        fuzzy: (term) => (HAN.test(term) ? false : term.length > 6 ? 2 : term.length > 3 ? 1 : false),
        prefix: (term) => !HAN.test(term) && term.length > 3,
        combineWith: 'OR',
      },
    });
    for (const e of this.entries)
      for (const locale of ['en', 'zh-CN'] as const) {
        const t = e[locale];
        index.add({
          id: `${e.id}:${locale}`,
          entry: e.id,
          title: t.title,
          keywords: t.keywords.join(' '),
          symptom: t.symptom,
          check: t.check,
          fix: t.fix,
        });
      }
    this.index = index;
    return index;
  }

  get(id: string): FaqEntry | undefined {
    return this.byId.get(id);
  }

  all(): FaqEntry[] {
    return [...this.byId.values()];
  }

  search(question: string, limit = 3): FaqHit[] {
    const best = new Map<string, number>();
    for (const r of this.built().search(question)) {
      const id = r.entry as string;
      best.set(id, Math.max(best.get(id) ?? 0, r.score));
    }
    return [...best]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .flatMap(([id, score]) => {
        const entry = this.byId.get(id);
        return entry ? [{ entry, score }] : [];
      });
  }
}

/** The language a question is written in (Chinese when it has Chinese characters). */
export function questionLocale(question: string, fallback: Locale): Locale {
  return HAN.test(question) ? 'zh-CN' : /[a-z]/i.test(question) ? 'en' : fallback;
}
