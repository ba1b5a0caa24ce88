import { durationSetting } from 'dingops';
import { z } from 'zod';

/** A secret value (a token, a password): masked in cards, `task` views, history and audit, redacted from output. */
const secret = z.boolean().default(false);

/** A task parameter: typed, validated by the command parser before anything starts. */
const param = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('enum'),
    choices: z.array(z.string().min(1)).min(1),
    default: z.string().optional(),
    description: z.string().optional(),
    secret,
  }),
  z.strictObject({
    type: z.literal('int'),
    /** Without a min, negative values are refused where they would start an argument (`-1` reads as an option). */
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    default: z.number().int().optional(),
    description: z.string().optional(),
    secret,
  }),
  z.strictObject({
    type: z.literal('string'),
    // Required: free text never reaches a program unchecked.
    pattern: z
      .string()
      .refine((p) => isRegex(p), 'not a valid regular expression')
      .describe('the whole value must match'),
    maxLength: z.number().int().positive().max(1000).default(200),
    /** Values starting with `-` are refused (option injection) unless allowed here. */
    allowLeadingDash: z.boolean().default(false),
    default: z.string().optional(),
    description: z.string().optional(),
    secret,
  }),
  z.strictObject({
    type: z.literal('duration'),
    min: durationSetting('0s').optional(),
    max: durationSetting('1d').optional(),
    default: z.string().optional(),
    description: z.string().optional(),
    secret,
  }),
  z.strictObject({
    type: z.literal('boolean'),
    /** The argv element a true value becomes (a false value removes the element). */
    flag: z.string().min(1),
    description: z.string().optional(),
  }),
]);

export type ParamSpec = z.output<typeof param>;

/** Environment variables a chat message can never set or pass through. */
export const PROTECTED_ENV =
  /^(PATH|LD_.*|DYLD_.*|NODE_OPTIONS|BASH_ENV|ENV|IFS|PYTHONPATH|PERL5LIB|RUBYOPT)$/;

const task = z
  .strictObject({
    description: z.string().default(''),
    kind: z.enum(['command', 'agent']).default('command'),
    /** argv: the program and its arguments, `{param}` placeholders inside. Never a shell. */
    command: z.array(z.string().min(1)).min(1),
    params: z
      .record(z.string().regex(/^[a-z][a-z0-9_]*$/i, 'param names are letters, digits and _'), param)
      .default({}),
    cwd: z.string().optional(),
    env: z
      .strictObject({
        /** Passed through from the bot's environment. */
        allow: z.array(z.string()).default([]),
        /** Set to these values. */
        set: z.record(z.string(), z.string()).default({}),
        /** Names whose values are secret: redacted from output. */
        secret: z.array(z.string()).default([]),
      })
      .prefault({}),
    /** The PATH the program runs with (never from chat). */
    path: z.string().default('/usr/local/bin:/usr/bin:/bin'),
    timeout: durationSetting('10m'),
    /** Output kept per run (bytes); more is counted and marked truncated. */
    outputLimit: z.number().int().min(1024).max(50_000_000).default(1_000_000),
    /** Runs of this task at once. */
    concurrency: z.number().int().min(1).max(100).default(1),
    allow: z
      .strictObject({
        users: z.array(z.string()).default([]).describe('names from `people` or userIds'),
        roles: z.array(z.string()).default([]),
        groups: z
          .array(z.string())
          .default([])
          .describe('group titles or openConversationIds; empty: any group'),
        // Unset: agent tasks are direct-message only, others run anywhere allowed.
        directOnly: z.boolean().optional(),
        direct: z
          .boolean()
          .optional()
          .describe(
            'may it run from a direct message? default: yes, unless `groups` limits it to groups (then no)',
          ),
      })
      .prefault({})
      .describe('who may run it; nobody listed: admins only'),
    approval: z
      .strictObject({
        approvers: z.array(z.string()).min(1).describe('names from `people`, userIds, or role:<name>'),
        /** The requester may not approve their own request. */
        secondPerson: z.boolean().default(true),
        expireAfter: durationSetting('30m'),
      })
      .optional(),
    /** Extra values to hide from output (e.g. a token the program prints). */
    redact: z.array(z.string()).default([]),
    /** Agent tasks: keep a per-user session (the CLI's session id, found in its output). */
    session: z
      .strictObject({
        /** argv elements added when a session exists; `{session}` is its id. */
        resumeArgs: z.array(z.string()).min(1),
        /** A regex whose first group is the session id, matched against the output. */
        capture: z.string().refine((p) => isRegex(p), 'not a valid regular expression'),
      })
      .optional(),
  })
  .superRefine((t, ctx) => {
    const names = new Set(Object.keys(t.params));
    t.command.forEach((arg, i) => {
      for (const m of arg.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g))
        if (m[1] !== undefined && !names.has(m[1]))
          ctx.addIssue({
            code: 'custom',
            path: ['command', i],
            message: `unknown placeholder {${m[1]}} (params: ${[...names].join(', ') || 'none'})`,
          });
    });
    for (const [name, p] of Object.entries(t.params))
      if (p.type === 'boolean' && !t.command.includes(`{${name}}`))
        ctx.addIssue({
          code: 'custom',
          path: ['params', name],
          message: `a boolean param stands alone in the command: add "{${name}}" as an element`,
        });
    for (const name of [...t.env.allow, ...Object.keys(t.env.set)])
      if (PROTECTED_ENV.test(name))
        ctx.addIssue({
          code: 'custom',
          path: ['env'],
          message: `${name} cannot be set for a task (use \`path\`)`,
        });
    if (t.kind === 'agent') {
      if (Object.keys(t.params).length)
        ctx.addIssue({
          code: 'custom',
          path: ['params'],
          message: 'an agent task takes the prompt, not params',
        });
      if (!t.allow.users.length)
        ctx.addIssue({
          code: 'custom',
          path: ['allow', 'users'],
          message: 'an agent task must name the users who may use it',
        });
    }
  });

export type TaskConfig = z.output<typeof task>;

export const tasksConfigSchema = z.strictObject({
  tasks: z
    .record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'task names are lower-case letters, digits and -'), task)
    .default({}),
  /** How often a running task's card shows new output (DingTalk counts every update). */
  updateInterval: durationSetting('1s'),
  /** Output history kept for `task log`. */
  keepRuns: z.number().int().min(10).default(1000),
});

export type TasksConfig = z.output<typeof tasksConfigSchema>;

function isRegex(p: string): boolean {
  try {
    new RegExp(p);
    return true;
  } catch {
    return false;
  }
}
