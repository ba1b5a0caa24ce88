import type { Card } from './card.js';
import { LIMITS } from './limits.js';
import type { RenderContext } from './render-context.js';
import { renderMarkdown } from './render-markdown.js';

/** OpenAPI robot message: `msgKey` and the `msgParam` object (stringified by the sender). */
export interface RobotMessage {
  msgKey: string;
  msgParam: Record<string, string>;
}

/**
 * Renders a card with link buttons as `sampleActionCard` (one button), `sampleActionCard2..5`
 * (vertical 2 to 5 buttons). Returns undefined when the card has no link buttons, since an
 * action card without buttons is just markdown.
 */
export function renderActionCard(card: Card, ctx: RenderContext): RobotMessage | undefined {
  const links = (card.buttons ?? [])
    .flatMap((b) => (b.url ? [{ ...b, url: b.url }] : []))
    .slice(0, LIMITS.actionCardButtons);
  const [first] = links;
  if (!first) return undefined;
  const withoutLinks = { ...card, buttons: (card.buttons ?? []).filter((b) => !b.url) };
  const md = renderMarkdown(withoutLinks, ctx);
  if (links.length === 1) {
    const b = first;
    return {
      msgKey: 'sampleActionCard',
      msgParam: {
        title: md.title,
        text: md.text,
        singleTitle: ctx.text(b.text, ctx.locale),
        singleURL: b.url,
      },
    };
  }
  const msgParam: Record<string, string> = { title: md.title, text: md.text };
  links.forEach((b, i) => {
    msgParam[`actionTitle${i + 1}`] = ctx.text(b.text, ctx.locale);
    msgParam[`actionURL${i + 1}`] = b.url;
  });
  return { msgKey: `sampleActionCard${links.length}`, msgParam };
}

/** Webhook (sessionWebhook) form of an action card: `btns` list. */
export function actionCardWebhookBody(msg: RobotMessage): Record<string, unknown> {
  const p = msg.msgParam;
  if (msg.msgKey === 'sampleActionCard') {
    return {
      msgtype: 'actionCard',
      actionCard: { title: p.title, text: p.text, singleTitle: p.singleTitle, singleURL: p.singleURL },
    };
  }
  const btns: Array<{ title: string; actionURL: string }> = [];
  for (let i = 1; ; i++) {
    const title = p[`actionTitle${i}`];
    if (!title) break;
    btns.push({ title, actionURL: p[`actionURL${i}`] ?? '' });
  }
  return { msgtype: 'actionCard', actionCard: { title: p.title, text: p.text, btnOrientation: '0', btns } };
}
