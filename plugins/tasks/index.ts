import { definePlugin, localTime } from 'dingops';
import { registerCommands } from './commands.js';
import { tasksConfigSchema } from './config.js';
import { tasksCatalogs } from './i18n.js';
import { tasksMigrations } from './migrations.js';
import { RunStore, type TasksTables } from './run-store.js';
import { securityReview } from './security-review.js';
import { TaskService } from './task-service.js';

/**
 * Remote task execution (README, "Tasks"): declared programs run from DingTalk with typed,
 * validated parameters, no shell, a scrubbed environment, timeouts that kill the whole
 * process tree, optional approval by a second person, output streamed to a card, and every
 * run in the audit log. An agent task forwards a prompt to a local agent CLI.
 */
export default definePlugin({
  name: 'tasks',
  description: { en: 'Run declared tasks from DingTalk', 'zh-CN': '从钉钉运行预先声明的任务' },
  config: tasksConfigSchema,
  i18n: tasksCatalogs,
  migrations: tasksMigrations,
  permissions: {
    'Card.Streaming.Write': { en: "stream a run's output into its card", 'zh-CN': '把运行输出流式写入卡片' },
  },
  async setup(ctx) {
    const timezone = ctx.timezone;
    const time = (ms: number) => localTime(ms, timezone);
    const store = new RunStore(ctx.store.tables<TasksTables>());
    const service = new TaskService(ctx, store, time, Date.now);
    // Runs a previous process was following cannot be resumed: say so on their cards.
    await service.markInterrupted();
    registerCommands(ctx, service);

    ctx.actions.register({
      name: 'cancel',
      command: 'task cancel',
      handler: async (a) => ({ message: await service.cancel(Number(a.params.run), a.caller) }),
    });
    ctx.actions.register({
      name: 'approve',
      command: 'task approve',
      handler: async (a) => ({ card: await service.decide(Number(a.params.request), 'approved', a.caller) }),
    });
    ctx.actions.register({
      name: 'reject',
      command: 'task reject',
      handler: async (a) => ({ card: await service.decide(Number(a.params.request), 'rejected', a.caller) }),
    });

    ctx.diagnostics.register({
      id: 'tasks.security',
      run: ({ t }) => securityReview(ctx.config, t, (ref) => ctx.groups.resolve(ref)),
    });
    ctx.schedule('expire-approvals', '*/10 * * * * *', () => service.expireDue());
    ctx.schedule('prune-output', '17 4 * * *', () => store.pruneOutput(ctx.config.keepRuns));
    // A replica that died mid-run leaves its runs "running": the others mark them interrupted.
    ctx.schedule('sweep-interrupted', '*/3 * * * * *', () => service.markInterrupted());
    ctx.status('runs', async () => {
      const running = await store.runs({ status: 'running', limit: 1000 });
      return {
        name: { key: 'tasks.board.name' },
        ok: true,
        detail: {
          key: 'tasks.board.detail',
          vars: { declared: Object.keys(ctx.config.tasks).length, running: running.length },
        },
      };
    });
    // Stopping the bot stops its runs (each is recorded as cancelled, its card finalized).
    ctx.onDispose(() => service.stopAll());
  },
});
