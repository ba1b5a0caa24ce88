import {
  type AnyCommandSpec,
  type CommandContext,
  card,
  type OptionSpec,
  type PluginContext,
  parseDuration,
  UserError,
  type ValueSpec,
} from 'dingops';
import type { ParamSpec, TaskConfig, TasksConfig } from './config.js';
import type { RunPlace } from './run-store.js';
import { usage } from './task-args.js';
import { statusText } from './task-cards.js';
import type { TaskService } from './task-service.js';

const placeOf = (c: CommandContext<Record<string, unknown>>): RunPlace =>
  c.message.conversation.type === 'group'
    ? { type: 'group', id: c.message.conversation.id }
    : { type: 'direct', id: c.caller.userId };

/** A task param as the core parser's value spec: it checks types, ranges, choices and patterns. */
function valueSpec(name: string, p: ParamSpec): ValueSpec {
  const description = p.description;
  // A secret param is masked in the audit log's command line too.
  const secret = p.type !== 'boolean' && p.secret;
  switch (p.type) {
    case 'enum':
      return { name, type: 'enum', choices: p.choices, default: p.default, description, secret };
    case 'int':
      return { name, type: 'int', min: p.min, max: p.max, default: p.default, description, secret };
    case 'string':
      return {
        name,
        type: 'string',
        pattern: new RegExp(`^(?:${p.pattern})$`),
        maxLength: p.maxLength,
        default: p.default,
        description,
        secret,
      };
    case 'duration':
      return {
        name,
        type: 'duration',
        min: p.min,
        max: p.max,
        default: p.default === undefined ? undefined : parseDuration(p.default),
        description,
        secret,
      };
    case 'boolean':
      return { name, type: 'boolean', description };
  }
}

/** `run <task> ...` (one subcommand per declared task), `tasks`, `task show|log|cancel|history|approve|reject`. */
export function registerCommands(ctx: PluginContext<TasksConfig>, service: TaskService) {
  const who = (c: CommandContext<Record<string, unknown>>) => ({
    userId: c.caller.userId,
    nick: c.caller.nick,
    caller: c.caller,
  });
  const tasks = Object.entries(ctx.config.tasks);

  const subcommand = (name: string, task: TaskConfig): AnyCommandSpec => {
    const params = Object.entries(task.params);
    const args: ValueSpec[] =
      task.kind === 'agent'
        ? [{ name: 'prompt', type: 'rest', required: false, description: 'tasks.arg.prompt' }]
        : params.filter(([, p]) => p.type !== 'boolean').map(([n, p]) => valueSpec(n, p));
    const options: OptionSpec[] = params
      .filter(([, p]) => p.type === 'boolean')
      .map(([n, p]) => valueSpec(n, p));
    return {
      name,
      description: task.description || name,
      args,
      options,
      sideEffects: true,
      handler: async (c) => {
        const values = { ...(c.args as Record<string, unknown>) };
        for (const [n, p] of params) if (p.type === 'boolean') values[n] = values[n] === true;
        const prompt = task.kind === 'agent' ? String(values.prompt ?? '') : undefined;
        return service.request(
          name,
          task.kind === 'agent' ? {} : values,
          who(c),
          placeOf(c),
          c.message,
          prompt,
        );
      },
    };
  };
  if (tasks.length)
    ctx.commands.register({
      name: 'run',
      aliases: ['运行'],
      description: 'tasks.cmd.run',
      subcommands: tasks.map(([n, t]) => subcommand(n, t)),
    });

  ctx.commands.register({
    name: 'tasks',
    description: 'tasks.cmd.tasks',
    handler: (c) => {
      const list = service.permitted(c.caller, placeOf(c));
      if (!list.length) return c.t('tasks.noTasks');
      return card({
        title: c.t('tasks.tasksTitle', { count: list.length }),
        status: 'info',
        sections: [
          {
            items: list.map(
              ([n, t]) =>
                `\`${usage(n, t)}\`${t.description ? ` — ${t.description}` : ''}${t.approval ? ' 🔐' : ''}`,
            ),
          },
        ],
      });
    },
  });

  const runArg = { name: 'id', type: 'int', min: 1, description: 'tasks.arg.run' } as const;
  const requestArg = { name: 'id', type: 'int', min: 1, description: 'tasks.arg.request' } as const;
  // A run is shown only to who may see it, where they may (the requester, approvers, admins,
  // whoever may run the task; in a group, that group's runs only).
  const load = (c: CommandContext<Record<string, unknown>>) =>
    service.view(Number(c.args.id), c.caller, placeOf(c), c.command);
  ctx.commands.register({
    name: 'task',
    description: 'tasks.cmd.task',
    // `task 12`: the run's card with the end of its output.
    args: [{ ...runArg, required: false }],
    handler: async (c) => {
      if (c.args.id === undefined) throw new UserError('tasks.taskUsage');
      const run = await load(c);
      return { ...service.card(run, ctx.config.tasks[run.task]), body: service.fenced(run, 3_000) };
    },
    subcommands: [
      {
        name: 'log',
        description: 'tasks.cmd.log',
        args: [runArg],
        handler: async (c) => {
          const run = await load(c);
          const task = ctx.config.tasks[run.task];
          return {
            title: `${run.task} #${run.id}`,
            markdown: `**${run.task} #${run.id}** · ${statusText(c.t, run, task?.timeout ?? 0)}\n\n${service.fenced(run)}`,
          };
        },
      },
      {
        name: 'cancel',
        description: 'tasks.cmd.cancel',
        args: [runArg],
        sideEffects: true,
        handler: (c) => service.cancel(Number(c.args.id), c.caller),
      },
      {
        name: 'history',
        description: 'tasks.cmd.history',
        options: [{ name: 'mine', type: 'boolean', description: 'tasks.arg.mine' }],
        handler: async (c) => {
          const runs = await service.recent(c.caller, placeOf(c), c.args.mine === true);
          if (!runs.length) return c.t('tasks.noRuns');
          return card({
            title: c.t('tasks.historyTitle', { count: runs.length }),
            status: 'info',
            sections: [{ items: runs.map((r) => service.history(r)) }],
          });
        },
      },
      {
        name: 'approve',
        description: 'tasks.cmd.approve',
        args: [requestArg],
        sideEffects: true,
        handler: (c) => service.decide(Number(c.args.id), 'approved', c.caller),
      },
      {
        name: 'reject',
        description: 'tasks.cmd.reject',
        args: [requestArg],
        sideEffects: true,
        handler: (c) => service.decide(Number(c.args.id), 'rejected', c.caller),
      },
    ],
  });
}
