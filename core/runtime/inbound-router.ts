import type { ActionPipeline } from '../decide/actions/action-pipeline.js';
import type { CommandPipeline } from '../decide/commands/command-pipeline.js';
import type { GroupRegistry } from '../directory/group-registry.js';
import type { EventBus } from '../events/event-bus.js';
import type { CardAction, DingTalkEvent, InboundMessage } from '../messages/inbound.js';
import type { ActionResult } from '../messages/outbound.js';
import type { Metrics } from '../observe/metrics.js';
import type { InboundSink } from '../receive/transport.js';

/**
 * Where transports hand what they received: messages to the command pipeline, card clicks
 * to the action pipeline, DingTalk events to the event bus. Work is counted so the bot's
 * stop can wait for it (a counter: cheaper than a Set per message).
 */
export class InboundRouter implements InboundSink {
  private inflight = 0;
  private drainWaiters: Array<() => void> = [];
  private accepting = true;

  constructor(
    private readonly metrics: Metrics,
    private readonly events: EventBus,
    private readonly pipeline: CommandPipeline,
    private readonly actionPipeline: ActionPipeline,
    private readonly groups: GroupRegistry,
  ) {}

  message(message: InboundMessage): Promise<void> {
    if (!this.accepting) return Promise.reject(new Error('bot is stopping'));
    this.metrics.inbound.inc(message.via, 'message');
    if (message.conversation.type === 'group')
      this.groups.seen(message.conversation.id, message.conversation.title);
    const work = this.events.listenerCount('message.received')
      ? this.events.emit('message.received', message).then(() => this.pipeline.handle(message))
      : this.pipeline.handle(message);
    return this.track(work);
  }

  action(action: CardAction): Promise<ActionResult> {
    if (!this.accepting) return Promise.reject(new Error('bot is stopping'));
    this.metrics.inbound.inc(action.via, 'action');
    return this.track(this.actionPipeline.handle(action));
  }

  event(event: DingTalkEvent): Promise<void> {
    if (!this.accepting) return Promise.reject(new Error('bot is stopping'));
    this.metrics.inbound.inc(event.via, 'event');
    return this.track(this.events.emit('dingtalk.event', event));
  }

  get inflightCount(): number {
    return this.inflight;
  }

  /** Refuses new work and resolves when what is running has finished, or after `deadlineMs`. */
  async drain(deadlineMs: number): Promise<'drained' | 'timeout'> {
    this.accepting = false;
    if (this.inflight === 0) return 'drained';
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), deadlineMs).unref());
    const drained = new Promise<'drained'>((r) => this.drainWaiters.push(() => r('drained')));
    return Promise.race([drained, timeout]);
  }

  private readonly settled = () => {
    if (--this.inflight === 0 && this.drainWaiters.length) {
      for (const w of this.drainWaiters.splice(0)) w();
    }
  };

  private track<T>(work: Promise<T>): Promise<T> {
    this.inflight++;
    work.then(this.settled, this.settled);
    return work;
  }
}
