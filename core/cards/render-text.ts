import type { Card } from './card.js';
import { fitLines } from './fit-lines.js';
import type { RenderContext } from './render-context.js';

/** Plain text for logs and terminals: numbered buttons so a terminal client can click by number. */
export function renderText(card: Card, ctx: RenderContext): string {
  const status = card.status && card.status !== 'neutral' ? `[${card.status.toUpperCase()}] ` : '';
  const lines: string[] = [`${status}${ctx.text(card.title, ctx.locale)}`];
  if (card.body) lines.push(...card.body.split('\n'));
  for (const f of card.fields ?? []) lines.push(`${ctx.text(f.label, ctx.locale)}: ${f.value}`);
  for (const s of card.sections ?? []) {
    if (s.title) lines.push(`${ctx.text(s.title, ctx.locale)}:`);
    for (const item of s.items) lines.push(`  - ${item}`);
  }
  (card.buttons ?? []).forEach((b, i) => {
    const target = b.url ?? b.command ?? b.action?.id ?? '';
    lines.push(`[${i + 1}] ${ctx.text(b.text, ctx.locale)}${target ? ` (${target})` : ''}`);
  });
  if (card.mentions?.length) lines.push(card.mentions.map((u) => `@${u}`).join(' '));
  if (card.footer) lines.push(ctx.text(card.footer, ctx.locale));
  return fitLines(lines, ctx.limits.messageBytes, (n) => ctx.t('card.moreLines', { count: n }, ctx.locale));
}
