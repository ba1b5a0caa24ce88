import type { I18nText, Locale } from '../i18n/i18n.js';
import { token } from '../util/di-token.js';
import type { Disposer } from '../util/disposer.js';

/** One line of `status`, `/readyz` and diagnostics. */
export interface StatusItem {
  /** What it is, in the reader's language (a catalog key with vars, or fixed text). */
  name: I18nText;
  ok: boolean;
  /** Short human text: "connected", "3 queued", ... (a catalog key with vars, or fixed text). */
  detail: I18nText;
  /** Must be ok for /readyz. */
  critical?: boolean;
}

/** A status line as shown: its texts in one language. */
export interface ShownStatusItem {
  name: string;
  ok: boolean;
  detail: string;
  critical?: boolean;
}

export type StatusProvider = () => StatusItem | StatusItem[] | Promise<StatusItem | StatusItem[]>;

/** Components (store, transport, outbox, plugins) report their state here. */
export class StatusBoard {
  private readonly providers = new Map<string, { owner: string; fn: StatusProvider }>();
  readonly startedAt = Date.now();

  /** Renders texts in a language (the bot's i18n; plain text as it is without one). */
  constructor(private readonly text: (value: I18nText, locale?: Locale) => string = (v) => String(v)) {}

  register(owner: string, key: string, fn: StatusProvider): Disposer {
    const id = `${owner}:${key}`;
    const entry = { owner, fn };
    this.providers.set(id, entry);
    return () => {
      if (this.providers.get(id) === entry) this.providers.delete(id);
    };
  }

  /** Every line, in `locale` (`status` in chat: the bot's language; `/readyz`: English for machines). */
  async collect(locale?: Locale): Promise<ShownStatusItem[]> {
    const out: ShownStatusItem[] = [];
    for (const [key, { fn }] of this.providers) {
      try {
        const r = await fn();
        for (const item of Array.isArray(r) ? r : [r])
          out.push({
            ...item,
            name: this.text(item.name, locale),
            detail: this.text(item.detail, locale),
          });
      } catch (err) {
        out.push({
          name: key,
          ok: false,
          detail: err instanceof Error ? err.message : String(err),
          critical: true,
        });
      }
    }
    return out;
  }
}

/** The DI token of the StatusBoard. */
export const StatusToken = token<StatusBoard>('Status');
