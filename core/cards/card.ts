import type { I18nText } from '../i18n/i18n.js';

/** Severity/status colour of a card; renderers map it to DingTalk colours or emoji. */
export type CardStatus = 'neutral' | 'info' | 'success' | 'warning' | 'danger' | 'critical';

export interface CardField {
  label: I18nText;
  value: string;
}

/** A list section; long lists are cut by bytes with a visible "+N more" line. */
export interface CardSection {
  title?: I18nText;
  items: string[];
}

/** A button runs a card action (callback) or opens a link. */
export interface CardButton {
  text: I18nText;
  /** Callback: the action id (`<plugin>.<name>`) and its params; routed back through the action pipeline. */
  action?: { id: string; params?: Record<string, string> };
  url?: string;
  style?: 'primary' | 'danger' | 'default';
  /**
   * The command that does the same thing (e.g. `ack 12`). Shown where callback buttons
   * cannot be rendered (markdown, text), so every action stays reachable.
   */
  command?: string;
}

export interface Card {
  readonly kind: 'card';
  title: I18nText;
  status?: CardStatus;
  /** Markdown body. */
  body?: string;
  fields?: CardField[];
  sections?: CardSection[];
  buttons?: CardButton[];
  footer?: I18nText;
  /** userIds to @mention (rendered as `@userId` text and in the send's `at` list). */
  mentions?: string[];
}

export type CardInput = Omit<Card, 'kind'>;

/** Builds a card. */
export function card(input: CardInput): Card {
  return { kind: 'card', ...input };
}

export function isCard(value: unknown): value is Card {
  return typeof value === 'object' && value !== null && (value as Card).kind === 'card';
}

/** What a handler may send: plain text, markdown, or a card (rendered per destination). */
export type OutboundContent = string | { markdown: string; title?: string } | Card;
