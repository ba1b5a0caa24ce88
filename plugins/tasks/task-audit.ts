import type { PluginContext } from 'dingops';
import type { RunPlace } from './run-store.js';

export interface TaskAuditEntry {
  by: { userId: string; nick: string };
  place?: RunPlace;
  command: string;
  args?: Record<string, unknown>;
  outcome: 'ok' | 'denied' | 'error' | 'cancelled' | 'pending';
  detail?: string;
  durationMs?: number;
}

/** Records what happened to a task request in the bot's audit log (kind `task`). */
export function taskAudit(ctx: PluginContext<unknown>, now: () => number): (entry: TaskAuditEntry) => void {
  return (entry) =>
    ctx.audit.record({
      at: now(),
      kind: 'task',
      actorId: entry.by.userId,
      actorNick: entry.by.nick,
      conversationId: entry.place?.id,
      conversationType: entry.place?.type,
      command: entry.command,
      args: entry.args,
      outcome: entry.outcome,
      detail: entry.detail,
      durationMs: entry.durationMs,
    });
}
