import { z } from 'zod';
import { LOCALES } from '../i18n/i18n.js';
import { token } from '../util/di-token.js';
import { systemTimezone } from '../util/system-timezone.js';
import { EDITION_LIMITS, EDITIONS } from './editions.js';
import { publicUrlProblem } from './public-url.js';

const userIds = z.array(z.string().min(1)).describe('DingTalk userIds (staffIds)');

const routePath = z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, 'expected a path such as /dingtalk/robot');

export const dingtalkSchema = z
  .strictObject({
    clientId: z.string().default('').describe('AppKey / Client ID of the DingTalk app'),
    clientSecret: z.string().default('').describe('AppSecret / Client Secret; use ${DINGTALK_CLIENT_SECRET}'),
    corpId: z.string().optional(),
    agentId: z.union([z.string(), z.number()]).transform(String).optional(),
    robotCode: z.string().optional().describe('Defaults to clientId (internal apps)'),
    mode: z.enum(['stream', 'http']).default('stream'),
    stream: z
      .strictObject({
        connections: z
          .enum(['all', 'leader'])
          .default('all')
          .describe(
            'Several replicas: every one connects (all), or only an elected one (leader: for apps where a newer connection replaces an older one)',
          ),
      })
      .prefault({}),
    aesKey: z
      .string()
      .regex(
        /^[A-Za-z0-9]{43}$/,
        'expected the 43-character aes_key (letters and digits) from the event subscription page',
      )
      .optional(),
    token: z
      .string()
      .regex(
        /^[A-Za-z0-9]{3,32}$/,
        'expected the signature token (3-32 letters and digits) from the event subscription page',
      )
      .optional(),
    ownerKey: z.string().optional().describe('Key checked inside decrypted events; defaults to clientId'),
    apiBase: z.url().default('https://api.dingtalk.com'),
    oapiBase: z.url().default('https://oapi.dingtalk.com'),
    edition: z.enum(EDITIONS).default('standard'),
    limits: z
      .strictObject({
        qps: z.number().positive().optional(),
        monthlyCalls: z.number().int().positive().optional(),
      })
      .default({}),
    cardTemplateId: z
      .string()
      .optional()
      .describe('Interactive card template for dingops cards; markdown is used without it'),
    callbacks: z
      .strictObject({
        robot: routePath.default('/dingtalk/robot').describe('HTTP mode: the robot message URL path'),
        events: routePath.default('/dingtalk/events').describe('HTTP mode: the event subscription URL path'),
        cards: routePath.default('/dingtalk/cards').describe('HTTP mode: the card callback URL path'),
      })
      .prefault({}),
  })
  .transform((d) => ({
    ...d,
    robotCode: d.robotCode ?? d.clientId,
    ownerKey: d.ownerKey ?? d.clientId,
    limits: {
      qps: d.limits.qps ?? EDITION_LIMITS[d.edition].qps,
      monthlyCalls: d.limits.monthlyCalls ?? EDITION_LIMITS[d.edition].monthlyCalls,
    },
  }));

export const serverSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  publicUrl: z.url().optional().describe('The https address DingTalk reaches this bot at (HTTP mode)'),
  bodyLimit: z.number().int().positive().default(1_048_576),
  requestTimeoutMs: z.number().int().positive().default(10_000),
  statusToken: z
    .string()
    .min(16, 'use at least 16 characters: it guards the status and metrics of the bot')
    .optional()
    .describe(
      'Bearer token for the full /readyz and /metrics from another host (Prometheus); without it only this host gets them',
    ),
});

export const storageSchema = z.strictObject({
  url: z
    .string()
    .regex(
      /^(sqlite:|postgres:\/\/|postgresql:\/\/)/,
      'expected sqlite:<path> or postgres://user:pass@host/db',
    )
    .default('sqlite:./data/dingops.db'),
});

export const logSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  pretty: z.boolean().optional().describe('Human-readable logs; defaults to on when stdout is a terminal'),
});

const commandRule = z.strictObject({
  roles: z.array(z.string()).optional().describe('Any of these roles may run it (admins always may)'),
  users: userIds.optional(),
  conversations: z.array(z.string()).optional().describe('Only in these conversations (openConversationIds)'),
  direct: z.boolean().optional().describe('Allowed in direct messages'),
  group: z.boolean().optional().describe('Allowed in group chats'),
});

export const accessSchema = z.strictObject({
  admins: userIds.default([]),
  roles: z.record(z.string(), userIds).default({}),
  /** Per-command rules, keyed by command path (`alerts silence add`); replace the command's own roles. */
  commands: z.record(z.string(), commandRule).default({}),
  /** Per-conversation allow-lists of command paths (prefixes). */
  conversations: z
    .record(
      z.string(),
      z.strictObject({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).optional() }),
    )
    .default({}),
});

export const personSchema = z.strictObject({
  name: z.string().min(1),
  mobile: z
    .string()
    .regex(/^\+?[0-9 -]{5,20}$/, 'expected a phone number')
    .optional(),
  email: z.email().optional(),
  userId: z.string().optional(),
});

export const pluginEntrySchema = z.looseObject({
  from: z
    .string()
    .optional()
    .describe('Local path or npm package; defaults to the built-in plugin of that name'),
  enabled: z.boolean().default(true),
  required: z.boolean().default(false).describe('Stop the bot when this plugin fails to start'),
});

/** Keys of a plugin entry that belong to the loader, not to the plugin's own config. */
export const PLUGIN_ENTRY_KEYS = ['from', 'enabled', 'required'] as const;

export const coreSchema = z
  .strictObject({
    dingtalk: dingtalkSchema.prefault({}),
    server: serverSchema.prefault({}),
    storage: storageSchema.prefault({}),
    locale: z.enum(LOCALES).default('zh-CN'),
    timezone: z.string().default(systemTimezone()),
    log: logSchema.prefault({}),
    access: accessSchema.prefault({}),
    people: z.array(personSchema).default([]),
    plugins: z
      .record(
        z.string().regex(/^[a-z][a-z0-9-]*$/, 'plugin names are lower-case words'),
        pluginEntrySchema.nullable(),
      )
      .default({}),
  })
  .superRefine((c, ctx) => {
    // HTTP mode: DingTalk must be able to call us, over https.
    if (c.dingtalk.mode !== 'http') return;
    const url = c.server.publicUrl;
    if (!url)
      ctx.addIssue({
        code: 'custom',
        path: ['server', 'publicUrl'],
        message: 'dingtalk.mode http needs server.publicUrl: the https address DingTalk reaches this bot at',
      });
    else {
      const problem = publicUrlProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', path: ['server', 'publicUrl'], message: problem });
    }
  });

export type CoreConfig = z.output<typeof coreSchema>;
export type DingTalkConfig = CoreConfig['dingtalk'];
export type AccessConfig = CoreConfig['access'];
export type Person = CoreConfig['people'][number];

/** The DI token of the CoreConfig. */
export const CoreConfigToken = token<CoreConfig>('CoreConfig');
