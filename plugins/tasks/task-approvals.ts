import { createHash } from 'node:crypto';
import type { Caller, Card, PluginContext } from 'dingops';
import { present, UserError } from 'dingops';
import type { TaskConfig, TasksConfig } from './config.js';
import type { Approval, RunPlace, RunStore } from './run-store.js';
import { checkValues, shownParams } from './task-args.js';
import type { TaskAuditEntry } from './task-audit.js';
import type { Requester, TaskPolicy } from './task-policy.js';
import type { TaskPresenter } from './task-presenter.js';
import { asked, type TaskRuns } from './task-runs.js';

/**
 * Runs that need a second person: the request goes to the task's approvers as cards, is
 * settled exactly once (approve, reject or expire), and an approved one starts its run.
 */
export class TaskApprovals {
  constructor(
    private readonly ctx: PluginContext<TasksConfig>,
    private readonly store: RunStore,
    private readonly policy: TaskPolicy,
    private readonly present: TaskPresenter,
    private readonly runs: TaskRuns,
    private readonly audit: (entry: TaskAuditEntry) => void,
    private readonly time: (ms: number) => string,
    private readonly now: () => number,
  ) {}

  private get tasks(): Record<string, TaskConfig> {
    return this.ctx.config.tasks;
  }

  async ask(
    name: string,
    task: TaskConfig,
    params: Record<string, string | boolean>,
    who: Requester,
    place: RunPlace,
  ): Promise<string> {
    const rule = present(task.approval, `approval rule of task ${name}`);
    const approvers = this.policy.approvers(task);
    const eligible = rule.secondPerson ? approvers.filter((a) => a !== who.userId) : approvers;
    if (!eligible.length)
      throw new UserError('tasks.noApprovers', {
        task: name,
        approvers: rule.approvers.join(', '),
      });
    const now = this.now();
    const id = await this.store.createApproval({
      ...asked(name, params, who, place),
      createdAt: now,
      expiresAt: now + rule.expireAfter,
      taskDigest: taskDigest(task),
    });
    const approval = present(await this.store.approval(id), `approval ${id}`);
    const cards: string[] = [];
    for (const userId of eligible) {
      const r = await this.ctx.send.toUser(userId, this.present.approvalCard(approval));
      if (r.cardId) cards.push(r.cardId);
    }
    await this.store.setApprovalCards(id, cards);
    this.audit({
      by: who,
      place,
      command: `run ${name}`,
      args: shownParams(task, params),
      outcome: 'pending',
      detail: this.present.t('audit.approvalAsked', { id }),
    });
    return this.present.t('approvalAsked', {
      id,
      task: name,
      approvers: eligible.map((a) => `@${this.present.name(a)}`).join(', '),
      expires: this.time(approval.expiresAt),
    });
  }

  /** Approve or reject: settled exactly once, by an approver, not by the requester when a second person is required. */
  async decide(id: number, decision: 'approved' | 'rejected', who: Caller): Promise<Card> {
    const a = await this.store.approval(id);
    if (!a) throw new UserError('tasks.unknownRequest', { id });
    const task = this.tasks[a.task];
    const deny = (key: string, vars: Record<string, unknown> = {}) => {
      this.audit({
        by: who,
        place: a.place,
        command: `task ${decision === 'approved' ? 'approve' : 'reject'}`,
        args: { request: id },
        outcome: 'denied',
        detail: key,
      });
      return new UserError(key, { id, task: a.task, ...vars });
    };
    // Expired is expired, whether the sweep or this request noticed first.
    if (a.status === 'expired') throw deny('tasks.approvalExpired');
    if (a.status !== 'pending')
      throw deny('tasks.approvalSettled', {
        status: this.present.t(`approval.${a.status}`),
        by: a.decidedBy ? this.present.t('approvedBy', { by: this.present.name(a.decidedBy) }) : '',
      });
    if (!task) throw deny('tasks.unknownRequest');
    if (!this.policy.approvers(task).includes(who.userId)) throw deny('tasks.notApprover');
    if (task.approval?.secondPerson && who.userId === a.requestedBy) throw deny('tasks.selfApproval');
    // What is approved is what was asked: the same definition, a requester still allowed there,
    // values the definition still accepts. Otherwise the request ends, and both are told.
    if (decision === 'approved') {
      const stale = this.staleness(a, task);
      if (stale) {
        await this.void(a, stale);
        throw deny(stale);
      }
    }
    // An approved run needs a free slot of the task before the request is settled: when all
    // are taken, the request stays pending (approve it again when a run has ended).
    let slot: number | undefined;
    if (decision === 'approved')
      try {
        slot = await this.runs.claim(a.task, task);
      } catch (err) {
        if (err instanceof UserError) throw deny(err.key, err.vars);
        throw err;
      }
    if (!(await this.store.settle(id, decision, who.userId, this.now()))) {
      if (slot !== undefined) await this.runs.release(a.task, slot);
      const now = await this.store.approval(id);
      if (now?.status === 'pending' && now.expiresAt <= this.now()) {
        await this.expire(now);
        throw deny('tasks.approvalExpired');
      }
      throw deny('tasks.approvalSettled', {
        status: this.present.t(`approval.${now?.status ?? 'pending'}`),
        by: now?.decidedBy ? this.present.t('approvedBy', { by: this.present.name(now.decidedBy) }) : '',
      });
    }
    this.audit({
      by: who,
      place: a.place,
      command: `task ${decision === 'approved' ? 'approve' : 'reject'}`,
      args: { request: id },
      outcome: 'ok',
      detail: this.present.t('audit.requestedBy', { task: a.task, who: a.requestedBy }),
    });
    const settled = present(await this.store.approval(id), `approval ${id}`);
    await this.refreshCards(settled);
    if (decision === 'approved') {
      const run = await this.runs.start(
        a.task,
        task,
        a.params,
        { userId: a.requestedBy, nick: a.requestedByNick },
        a.place,
        who.userId,
        undefined,
        slot,
      );
      await this.store.linkRun(id, run.id);
    } else {
      await this.present.say(
        a.place,
        this.present.t('approvalRejected', { id, task: a.task, by: this.present.name(who.userId) }),
      );
    }
    return this.present.approvalCard(settled);
  }

