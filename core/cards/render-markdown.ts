import { utf8Length } from '../util/bytes.js';
import type { Card, CardStatus } from './card.js';
import { fitItem, fitLines } from './fit-lines.js';
import type { RenderContext } from './render-context.js';

/** DingTalk markdown has no colours we can rely on everywhere; an emoji marks severity. */
export const STATUS_MARK: Record<CardStatus, string> = {
  neutral: '',
  info: '🔵',
  success: '🟢',
  warning: '🟠',
  danger: '🔴',
  critical: '🚨',
};

export interface MarkdownMessage {
  title: string;
  text: string;
}

/**
 * Renders a card as DingTalk markdown (`sampleMarkdown` / webhook `markdown`).
 * Callback buttons become "reply with `<command>`" hints; link buttons become links.
 */
export function renderMarkdown(
  card: Card,
  ctx: RenderContext,
  options: { includeCallbackHints?: boolean } = {},
): MarkdownMessage {
  const title = fitItem(ctx.text(card.title, ctx.locale), 200);
  const mark = card.status ? STATUS_MARK[card.status] : '';
  const head = `### ${mark ? `${mark} ` : ''}${title}`;
  const lines: string[] = [head];
  if (card.body) lines.push('', ...card.body.split('\n'));
  if (card.fields?.length) {
    lines.push('');
    for (const f of card.fields) lines.push(`- **${ctx.text(f.label, ctx.locale)}**: ${fitItem(f.value)}`);
  }
  for (const section of card.sections ?? []) {
    lines.push('');
    if (section.title) lines.push(`**${ctx.text(section.title, ctx.locale)}**`);
    for (const item of section.items) lines.push(`- ${fitItem(item)}`);
  }
  const tail: string[] = [];
  const links = (card.buttons ?? []).filter((b) => b.url);
  if (links.length)
    tail.push('', links.map((b) => `[${ctx.text(b.text, ctx.locale)}](${b.url})`).join(' | '));
  const hints = (card.buttons ?? []).filter((b) => !b.url && b.command);
  if (hints.length && options.includeCallbackHints !== false) {
    tail.push(
      '',
      ctx.t('card.replyWith', { commands: hints.map((b) => `\`${b.command}\``).join(' / ') }, ctx.locale),
    );
  }
  if (card.mentions?.length) tail.push('', card.mentions.map((u) => `@${u}`).join(' '));
  if (card.footer) tail.push('', `> ${ctx.text(card.footer, ctx.locale)}`);

  const tailText = tail.join('\n');
  const budget =
    Math.min(ctx.limits.markdownBytes, ctx.limits.messageBytes) -
    utf8Length(tailText) -
    utf8Length(title) -
    64;
  const text =
    fitLines(lines, Math.max(budget, 200), (n) => ctx.t('card.moreLines', { count: n }, ctx.locale)) +
    tailText;
  return { title, text };
}
