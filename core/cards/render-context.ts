import type { I18nText, Locale } from '../i18n/i18n.js';
import type { RenderLimits } from './limits.js';

/** What a renderer needs besides the card: text resolution and the limits in force. */
export interface RenderContext {
  text: (value: I18nText | undefined, locale?: Locale) => string;
  t: (key: string, vars?: Record<string, unknown>, locale?: Locale) => string;
  locale: Locale;
  limits: RenderLimits;
}
