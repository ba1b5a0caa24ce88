import { durationSetting } from 'dingops';
import { z } from 'zod';
import { parseMatcher } from './matchers.js';

const duration = durationSetting;

const matcher = z.string().transform((s, ctx) => {
  try {
    return parseMatcher(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/** How a source proves it is who it says: a bearer token, or an HMAC signature of the body. */
const source = z
  .strictObject({
    token: z
      .string()
      .min(16, 'use a token of at least 16 characters')
      .optional()
      .describe('Authorization: Bearer <token>'),
    hmacSecret: z.string().min(16, 'use a secret of at least 16 characters').optional(),
    signatureHeader: z
      .string()
      .default('X-Dingops-Signature')
      .describe('hex HMAC-SHA256 of "[timestamp:]body"'),
    timestampHeader: z
      .string()
      .optional()
      .describe('When set, the signed text is "<timestamp>:<body>" (Grafana)'),
  })
  .refine((s) => s.token || s.hmacSecret, 'set token or hmacSecret: every source needs a credential');

const targets = {
  groups: z.array(z.string()).default([]).describe('openConversationIds or group titles'),
  people: z.array(z.string()).default([]).describe('names from `people`, userIds or mobiles'),
};

const route = z.strictObject({
  name: z.string().optional(),
  match: z
    .array(matcher, { error: "expected a list of label matchers, e.g. ['severity=critical']" })
    .default([])
    .describe('label matchers: name=value, !=, =~ (regex), !~'),
  ...targets,
  escalation: z.string().optional().describe('an escalation policy name'),
  continue: z.boolean().default(false).describe('keep matching later routes'),
});

const escalationLevel = z.strictObject({
  ...targets,
  after: duration('10m').describe('wait this long without an acknowledgement before the next level'),
});

export const alertsConfigSchema = z
  .strictObject({
    sources: z
      .strictObject({
        alertmanager: source.optional(),
        grafana: source.optional(),
        generic: source.optional(),
      })
      .default({}),
    bodyLimit: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
    grouping: z
      .strictObject({
        by: z
          .array(z.string())
          .default(['alertname'])
          .describe(
            'labels that group alerts when a source sends no groupKey (generic), or always with key: labels',
          ),
        key: z
          .enum(['auto', 'labels'])
          .default('auto')
          .describe("auto: the sender's groupKey when it has one"),
        groupWait: duration('30s'),
        groupInterval: duration('5m'),
        repeatInterval: duration('4h'),
      })
      .prefault({}),
    routes: z.array(route).default([]),
    defaultRoute: z.strictObject({ ...targets, escalation: z.string().optional() }).prefault({}),
    escalations: z
      .record(
        z.string(),
        z.strictObject({
          levels: z.array(escalationLevel).min(1),
          repeat: z.number().int().min(0).max(10).default(0).describe('run the levels again this many times'),
        }),
      )
      .default({}),
    digest: z
      .strictObject({
        threshold: z
          .number()
          .int()
          .min(1)
          .default(3)
          .describe('more new incidents than this for one destination at once are sent as one digest card'),
      })
      .prefault({}),
    storm: z
      .strictObject({
        alertsPerMinute: z
          .number()
          .int()
          .min(1)
          .default(200)
          .describe('above this, a storm warning goes to the default route'),
      })
      .prefault({}),
    flapping: z
      .strictObject({
        changes: z
          .number()
          .int()
          .min(2)
          .default(4)
          .describe('state changes of one alert within the window that make it flapping'),
        window: duration('30m'),
      })
      .prefault({}),
    responders: z
      .array(z.string().min(1))
      .default(['role:oncall'])
      .describe(
        'who may ack, unack, resolve, snooze, silence and close war rooms: role:<name>, people, or everyone (admins and the people an incident was sent to always may)',
      ),
    snoozePresets: z.array(duration('30m')).prefault(['30m', '2h', '1d']),
    sendResolvedForSilenced: z.boolean().default(false),
    /** Labels shown on cards (others are in `incident <id>`). */
    cardLabels: z.array(z.string()).default(['alertname', 'severity', 'service', 'instance', 'env']),
  })
  .superRefine((c, ctx) => {
    for (const [i, r] of c.routes.entries())
      if (r.escalation && !c.escalations[r.escalation])
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'escalation'],
          message: `no escalation policy '${r.escalation}' (defined: ${Object.keys(c.escalations).join(', ') || 'none'})`,
        });
    if (c.defaultRoute.escalation && !c.escalations[c.defaultRoute.escalation])
      ctx.addIssue({
        code: 'custom',
        path: ['defaultRoute', 'escalation'],
        message: `no escalation policy '${c.defaultRoute.escalation}'`,
      });
    // Like Alertmanager's root route: every alert must reach someone. An alert that matches
    // no route goes to defaultRoute, so defaultRoute (or a route without matchers) must name
    // a group or a person, or alerts would be accepted, answered 200, and reach nobody.
    const reaches = (t: { groups: string[]; people: string[] }) => t.groups.length + t.people.length > 0;
    const catchAll = c.routes.some((r) => r.match.length === 0 && reaches(r));
    const anySource = Object.values(c.sources).some(Boolean);
    if (anySource && !reaches(c.defaultRoute) && !catchAll)
      ctx.addIssue({
        code: 'custom',
        path: ['defaultRoute'],
        message:
          'alerts that match no route would reach nobody: give defaultRoute the groups or people who get them (defaultRoute: { groups: [ops] }), or add a route without match',
      });
  });

export type AlertsConfig = z.output<typeof alertsConfigSchema>;
export type SourceConfig = NonNullable<AlertsConfig['sources']['alertmanager']>;
export type RouteConfig = AlertsConfig['routes'][number];
