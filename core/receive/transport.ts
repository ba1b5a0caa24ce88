import type { CardAction, DingTalkEvent, InboundMessage } from '../messages/inbound.js';
import type { ActionResult } from '../messages/outbound.js';
import { token } from '../util/di-token.js';

/** Where a transport hands what it received; the runtime tracks in-flight work for graceful stop. */
export interface InboundSink {
  message(message: InboundMessage): Promise<void>;
  action(action: CardAction): Promise<ActionResult>;
  event(event: DingTalkEvent): Promise<void>;
}

export type ConnectionStatus =
  | 'idle'
  | 'connecting'
  | 'connected'
  /** HTTP callback mode: routes are up, DingTalk calls us. */
  | 'registered'
  | 'reconnecting'
  | 'disconnected'
  | 'stopped'
  /** Another replica holds the connection (`dingtalk.stream.connections: leader`); this one is ready to. */
  | 'standby';

export interface TransportState {
  status: ConnectionStatus;
  /** When the last frame or request arrived (ms epoch). */
  lastFrameAt?: number;
  detail?: string;
  /** Receiving, but something DingTalk sent could not be read: a catalog key `doctor` warns with. */
  problem?: string;
}

/**
 * A way messages reach the bot: DingTalk's Stream connection or its HTTP callbacks. A
 * transport is built with the `InboundSink` it hands messages to (`runtime/wire-receivers.ts`).
 */
export interface Transport {
  readonly name: string;
  /** Starts receiving: connects (Stream) or tells DingTalk where to call (HTTP). */
  start(): Promise<void>;
  /** Stop accepting new input; in-flight work is awaited by the runtime. */
  stop(): Promise<void>;
  state(): TransportState;
}

/** Whether a transport can receive: connected (Stream) or registered (HTTP callbacks). */
export function isReceiving(state: TransportState): boolean {
  return state.status === 'connected' || state.status === 'registered';
}

/** The DI token of the bot's inbound sink (the runtime's `InboundRouter`). */
export const InboundSinkToken = token<InboundSink>('InboundSink');
