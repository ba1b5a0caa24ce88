import { token } from '../util/di-token.js';
import type { Disposer } from '../util/disposer.js';
export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** A catalog: message key -> template with `{name}` placeholders. */
export type Catalog = Record<string, string>;
export type Catalogs = Record<Locale, Catalog>;

/** Text that is either a message key resolved at render time or fixed per-locale text. */
export type I18nText =
  | string
  | { key: string; vars?: Record<string, unknown> }
  | Partial<Record<Locale, string>>;

export type Translate = (key: string, vars?: Record<string, unknown>, locale?: Locale) => string;

const PLACEHOLDER = /\{(\w+)\}/g;

/**
 * The one layer every user-facing string passes through. Catalogs are added per
 * namespace (the core, then each plugin); a key missing in a locale falls back to
 * English and then to the key itself, so a gap shows up instead of crashing.
 */
export class I18n {
  private readonly catalogs: Record<Locale, Map<string, string>> = { 'zh-CN': new Map(), en: new Map() };

  constructor(public defaultLocale: Locale = 'zh-CN') {}

  /**
   * Adds messages; with a namespace, keys are stored as `<namespace>.<key>`. The disposer
   * removes the messages this call added (those another call replaced since stay).
   */
  add(catalogs: Partial<Catalogs>, namespace?: string): Disposer {
    const added: Array<[Map<string, string>, string, string]> = [];
    for (const locale of LOCALES) {
      const cat = catalogs[locale];
      const target = this.catalogs[locale];
      if (!cat) continue;
      for (const [k, v] of Object.entries(cat)) {
        const key = namespace ? `${namespace}.${k}` : k;
        target.set(key, v);
        added.push([target, key, v]);
      }
    }
    return () => {
      for (const [target, key, v] of added) if (target.get(key) === v) target.delete(key);
    };
  }

  has(key: string, locale: Locale): boolean {
    return this.catalogs[locale].has(key);
  }

  keys(locale: Locale): string[] {
    return [...this.catalogs[locale].keys()];
  }

  t: Translate = (key, vars, locale = this.defaultLocale) => {
    const template = this.catalogs[locale].get(key) ?? this.catalogs.en.get(key) ?? key;
    if (!vars) return template;
    // A value that is itself a text to translate (`{ key }`) is rendered in the same language.
    return template.replace(PLACEHOLDER, (whole, name: string) => {
      if (!(name in vars)) return whole;
      const v = vars[name];
      return v && typeof v === 'object' && 'key' in v ? this.text(v as I18nText, locale) : String(v);
    });
  };

  /** Resolves an I18nText to a string in the given locale. */
  text(value: I18nText | undefined, locale: Locale = this.defaultLocale): string {
    if (value === undefined) return '';
    if (typeof value === 'string')
      return this.catalogs[locale].has(value) || this.catalogs.en.has(value)
        ? this.t(value, undefined, locale)
        : value;
    if ('key' in value && typeof value.key === 'string')
      return this.t(value.key, value.vars as Record<string, unknown>, locale);
    const fixed = value as Partial<Record<Locale, string>>;
    return fixed[locale] ?? fixed.en ?? fixed['zh-CN'] ?? '';
  }
}

/** Placeholders used by a template, to check that translations agree. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '').sort();
}

/** The DI token of the I18n. */
export const I18nToken = token<I18n>('I18n');
