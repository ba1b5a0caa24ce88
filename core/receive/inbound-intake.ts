import type { Logger } from 'pino';
import { handling } from '../messages/handling-context.js';
import type { DingTalkEvent } from '../messages/inbound.js';
import { decodeRobotMessage, type JsonObject, UndecodableMessage } from './decode.js';
import type { Inbox } from './inbox.js';
import type { InboundSink } from './transport.js';

/**
 * What both DingTalk transports (Stream and HTTP callbacks) do with what arrives: record it
 * durably before DingTalk is told it was received, drop duplicates, hand it to the bot,
 * mark it handled, and after a restart handle what a crash interrupted.
 */
export class InboundIntake {
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly inbox: Inbox,
    private readonly sink: InboundSink,
    private readonly via: string,
    private readonly log: Logger,
  ) {}

  /**
   * Records a robot message payload. Returns its inbox id when it is new, undefined for a
   * duplicate; throws when it could not be stored (then DingTalk must not be told it arrived).
   */
  async acceptRobot(data: JsonObject): Promise<string | undefined> {
    if (data.errMsg)
      this.log.warn(
        { errMsg: data.errMsg },
        'DingTalk reports a message-channel problem (often the Stream/Webhook quota of the edition)',
      );
    const id = `msg:${data.msgId}`;
    return (await this.inbox.accept(id, 'robot', data)) ? id : undefined;
  }

  /** Like `acceptRobot`, for events. */
  async acceptEvent(event: DingTalkEvent): Promise<string | undefined> {
    const id = `evt:${event.id}`;
    return (await this.inbox.accept(id, 'event', event)) ? id : undefined;
  }

  handleRobot(id: string, data: JsonObject): Promise<void> {
    return this.handle(id, () => this.sink.message(decodeRobotMessage(data, this.via)));
  }

  handleEvent(id: string, event: DingTalkEvent): Promise<void> {
    return this.handle(id, () => this.sink.event(event));
  }

  /**
   * Hands an accepted message or event to the bot, then marks it handled (kept for replay
   * until then). One that cannot be read is dead-lettered at once with the reason; one whose
   * handling keeps failing, after MAX_INBOUND_ATTEMPTS: never replayed at every start.
   */
  private async handle(id: string, work: () => Promise<void>): Promise<void> {
    try {
      // Sends made while handling it are keyed by it: handled again, it queues nothing twice.
      await handling(id, work);
      await this.inbox.done(id);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const dead = await this.inbox.failed(id, reason, err instanceof UndecodableMessage).catch(() => false);
      if (dead)
        this.log.error(
          { err, id, reason },
          `${this.via}: an inbound message or event was dead-lettered (kept with its reason, not handled again)`,
        );
      else this.log.error({ err, id }, `${this.via}: handling an inbound message or event failed`);
    }
  }

  /**
   * Messages and events accepted before a crash but not handled: handle them now. Replicas
   * sharing the inbox look again every `sweepMs` for what a replica that died accepted
   * (until `stopSweeping`): that one is not coming back to handle it.
   */
  async replayUnfinished(sweepMs = 3_000): Promise<void> {
    if (this.inbox.shared && !this.sweep) {
      this.sweep = setInterval(
        () =>
          void this.replayOnce().catch((err) =>
            this.log.warn({ err }, `${this.via}: looking for messages of stopped replicas failed`),
          ),
        sweepMs,
      );
      this.sweep.unref();
    }
    await this.replayOnce();
  }

  stopSweeping(): void {
    clearInterval(this.sweep);
    this.sweep = undefined;
  }

  private async replayOnce(): Promise<void> {
    const entries = await this.inbox.unfinished();
    if (!entries.length) return;
    this.log.warn(
      { count: entries.length },
      this.inbox.shared
        ? `${this.via}: handling messages accepted by a replica that stopped before handling them`
        : `${this.via}: handling messages accepted before the last stop`,
    );
    for (const e of entries) {
      if (e.kind === 'robot') void this.handleRobot(e.id, e.payload as JsonObject);
      else if (e.kind === 'event') void this.handleEvent(e.id, e.payload as DingTalkEvent);
      else await this.inbox.done(e.id);
    }
  }
}
