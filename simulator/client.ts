import type { SimMessage, SimState } from './state.js';
import type { CardView, SayResult, TestApi } from './test-api.js';

export interface SayOptions {
  /** Group title or openConversationId; omit for a direct message to the bot. */
  group?: string;
  /** @mention the bot (default true; group messages without it never reach the bot). */
  atBot?: boolean;
  /** Send it as DingTalk sends text with pictures or separate segments (`richText`). */
  format?: 'text' | 'richText';
  /** Pictures pasted in (richText). */
  pictures?: number;
}

/**
 * The simulator for tests, in-process:
 *
 * ```ts
 * const sent = await sim.as('alice').say('help', { group: 'ops' });
 * const reply = await sim.nextReply(sent);              // the bot's next message there
 * const card = await sim.as('bob').click(reply, { action: 'alerts.ack', id: '12' });
 * ```
 */
export class SimClient {
  constructor(
    readonly api: TestApi,
    readonly state: SimState,
  ) {}

  as(user: string) {
    const say = (text: string, options: SayOptions): Promise<SayResult> =>
      this.api.say({
        conversation: options.group ?? null,
        sender: user,
        text,
        atBot: options.atBot,
        format: options.format,
        pictures: options.pictures,
      });
    return {
      say: (text: string, options: SayOptions = {}): Promise<SayResult> => say(text, options),
      /** Says something and waits for the bot's next message in that conversation. */
      ask: async (text: string, options: SayOptions & { timeoutMs?: number } = {}): Promise<SimMessage> => {
        const cursor = this.cursor();
        const sent = await say(text, options);
        return this.nextReply(sent.conversation, { after: cursor, timeoutMs: options.timeoutMs });
      },
      click: (card: SimMessage | string, params: Record<string, string>) =>
        this.api.click(typeof card === 'string' ? card : (card.cardId ?? ''), user, params),
    };
  }

  /** The latest message sequence number: pass it as `after` to wait only for what comes next. */
  cursor(): number {
    return this.state.messages.at(-1)?.seq ?? 0;
  }

  /** Waits for the bot's next message in a conversation (after `after`, default: now). */
  nextReply(
    conversation: string | SayResult,
    options: { after?: number; timeoutMs?: number } = {},
  ): Promise<SimMessage> {
    const conv =
      typeof conversation === 'string'
        ? (this.state.conversationId(conversation) ?? conversation)
        : conversation.conversation;
    const after = options.after ?? (typeof conversation === 'string' ? this.cursor() : 0);
    const match = (m: SimMessage) => m.conversation === conv && m.sender === 'bot' && m.seq > after;
    const existing = this.state.messages.find(match);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.state.off('message', onMessage);
        reject(new Error(`no reply from the bot in ${conv} within ${options.timeoutMs ?? 5000} ms`));
      }, options.timeoutMs ?? 5000);
      const onMessage = (m: SimMessage) => {
        if (!match(m)) return;
        clearTimeout(timer);
        this.state.off('message', onMessage);
        resolve(m);
      };
      this.state.on('message', onMessage);
    });
  }

  /** Every bot message in a conversation so far. */
  botMessages(conversation: string): SimMessage[] {
    const conv = this.state.conversationId(conversation) ?? conversation;
    return this.state.messages.filter((m) => m.conversation === conv && m.sender === 'bot');
  }

  card(outTrackId: string): CardView {
    return this.api.card(outTrackId);
  }

  /** Waits until a condition on the simulator holds (polling), for asynchronous effects. */
  async until<T>(check: () => T | undefined | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
