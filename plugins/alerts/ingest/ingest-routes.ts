import type { HttpReply, HttpRequest, PluginContext } from 'dingops';
import { Counter } from 'prom-client';
import type { AlertsConfig } from '../config.js';
import type { AlertGrouping } from '../grouping.js';
import type { IngestOutcome } from '../incident.js';
import { BadPayload, checkDepth, type IngestBatch } from '../model.js';
import { parseAlertmanagerLike } from './alertmanager.js';
import { credentialProblem, signatureTtlMs, usedSignature } from './credentials.js';
import { parseGeneric } from './generic.js';

type Source = 'alertmanager' | 'grafana' | 'generic';

const PARSERS: Record<Source, (body: unknown) => IngestBatch> = {
  alertmanager: (b) => parseAlertmanagerLike(b, 'alertmanager'),
  grafana: (b) => parseAlertmanagerLike(b, 'grafana'),
  generic: (b) => parseGeneric(b),
};

/**
 * `POST /alerts/<source>`. Each source has its own credential; the answer is 2xx only once
 * every alert is committed, 5xx when the store fails (Alertmanager and Grafana retry 5xx),
 * and 4xx with the reason for what the sender must fix.
 */
export function registerIngestRoutes(
  ctx: PluginContext<AlertsConfig>,
  grouping: AlertGrouping,
  afterIngest: (outcome: IngestOutcome) => void,
): void {
  const received = new Counter({
    name: 'dingops_alerts_received_total',
    help: 'Alert webhook requests by source and outcome',
    labelNames: ['source', 'outcome'],
    registers: [ctx.metrics.registry],
  });
  ctx.onDispose(() => ctx.metrics.registry.removeSingleMetric('dingops_alerts_received_total'));
  for (const source of Object.keys(PARSERS) as Source[]) {
    ctx.http.route({
      method: 'POST',
      url: `/alerts/${source}`,
      rawBody: true,
      bodyLimit: ctx.config.bodyLimit,
      handler: async (req: HttpRequest, reply: HttpReply) => {
        const refuse = (status: number, outcome: string, error: string) => {
          received.inc({ source, outcome });
          ctx.log.warn({ source, status, ip: req.ip, reason: error }, 'alerts: webhook refused');
          return reply.code(status).send({ error });
        };
        const conf = ctx.config.sources[source];
        if (!conf)
          return refuse(
            404,
            'disabled',
            `the ${source} source is not enabled: add plugins.alerts.sources.${source} with a token or hmacSecret`,
          );
        const raw = typeof req.body === 'string' ? req.body : '';
        const problem = credentialProblem(conf, req.headers, raw);
        if (problem) return refuse(401, 'unauthorized', problem);
        // A signed request is accepted once: a captured one cannot be sent again.
        const signature = usedSignature(conf, req.headers);
        if (signature) {
          let verdict: string;
          try {
            verdict = await ctx.http.acceptOnce(source, signature, raw, signatureTtlMs(conf));
          } catch (err) {
            ctx.log.error({ err, source }, 'alerts: could not check the signature against replays');
            return reply.code(503).send({ error: 'could not check the request; retry' });
          }
          if (verdict !== 'first')
            return refuse(
              409,
              'replayed',
              'this signed request was already received (each signature is accepted once)',
            );
        }
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          return refuse(400, 'malformed', 'the body is not valid JSON');
        }
        let batch: IngestBatch;
        try {
          checkDepth(body);
          batch = PARSERS[source](body);
        } catch (err) {
          if (err instanceof BadPayload) return refuse(400, 'malformed', err.message);
          throw err;
        }
        try {
          const r = await grouping.ingest(batch);
          received.inc({ source, outcome: 'accepted' });
          afterIngest(r);
          return reply
            .code(200)
            .send({ status: 'ok', accepted: r.accepted, duplicates: r.absorbed, incidents: r.incidents });
        } catch (err) {
          ctx.log.error({ err, source }, 'alerts: could not store alerts; the sender will retry');
          received.inc({ source, outcome: 'store_failed' });
          // Its retry carries the same signature: it must be let in.
          if (signature) await ctx.http.releaseOnce(source, signature).catch(() => undefined);
          return reply.code(503).send({ error: 'could not store the alerts; retry' });
        }
      },
    });
  }
}
