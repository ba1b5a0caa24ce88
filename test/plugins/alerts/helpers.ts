import type { SimMessage } from '../../../simulator/index.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';

export const AM_TOKEN = 'am-token-0123456789abcdef';

/** A bot with the alerts plugin on the simulator; `yaml` is added under `plugins.alerts`. */
export function alertsBot(yaml = '', options: { access?: string; groupWait?: string } = {}): Promise<SimBot> {
  return createSimBot({
    access: options.access,
    yaml: `plugins:\n  alerts:\n    sources:\n      alertmanager: { token: ${AM_TOKEN} }\n      generic: { token: generic-token-0123456789 }\n      grafana: { hmacSecret: grafana-secret-0123456789, signatureHeader: X-Grafana-Alerting-Signature, timestampHeader: X-Grafana-Alerting-Signature-Timestamp }\n    grouping:\n      groupWait: ${options.groupWait ?? '300ms'}\n      groupInterval: 500ms\n      repeatInterval: 1h\n    defaultRoute:\n      groups: [cid-ops]\n${yaml}`,
  });
}

export interface AmAlert {
  name: string;
  status?: 'firing' | 'resolved';
  labels?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  fingerprint?: string;
}

/** An Alertmanager v4 webhook body (with the newer fields real senders add). */
export function amPayload(alerts: AmAlert[], groupKey = '{}:{alertname="HighLatency"}') {
  const firing = alerts.some((a) => (a.status ?? 'firing') === 'firing');
  return {
    version: '4',
    groupKey,
    truncatedAlerts: 0,
    status: firing ? 'firing' : 'resolved',
    receiver: 'dingops',
    groupLabels: { alertname: alerts[0]?.name },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    notification_reason: 'first notification',
    routeLabels: {},
    alerts: alerts.map((a) => ({
      status: a.status ?? 'firing',
      labels: { alertname: a.name, severity: 'critical', ...a.labels },
      annotations: { summary: `${a.name} is high` },
      startsAt: a.startsAt ?? '2026-11-22T06:00:00Z',
      endsAt: a.endsAt ?? '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph',
      fingerprint: a.fingerprint ?? `fp-${a.name}-${a.labels?.instance ?? '0'}`,
    })),
  };
}

export async function postAlerts(
  sb: SimBot,
  source: string,
  body: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${AM_TOKEN}` },
): Promise<{ status: number; body: any }> {
  const res = await sb.bot.http.inject({
    method: 'POST',
    url: `/alerts/${source}`,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, body: res.json() };
}

/** The bot's cards in a conversation. */
export function cards(sb: SimBot, conversation = 'ops'): SimMessage[] {
  return sb.sim.client.botMessages(conversation).filter((m) => m.kind === 'card');
}

/**
 * Says `text` in the ops group and resolves to the bot's answer: its next message there that
 * is not an incident card (notifications may arrive between the question and the answer).
 */
export async function answer(sb: SimBot, user: string, text: string): Promise<SimMessage> {
  const { client } = sb.sim;
  const cursor = client.cursor();
  await client.as(user).say(text, { group: 'ops' });
  return client.until(
    () => client.botMessages('ops').find((m) => m.seq > cursor && m.kind !== 'card'),
    10_000,
    `the answer to ${text}`,
  );
}
