import type { Logger } from 'pino';
import type { DingTalkEvent, InboundMessage } from '../messages/inbound.js';
import { token } from '../util/di-token.js';
import type { Disposer } from '../util/disposer.js';

/**
 * Events the core emits. Plugins add their own by declaration merging:
 * `declare module 'dingops' { interface DingopsEvents { 'alerts.incident.changed': Incident } }`
 * and emit them under their own name prefix.
 */
export interface DingopsEvents {
  'lifecycle.ready': { startedAt: number };
  'lifecycle.stopping': { reason: string };
  'message.received': InboundMessage;
  'dingtalk.event': DingTalkEvent;
  'group.installed': { openConversationId: string; title?: string; operator?: string };
  'group.uninstalled': { openConversationId: string; operator?: string };
  'group.renamed': { openConversationId: string; title: string; operator?: string };
  /** An admin bound a title of the config to a group (`groups bind`): the title now means it. */
  'group.bound': { title: string; openConversationId: string; by: string };
  /** A group other than the bound one carries a bound title (a rename, a new group): it gets nothing meant for it. */
  'group.titleTaken': { title: string; openConversationId: string; boundTo: string };
}

export type EventName = keyof DingopsEvents & string;
type Listener<E extends EventName> = (payload: DingopsEvents[E]) => void | Promise<void>;

/**
 * In-process event bus. A listener that throws or rejects is logged and does not stop
 * the others; `emit` resolves when every listener has settled.
 */
export class EventBus {
  // Keyed by event name; each list holds that event's listeners (typed where they are added).
  private readonly listeners = new Map<
    string,
    Array<{ fn: (payload: never) => void | Promise<void>; owner: string }>
  >();

  constructor(private readonly log: Logger) {}

  on<E extends EventName>(event: E, fn: Listener<E>, owner = 'core'): Disposer {
    const list = this.listeners.get(event) ?? [];
    const entry = { fn, owner };
    list.push(entry);
    this.listeners.set(event, list);
    return () => {
      const l = this.listeners.get(event);
      if (l)
        this.listeners.set(
          event,
          l.filter((x) => x !== entry),
        );
    };
  }

  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  async emit<E extends EventName>(event: E, payload: DingopsEvents[E]): Promise<void> {
    const list = this.listeners.get(event);
    if (!list?.length) return;
    await Promise.all(
      list.map(async ({ fn, owner }) => {
        try {
          await (fn as Listener<E>)(payload);
        } catch (err) {
          this.log.error({ err, event, owner }, 'event listener failed');
        }
      }),
    );
  }
}

/** The DI token of the EventBus. */
export const EventsToken = token<EventBus>('Events');
