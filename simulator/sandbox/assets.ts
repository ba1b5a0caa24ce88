import { readFileSync } from 'node:fs';
import { INLINED_ASSETS } from './asset-files.js';

/** Every file the page loads; nothing else is served (no path from a request reaches the disk). */
export const ASSET_FILES = [
  'index.html',
  'sandbox.css',
  'sandbox.js',
  'markdown.js',
  'cards.js',
  'panel.js',
  'dom.js',
  'i18n.js',
  'i18n-catalog.js',
  'icon.svg',
];

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
};

export function asset(name: string): { body: string; type: string } | undefined {
  if (!ASSET_FILES.includes(name)) return undefined;
  const body = INLINED_ASSETS?.[name] ?? readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');
  return { body, type: TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream' };
}
