// The sandbox's own words in English and Chinese. What DingTalk and the bot say is shown as
// they said it; this is only the page around it. The language: `?lang=en|zh-CN`, else the
// one chosen before (kept in this browser), else the browser's.
import { CATALOG } from './i18n-catalog.js';

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'zh-CN', name: '中文' },
];

function pick() {
  const asked = new URLSearchParams(location.search).get('lang');
  const kept = localStorage.getItem('dingops.sandbox.lang');
  for (const wanted of [asked, kept, ...navigator.languages]) {
    if (!wanted) continue;
    if (CATALOG[wanted]) return wanted;
    if (wanted.toLowerCase().startsWith('zh')) return 'zh-CN';
    if (wanted.toLowerCase().startsWith('en')) return 'en';
  }
  return 'en';
}

export const lang = pick();

/** A phrase, with `{name}` filled from `vars` (the English one when a translation is missing). */
export function t(key, vars = {}) {
  const text = CATALOG[lang][key] ?? CATALOG.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** Fills the page's static text: `data-i18n` (text), `data-i18n-label` (aria-label), `data-i18n-placeholder`. */
export function translatePage(root = document) {
  document.documentElement.lang = lang;
  document.title = t('page.title');
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-label]'))
    node.setAttribute('aria-label', t(node.dataset.i18nLabel));
  for (const node of root.querySelectorAll('[data-i18n-placeholder]'))
    node.setAttribute('placeholder', t(node.dataset.i18nPlaceholder));
}

export function chooseLanguage(code) {
  localStorage.setItem('dingops.sandbox.lang', code);
  const url = new URL(location.href);
  url.searchParams.delete('lang');
  location.replace(url);
}
