import type { SimApp } from '../org/org.js';
import type { CallRecord, SimMessage, SimState } from '../state.js';

/** A conversation as the sandbox lists it: a group, a scene group, or a user's chat with the bot. */
export interface ConversationView {
  id: string;
  title: string;
  kind: 'group' | 'scene' | 'dm';
  members: string[];
  /** Whether the bot can hear @mentions here (the cool app installed, or the scene group's robot). */
  botHere: boolean;
}

/** A message with what the page needs to draw it as DingTalk would. */
export interface MessageView extends SimMessage {
  senderName: string;
  /** For interactive cards: the template's variables, each user's private data, streamed text. */
  card?: {
    templateId: string;
    params: Record<string, string>;
    privateData: Record<string, Record<string, string>>;
    streaming: Record<string, { content: string; finalized: boolean; error: boolean }>;
    updates: number;
  };
}

/** An app as the panel shows it: everything but its secrets (client secret, AES key, token). */
export interface AppView {
  clientId: string;
  name: string;
  robotCode: string;
  edition: SimApp['edition'];
  mode: SimApp['mode'];
  published: boolean;
  qps: number;
  scopes: string[];
  /** Scopes the app had at start or has had since, so a removed one can be granted again. */
  knownScopes: string[];
  quota: { used: number; limit: number };
  connections: number;
}

export function messageView(state: SimState, m: SimMessage): MessageView {
  const senderName = m.sender === 'bot' ? botName(state) : (state.user(m.sender)?.name ?? m.sender);
  const card = m.cardId ? state.cards.get(m.cardId) : undefined;
  if (!card) return { ...m, senderName };
  const streaming: NonNullable<MessageView['card']>['streaming'] = {};
  for (const [key, s] of Object.entries(card.streaming))
    streaming[key] = { content: s.content, finalized: s.finalized, error: s.error };
  return {
    ...m,
    senderName,
    card: {
      templateId: card.templateId,
      params: card.params,
      privateData: card.privateData,
      streaming,
      updates: card.updates,
    },
  };
}

function botName(state: SimState): string {
  return state.org.apps[0]?.name ?? 'bot';
}

/**
 * The org's groups in their order, then each user's chat with the bot: a stable list, so what
 * someone (or a test) is about to click does not move when a message arrives.
 */
export function conversationViews(state: SimState): ConversationView[] {
  const groups: ConversationView[] = state.org.groups.map((g) => ({
    id: g.openConversationId,
    title: g.title,
    kind: g.templateId ? 'scene' : 'group',
    members: [...g.members],
    botHere: g.robotCode ? true : g.coolAppInstalled,
  }));
  const dms: ConversationView[] = state.org.users
    .filter((u) => !u.external)
    .map((u) => ({
      id: state.dmId(u.userId),
      title: u.name,
      kind: 'dm',
      members: [u.userId],
      botHere: true,
    }));
  return [...groups, ...dms];
}

export function appViews(
  state: SimState,
  knownScopes: Map<string, Set<string>>,
  connections: (app: string) => number,
): AppView[] {
  return state.org.apps.map((a) => {
    const known = knownScopes.get(a.clientId) ?? new Set<string>();
    for (const s of a.scopes) known.add(s);
    knownScopes.set(a.clientId, known);
    return {
      clientId: a.clientId,
      name: a.name,
      robotCode: a.robotCode,
      edition: a.edition,
      mode: a.mode,
      published: a.published !== false,
      qps: a.qps,
      scopes: [...a.scopes],
      knownScopes: [...known],
      quota: { used: state.monthly.get(a.clientId) ?? 0, limit: a.monthlyQuota },
      connections: connections(a.clientId),
    };
  });
}

/** The newest calls, newest last (the page keeps its own bounded log from here on). */
export function recentCalls(state: SimState, limit: number): CallRecord[] {
  return state.calls.slice(-limit);
}

/**
 * A page of a conversation's messages: the `limit` newest before `before` (all when 0).
 * One backward pass from the end, so opening a long conversation reads only what it shows
 * plus the messages of other conversations in between.
 */
export function messagePage(
  state: SimState,
  conversation: string,
  before: number,
  limit: number,
): { messages: MessageView[]; more: boolean } {
  const out: SimMessage[] = [];
  let more = false;
  for (let i = state.messages.length - 1; i >= 0; i--) {
    const m = state.messages[i] as SimMessage;
    if (m.conversation !== conversation || (before > 0 && m.seq >= before)) continue;
    if (out.length === limit) {
      more = true;
      break;
    }
    out.push(m);
  }
  return { messages: out.reverse().map((m) => messageView(state, m)), more };
}
