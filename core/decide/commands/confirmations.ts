import { randomUUID } from 'node:crypto';
import { type Card, card } from '../../cards/card.js';
import type { I18n, Locale } from '../../i18n/i18n.js';
import type { InboundMessage } from '../../messages/inbound.js';
import type { CommandNode } from './registry.js';
import type { Caller } from './spec.js';

/** How long a Confirm button works. */
const CONFIRM_TTL_MS = 2 * 60_000;

export interface PendingConfirmation {
  node: CommandNode;
  message: InboundMessage;
  values: Record<string, unknown>;
  userId: string;
  expiresAt: number;
}

/**
 * Commands that ask before they run (`confirm: true`, unless `--yes`): the question card with
 * its Confirm button, and the parsed command kept until the one who asked clicks (2 minutes,
 * in memory: a restart forgets them, and the command is typed again with `--yes`).
 */
export class PendingConfirmations {
  private readonly pending = new Map<string, PendingConfirmation>();

  constructor(
    private readonly i18n: I18n,
    private readonly locale: Locale,
    private readonly now: () => number,
  ) {}

  /** Keeps the parsed command and returns the card that asks. */
  ask(node: CommandNode, message: InboundMessage, values: Record<string, unknown>, caller: Caller): Card {
    const nonce = randomUUID();
    const now = this.now();
    for (const [k, p] of this.pending) if (p.expiresAt < now) this.pending.delete(k);
    this.pending.set(nonce, {
      node,
      message,
      values,
      userId: caller.userId,
      expiresAt: now + CONFIRM_TTL_MS,
    });
    const t = (key: string, vars?: Record<string, unknown>) => this.i18n.t(key, vars, this.locale);
    const question =
      typeof node.spec.confirm === 'object' || typeof node.spec.confirm === 'string'
        ? this.i18n.text(node.spec.confirm, this.locale)
        : t('pipeline.confirmQuestion', { command: node.path });
    return card({
      title: t('pipeline.confirmTitle'),
      status: 'warning',
      body: question,
      buttons: [
        {
          text: t('pipeline.confirmButton'),
          style: 'danger',
          action: { id: 'core.confirm', params: { nonce } },
        },
      ],
      footer: t('pipeline.confirmFooter', { command: `${message.text.trim()} --yes` }),
    });
  }

  /** The pending command for its nonce, once, and only for who asked. */
  take(nonce: string, userId: string): PendingConfirmation | 'expired' | 'notYours' {
    const pending = this.pending.get(nonce);
    if (!pending || pending.expiresAt < this.now()) {
      this.pending.delete(nonce);
      return 'expired';
    }
    if (pending.userId !== userId) return 'notYours';
    this.pending.delete(nonce);
    return pending;
  }
}