  /** Why the request can no longer be approved as asked (an i18n key), or undefined. */
  private staleness(a: Approval, task: TaskConfig): string | undefined {
    if (a.taskDigest && a.taskDigest !== taskDigest(task)) return 'tasks.changedSinceAsked';
    const requester = this.ctx.access.caller(a.requestedBy, a.requestedByNick);
    if (this.policy.denial(task, requester, a.place)) return 'tasks.requesterNoLonger';
    try {
      checkValues(task, a.params);
    } catch (err) {
      if (err instanceof UserError) return 'tasks.paramsNoLonger';
      throw err;
    }
    return undefined;
  }

  /** Ends a request that cannot run as asked: its cards say so, the requester is told. */
  private void(a: Approval, why: string): Promise<void> {
    const reason = this.present.t(why.replace(/^tasks\./, ''), { task: a.task, id: a.id });
    const said = this.present.t('approvalVoid', { id: a.id, task: a.task, why: reason });
    return this.end(a, true, said, why);
  }

  private async refreshCards(a: Approval): Promise<void> {
    const card = this.present.approvalCard(a);
    for (const cardId of a.cards)
      await this.ctx.send
        .updateCard(cardId, card)
        .catch((err) => this.ctx.log.warn({ err }, 'tasks: approval card not updated'));
  }

  private expire(a: Approval): Promise<void> {
    const said = this.present.t('approvalExpired', { id: a.id });
    return this.end(a, false, said, this.present.t('audit.expired', { id: a.id }));
  }

  /**
   * Settles a pending request as expired (its time passed, or `early`: it can no longer run as
   * asked), once: its cards show it, the requester is told `said`, the audit records `detail`.
   */
  private async end(a: Approval, early: boolean, said: string, detail: string): Promise<void> {
    if (!(await this.store.settle(a.id, 'expired', undefined, this.now(), early))) return;
    const ended = present(await this.store.approval(a.id), `approval ${a.id}`);
    await this.refreshCards(ended);
    await this.present.say(a.place, said);
    this.audit({
      by: { userId: a.requestedBy, nick: a.requestedByNick },
      place: a.place,
      command: `run ${a.task}`,
      args: shownParams(this.tasks[a.task], a.params),
      outcome: 'denied',
      detail,
    });
  }

  /** Ends requests nobody decided in time (their cards say so; the requester is told). */
  async expireDue(): Promise<void> {
    const now = this.now();
    for (const a of await this.store.pendingApprovals()) if (a.expiresAt <= now) await this.expire(a);
  }
}

/**
 * A fingerprint of what a task does and who may run it (its whole definition: command or
 * agent, arguments, limits, allow, approval): a request approved later runs only if this is
 * unchanged since it was asked.
 */
export function taskDigest(task: TaskConfig): string {
  return createHash('sha256').update(stableJson(task)).digest('hex');
}

/** JSON with object keys sorted, so the same definition always gives the same text. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}
