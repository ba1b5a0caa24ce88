import type { DependencyContainer } from 'tsyringe';
import { RendererToken } from '../cards/card-renderer.js';
import { LeaderElection } from '../cluster/leader-election.js';
import { CoreConfigToken } from '../config/core-schema.js';
import { callbackUrl, requirePublicUrl } from '../config/public-url.js';
import { actionFollowUp } from '../deliver/action-follow-up.js';
import { MessengerToken } from '../deliver/messenger.js';
import { OpenApiToken } from '../deliver/openapi/openapi-client.js';
import { LoggerToken } from '../observe/logger.js';
import { MetricsToken } from '../observe/metrics.js';
import { CardCallbacks } from '../receive/card-callbacks.js';
import { CallbackCrypto } from '../receive/http/callback-crypto.js';
import { HttpCallbackTransport } from '../receive/http/http-callback-transport.js';
import { HttpToken } from '../receive/http/http-server.js';
import { InboundIntake } from '../receive/inbound-intake.js';
import { InboxToken } from '../receive/inbox.js';
import { StreamTransport } from '../receive/stream/stream-transport.js';
import { InboundSinkToken, type Transport } from '../receive/transport.js';
import { CardInstancesToken } from '../storage/card-instances.js';
import { DatabaseToken } from '../storage/database.js';
import { ReplayGuardToken } from '../storage/replay-guard.js';
import { cardApiSecret, cardRouteKey } from './card-route.js';
import { LeaderOnlyTransport } from './leader-only-transport.js';

/**
 * What both DingTalk transports share: the intake that records and hands over messages and
 * events, and the card callbacks, both built with the bot's inbound sink. Card actions'
 * late answers go out through the messenger `composeDingTalk` registered.
 */
function receivingParts(
  c: DependencyContainer,
  via: string,
): { intake: InboundIntake; cards: CardCallbacks } {
  const config = c.resolve(CoreConfigToken);
  const log = c.resolve(LoggerToken).child({ component: via });
  const inbox = c.resolve(InboxToken);
  const sink = c.resolve(InboundSinkToken);
  return {
    intake: new InboundIntake(inbox, sink, via, log),
    cards: new CardCallbacks(
      { locale: config.locale },
      inbox,
      sink,
      actionFollowUp(c.resolve(MessengerToken), log),
      c.resolve(RendererToken),
      c.resolve(CardInstancesToken),
      log,
    ),
  };
}

/**
 * The Stream mode transport (`BotOptions.transports`), after `composeDingTalk`. With
 * `dingtalk.stream.connections: leader` only the elected replica holds the connection.
 */
export function streamTransport(c: DependencyContainer): Transport {
  const d = c.resolve(CoreConfigToken).dingtalk;
  const { intake, cards } = receivingParts(c, 'stream');
  const log = c.resolve(LoggerToken).child({ component: 'stream' });
  const stream = new StreamTransport(
    { clientId: d.clientId, clientSecret: d.clientSecret, apiBase: d.apiBase, oapiBase: d.oapiBase },
    intake,
    cards,
    log,
  );
  if (d.stream.connections !== 'leader') return stream;
  const db = c.resolve(DatabaseToken);
  return new LeaderOnlyTransport(
    stream,
    new LeaderElection(db.db, db.dialect, `dingops-stream:${d.clientId}`, log),
    c.resolve(MetricsToken),
  );
}

/**
 * The HTTP callback transport (`BotOptions.transports`, built while the bot is composed: its
 * routes exist before the HTTP server starts), after `composeDingTalk`.
 */
export function httpTransport(c: DependencyContainer): HttpCallbackTransport {
  const config = c.resolve(CoreConfigToken);
  const d = config.dingtalk;
  const log = c.resolve(LoggerToken).child({ component: 'http-callbacks' });
  const { intake, cards } = receivingParts(c, 'http');
  const crypto = d.aesKey && d.token ? new CallbackCrypto(d.token, d.aesKey, d.ownerKey) : undefined;
  if (!crypto)
    log.warn(
      'dingtalk.aesKey and dingtalk.token are not set: event subscription pushes (group installs, renames) will be refused',
    );
  const publicUrl = requirePublicUrl(config.server);
  const api = c.resolve(OpenApiToken);
  const apiSecret = cardApiSecret(d.clientSecret);
  return new HttpCallbackTransport(
    {
      paths: d.callbacks,
      urls: {
        robot: callbackUrl(publicUrl, d.callbacks.robot),
        events: callbackUrl(publicUrl, d.callbacks.events),
      },
      clientSecret: d.clientSecret,
      crypto,
      // Robot callbacks are authenticated by their headers: only the key is needed to open them.
      robotCrypto: d.aesKey ? new CallbackCrypto(d.token ?? '', d.aesKey, d.ownerKey) : undefined,
      cardApiSecret: apiSecret,
      replay: c.resolve(ReplayGuardToken),
      registerCardCallbacks: async () => {
        await api.registerCardCallback({
          callbackRouteKey: cardRouteKey(d.clientId),
          callbackUrl: callbackUrl(publicUrl, d.callbacks.cards),
          apiSecret,
        });
      },
    },
    c.resolve(HttpToken),
    intake,
    cards,
    log,
  );
}
