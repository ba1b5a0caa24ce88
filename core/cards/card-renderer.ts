import type { I18n, Locale } from '../i18n/i18n.js';
import { truncateMarkdown, truncateUtf8 } from '../util/bytes.js';
import { token } from '../util/di-token.js';
import type { OutboundContent } from './card.js';
import { type Card, isCard } from './card.js';
import { LIMITS, type RenderLimits } from './limits.js';
import { type RobotMessage, renderActionCard } from './render-action-card.js';
import type { RenderContext } from './render-context.js';
import { renderInteractive } from './render-interactive.js';
import { renderMarkdown } from './render-markdown.js';
import { renderText } from './render-text.js';

/** What a destination can show. */
export interface TargetCapabilities {
  /** Interactive cards (a template id is configured and the card API is usable here). */
  interactive: boolean;
}

export type RenderedMessage =
  | { kind: 'text'; content: string; plain: string }
  | { kind: 'markdown'; title: string; text: string; plain: string }
  | { kind: 'actionCard'; robot: RobotMessage; plain: string }
  | {
      kind: 'interactive';
      templateId: string;
      cardParamMap: Record<string, string>;
      fallback: { title: string; text: string };
      plain: string;
    };

/** Picks the richest form a destination supports and renders the card model to it. */
export class CardRenderer {
  constructor(
    private readonly i18n: I18n,
    private readonly options: { cardTemplateId?: string; limits?: Partial<RenderLimits> } = {},
  ) {}

  context(locale: Locale): RenderContext {
    return {
      text: (v, l) => this.i18n.text(v, l ?? locale),
      t: (k, vars, l) => this.i18n.t(k, vars, l ?? locale),
      locale,
      limits: { ...LIMITS, ...this.options.limits },
    };
  }

  get templateId(): string | undefined {
    return this.options.cardTemplateId;
  }

  render(
    content: OutboundContent,
    target: TargetCapabilities,
    locale: Locale = this.i18n.defaultLocale,
  ): RenderedMessage {
    const ctx = this.context(locale);
    if (typeof content === 'string') {
      const text = truncateUtf8(content, ctx.limits.messageBytes);
      return { kind: 'text', content: text, plain: text };
    }
    if (!isCard(content)) {
      const text = truncateMarkdown(
        content.markdown,
        Math.min(ctx.limits.markdownBytes, ctx.limits.messageBytes),
      );
      return { kind: 'markdown', title: content.title ?? firstLine(content.markdown), text, plain: text };
    }
    const plain = renderText(content, ctx);
    const hasCallbacks = (content.buttons ?? []).some((b) => b.action);
    if (hasCallbacks && target.interactive && this.options.cardTemplateId) {
      return {
        kind: 'interactive',
        templateId: this.options.cardTemplateId,
        cardParamMap: renderInteractive(content, ctx),
        fallback: renderMarkdown(content, ctx),
        plain,
      };
    }
    const action = renderActionCard(content, ctx);
    if (action) return { kind: 'actionCard', robot: action, plain };
    const md = renderMarkdown(content, ctx);
    return { kind: 'markdown', title: md.title, text: md.text, plain };
  }

  /** Plain text of any content (logs, terminals, tests). */
  plain(content: OutboundContent, locale?: Locale): string {
    return this.render(content, { interactive: false }, locale).plain;
  }
}

function firstLine(s: string): string {
  return (s.split('\n', 1)[0] ?? '').replace(/^#+\s*/, '').slice(0, 60);
}

export type { Card };

/** The DI token of the CardRenderer. */
export const RendererToken = token<CardRenderer>('Renderer');
