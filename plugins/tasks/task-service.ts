import { type Caller, type Card, type InboundMessage, type PluginContext, present, UserError } from 'dingops';
import type { TaskConfig, TasksConfig } from './config.js';
import type { Run, RunPlace, RunStore } from './run-store.js';
import { TaskApprovals } from './task-approvals.js';
import { checkValues, shownParams } from './task-args.js';
import { type TaskAuditEntry, taskAudit } from './task-audit.js';
import { type Requester, TaskPolicy } from './task-policy.js';
import { TaskPresenter } from './task-presenter.js';
import { TaskRuns } from './task-runs.js';

/**
 * Runs declared tasks for people in DingTalk, what the commands and buttons call: the
 * policy says who may run what where, approvals ask a second person when a task needs one,
 * runs execute and stream, the presenter shows them; every step is audited.
 */
export class TaskService {
  readonly policy: TaskPolicy;
  readonly present: TaskPresenter;
  readonly runs: TaskRuns;
  readonly approvals: TaskApprovals;
  private readonly audit: (entry: TaskAuditEntry) => void;

  constructor(
    private readonly ctx: PluginContext<TasksConfig>,
    store: RunStore,
    time: (ms: number) => string,
    now: () => number,
  ) {
    this.audit = taskAudit(ctx, now);
    this.policy = new TaskPolicy(ctx);
    this.present = new TaskPresenter(ctx, time, now);
    this.runs = new TaskRuns(ctx, store, this.policy, this.present, this.audit, now);
    this.approvals = new TaskApprovals(
      ctx,
      store,
      this.policy,
      this.present,
      this.runs,
      this.audit,
      time,
      now,
    );
  }

  private get tasks(): Record<string, TaskConfig> {
    return this.ctx.config.tasks;
  }

  /**
   * Starts a run (or asks for approval). Every refusal is told to the person and audited;
   * the values were type-checked by the command parser and are checked again here.
   */
  async request(
    name: string,
    values: Record<string, unknown>,
    who: Requester,
    place: RunPlace,
    message?: InboundMessage,
    prompt?: string,
  ): Promise<string | undefined> {
    const task = present(this.tasks[name], `task ${name}`);
    const deny = (key: string, vars: Record<string, unknown> = {}) => {
      this.audit({
        by: who,
        place,
        command: `run ${name}`,
        args: shownParams(task, values as Record<string, string | boolean>),
        outcome: 'denied',
        detail: key,
      });
      return new UserError(key, { task: name, ...vars });
    };
    const why = this.policy.denial(task, who.caller, place);
    if (why) throw deny(why);
    let params: Record<string, string | boolean>;
    try {
      params = checkValues(task, values);
    } catch (err) {
      if (err instanceof UserError) throw deny(err.key, err.vars);
      throw err;
    }
    if (task.kind === 'agent' && !prompt?.trim()) throw new UserError('tasks.agentPrompt', { task: name });
    if (prompt !== undefined) params = { prompt };
    if (task.approval) return this.approvals.ask(name, task, params, who, place);
    try {
      // The task's concurrency is held in the store: checked as the run starts, on any replica.
      await this.runs.start(name, task, params, who, place, undefined, message);
    } catch (err) {
      if (err instanceof UserError && err.key === 'tasks.busy') throw deny(err.key, err.vars);
      throw err;
    }
    return undefined;
  }

  permitted(who: Caller, place: RunPlace): Array<[string, TaskConfig]> {
    return this.policy.permitted(who, place);
  }

  view(id: number, who: Caller, place: RunPlace, command: string): Promise<Run> {
    return this.runs.view(id, who, place, command);
  }

  recent(who: Caller, place: RunPlace, mine: boolean, limit?: number): Promise<Run[]> {
    return this.runs.recent(who, place, mine, limit);
  }

  cancel(id: number, who: Caller): Promise<string> {
    return this.runs.cancel(id, who);
  }

  markInterrupted(): Promise<void> {
    return this.runs.markInterrupted();
  }

  stopAll(): Promise<void> {
    return this.runs.stopAll();
  }

  decide(id: number, decision: 'approved' | 'rejected', who: Caller): Promise<Card> {
    return this.approvals.decide(id, decision, who);
  }

  expireDue(): Promise<void> {
    return this.approvals.expireDue();
  }

  card(run: Run, task: TaskConfig | undefined): Card {
    return this.present.card(run, task);
  }

  fenced(run: Run, maxBytes?: number): string {
    return this.present.fenced(run, maxBytes);
  }

  history(run: Run): string {
    return this.present.history(run);
  }
}
