import { truncateMarkdown } from '../util/bytes.js';
import type { Card, CardStatus } from './card.js';
import { fitItem, fitLines } from './fit-lines.js';
import type { RenderContext } from './render-context.js';

/** Colours for the status variable of the dingops card template. */
export const STATUS_COLOR: Record<CardStatus, string> = {
  neutral: 'gray',
  info: 'blue',
  success: 'green',
  warning: 'orange',
  danger: 'red',
  critical: 'red',
};

/** One button as the card template receives it (in the `buttons` JSON param). */
export interface InteractiveButton {
  text: string;
  style: string;
  /** `callback` buttons post `{ action, ...params }` back; `link` buttons open `url`. */
  type: 'callback' | 'link';
  url?: string;
  params?: Record<string, string>;
}

/**
 * Renders a card for the dingops interactive card template: every value in
 * `cardParamMap` is a string (DingTalk requires it) of at most ~1 KB, so structured
 * parts are JSON-encoded and long text is cut with a "+N more" line.
 *
 * Template variables: title, status, color, markdown, fields (JSON [{label,value}]),
 * buttons (JSON InteractiveButton[]), footer, mentions (JSON userIds).
 */
export function renderInteractive(card: Card, ctx: RenderContext): Record<string, string> {
  const max = ctx.limits.cardParamValueBytes;
  const more = (n: number) => ctx.t('card.moreLines', { count: n }, ctx.locale);
  const bodyLines: string[] = card.body ? card.body.split('\n') : [];
  for (const s of card.sections ?? []) {
    if (s.title) bodyLines.push('', `**${ctx.text(s.title, ctx.locale)}**`);
    for (const item of s.items) bodyLines.push(`- ${fitItem(item)}`);
  }
  const buttons: InteractiveButton[] = (card.buttons ?? []).map((b) =>
    b.url
      ? { text: ctx.text(b.text, ctx.locale), style: b.style ?? 'default', type: 'link', url: b.url }
      : {
          text: ctx.text(b.text, ctx.locale),
          style: b.style ?? 'default',
          type: 'callback',
          params: { action: b.action?.id ?? '', ...(b.action?.params ?? {}) },
        },
  );
  const fields = (card.fields ?? []).map((f) => ({
    label: ctx.text(f.label, ctx.locale),
    value: truncateMarkdown(f.value, 200),
  }));
  while (fields.length && JSON.stringify(fields).length > max) fields.pop();
  return {
    title: truncateMarkdown(ctx.text(card.title, ctx.locale), 200),
    status: card.status ?? 'neutral',
    color: STATUS_COLOR[card.status ?? 'neutral'],
    markdown: fitLines(bodyLines, max, more),
    fields: JSON.stringify(fields),
    buttons: JSON.stringify(buttons),
    footer: truncateMarkdown(ctx.text(card.footer, ctx.locale), 200),
    mentions: JSON.stringify(card.mentions ?? []),
  };
}
