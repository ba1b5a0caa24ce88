import type { Card, InboundMessage, PluginContext } from 'dingops';
import type { TaskConfig, TasksConfig } from './config.js';
import { tail } from './output-stream.js';
import type { Approval, Run, RunPlace } from './run-store.js';
import { shownParams } from './task-args.js';
import { approvalCard, paramsText, runCard } from './task-cards.js';

/**
 * How runs and requests are shown: their cards, their output as a code block, history lines,
 * and where a run's messages go. Secret parameters are masked in everything shown.
 */
export class TaskPresenter {
  constructor(
    private readonly ctx: PluginContext<TasksConfig>,
    private readonly time: (ms: number) => string,
    private readonly now: () => number,
  ) {}

  private get tasks(): Record<string, TaskConfig> {
    return this.ctx.config.tasks;
  }

  // Short keys (`earlier`) and full ones (`tasks.status.failed`) both resolve through ctx.t.
  t = (key: string, vars?: Record<string, unknown>) => this.ctx.t(key, vars);
  name = (userId: string) => this.ctx.people.find(userId)?.name ?? userId;

  /**
   * The end of a run's output (what fits in `maxBytes`), saying where the rest is and how
   * much the output limit dropped: for its card, its final message and `task <id>` / `task log`.
   */
  outputText(run: Run, output: string, maxBytes: number, before: string): string {
    const shown = tail(output, maxBytes);
    const lines = [shown.length < output.length ? before : '', shown || this.t('noOutput')];
    if (run.droppedBytes > 0)
      lines.push(
        this.t('truncated', { bytes: run.droppedBytes, limit: this.tasks[run.task]?.outputLimit ?? 0 }),
      );
    return lines.filter(Boolean).join('\n');
  }

  card(run: Run, task: TaskConfig | undefined): Card {
    const shown = { ...run, params: shownParams(task, run.params) };
    return runCard((k, v) => this.t(k, v), shown, task?.timeout ?? 0, this.now(), this.name);
  }

  say(
    place: RunPlace,
    content: Card | string | { markdown: string; title: string },
    message?: InboundMessage,
  ) {
    const send = this.ctx.send;
    if (message) return send.reply(message, content);
    return place.type === 'group' ? send.toGroup(place.id, content) : send.toUser(place.id, content);
  }

  approvalCard(a: Approval): Card {
    const where = a.place.type === 'group' ? (this.ctx.groups.get(a.place.id)?.title ?? a.place.id) : 'DM';
    const shown = { ...a, params: shownParams(this.tasks[a.task], a.params) };
    return approvalCard((k, v) => this.t(k, v), shown, this.time, this.name, where);
  }

  /** The stored output of a run as a code block, with what was dropped. */
  fenced(run: Run, maxBytes = 5_000): string {
    // DingTalk markdown keeps about 6,000 bytes: the end of the output is what matters.
    const output = run.output ?? '';
    const before = this.t('before', {
      bytes: Buffer.byteLength(output) - Buffer.byteLength(tail(output, maxBytes)),
    });
    return fence(this.outputText(run, output, maxBytes, before));
  }

  history(run: Run): string {
    return `#${run.id} **${run.task}** ${paramsText(shownParams(this.tasks[run.task], run.params))} · ${this.t(`status.${run.status}`, { code: run.exitCode ?? '?', timeout: '', error: run.error ?? '' })} · @${this.name(run.requestedBy)} · ${this.time(run.createdAt)}`;
  }
}

/** Output shown as a code block (a fence inside the output cannot close it early). */
export function fence(text: string): string {
  return `\`\`\`\n${text.replace(/```/g, '`\u200b``')}\n\`\`\``;
}
