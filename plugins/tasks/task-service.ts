import {
  type Caller,
  type Card,
  type InboundMessage,
  type PluginContext,
  type SecretRedactor,
  UserError,
} from 'dingops';
import type { TaskConfig, TasksConfig } from './config.js';
import { OutputStream, STREAM_TAIL_BYTES, tail } from './output-stream.js';
import type { Approval, Asked, Run, RunPlace, RunStatus, RunStore } from './run-store.js';
import { type RunningTask, type RunResult, runTask } from './runner.js';
import { buildArgv, buildEnv, checkValues, secretValues, shownParams } from './task-args.js';
import { approvalCard, paramsText, runCard } from './task-cards.js';

export interface Requester {
  userId: string;
  nick: string;
  caller: Caller;
}

interface Live {
  handle: RunningTask;
  run: Run;
  cancelledBy?: string;
  /** Stopped because the bot is stopping. */
  interrupted?: boolean;
  /** Settles once the run's end is recorded and shown. */
  finished: Promise<void>;
}

export interface TaskServiceDeps {
  ctx: PluginContext<TasksConfig>;
  store: RunStore;
  time: (ms: number) => string;
  now: () => number;
}

/**
 * Runs declared tasks for people in DingTalk: checks who may run what where, asks for
 * approval when a task needs it, runs the program (no shell) with its output streamed to a
 * card, and records every run in the audit log. Deny by default: a task nobody is named for
 * is for admins only.
 */
export class TaskService {
  private readonly live = new Map<number, Live>();

  constructor(private readonly d: TaskServiceDeps) {}

  private get tasks(): Record<string, TaskConfig> {
    return this.d.ctx.config.tasks;
  }

  // Short keys (`earlier`) and full ones (`tasks.status.failed`) both resolve through ctx.t.
  private t = (key: string, vars?: Record<string, unknown>) => this.d.ctx.t(key, vars);
  private name = (userId: string) => this.d.ctx.people.find(userId)?.name ?? userId;

  private audit(entry: {
    by: Requester | { userId: string; nick: string };
    place?: RunPlace;
    command: string;
    args?: Record<string, unknown>;
    outcome: 'ok' | 'denied' | 'error' | 'cancelled' | 'pending';
    detail?: string;
    durationMs?: number;
  }): void {
    this.d.ctx.audit.record({
      at: this.d.now(),
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

  // --- who may run what, where

  /** Why `who` may not run `name` at `place` (an i18n key), or undefined when they may. */
  denial(task: TaskConfig, who: Caller, place: RunPlace): string | undefined {
    return this.placeDenial(task, place) ?? this.personDenial(task, who);
  }

  /** Why the task may not run at `place` (for anyone), or undefined. */
  private placeDenial(task: TaskConfig, place: RunPlace): string | undefined {
    const directOnly = task.allow.directOnly ?? task.kind === 'agent';
    if (directOnly && place.type !== 'direct') return 'tasks.denied.direct';
    if (place.type === 'group' && task.allow.groups.length) {
      const ok = task.allow.groups.some((g) => {
        try {
          return this.d.ctx.groups.resolve(g) === place.id;
        } catch {
          return g === place.id;
        }
      });
      if (!ok) return 'tasks.denied.group';
    }
    return undefined;
  }

  /** Why `who` may not run the task anywhere, or undefined. */
  private personDenial(task: TaskConfig, who: Caller): string | undefined {
    const named = task.allow.users.some(
      (u) => u === who.userId || this.d.ctx.people.find(u)?.userId === who.userId,
    );
    const byRole = task.allow.roles.some((r) => who.roles.has(r));
    // Agent tasks are for the people named, admins included only when named.
    if (task.kind === 'agent') return named ? undefined : 'tasks.denied.user';
    return named || byRole || who.isAdmin ? undefined : 'tasks.denied.user';
  }

  /**
   * Whether `who` may see a run (its params and output) at `place`: the requester, its
   * approvers, admins and whoever may run the task, and only where the task may run; in a
   * group only that group's runs (a DM run or another group's output stays where it was).
   */
  maySee(run: Run, who: Caller, place: RunPlace): boolean {
    const task = this.tasks[run.task];
    // A task no longer configured: its runs are for admins, in a DM or where they ran.
    if (place.type === 'group' && (run.place.type !== 'group' || run.place.id !== place.id)) return false;
    if (!task) return who.isAdmin;
    if (this.placeDenial(task, place)) return false;
    return (
      run.requestedBy === who.userId ||
      run.approvedBy === who.userId ||
      who.isAdmin ||
      this.approvers(task).includes(who.userId) ||
      !this.personDenial(task, who)
    );
  }

  /** A run `who` may see here; an unknown run and one they may not see are both refused (audited). */
  async view(id: number, who: Caller, place: RunPlace, command: string): Promise<Run> {
    const run = await this.d.store.run(id);
    if (!run) throw new UserError('tasks.unknownRun', { id });
    if (!this.maySee(run, who, place)) {
      this.audit({
        by: who,
        place,
        command,
        args: { run: id },
        outcome: 'denied',
        detail: 'tasks.denied.view',
      });
      throw new UserError('tasks.denied.view', { id });
    }
    return run;
  }

  /** Tasks this person may run here. */
  permitted(who: Caller, place: RunPlace): Array<[string, TaskConfig]> {
    return Object.entries(this.tasks).filter(([, t]) => !this.denial(t, who, place));
  }

  // --- asking for a run

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
    const task = this.tasks[name]!;
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
    const why = this.denial(task, who.caller, place);
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
    const running = [...this.live.values()].filter((l) => l.run.task === name).length;
    if (running >= task.concurrency) throw deny('tasks.busy', { count: running });
    if (task.approval) return this.askApproval(name, task, params, who, place);
    await this.start(name, task, params, who, place, undefined, message);
    return undefined;
  }

  private async start(
    name: string,
    task: TaskConfig,
    params: Record<string, string | boolean>,
    who: { userId: string; nick: string },
    place: RunPlace,
    approvedBy: string | undefined,
    message?: InboundMessage,
  ): Promise<Run> {
    const now = this.d.now();
    const id = await this.d.store.createRun({
      ...asked(name, params, who, place),
      approvedBy,
      createdAt: now,
      startedAt: now,
    });
    const run = (await this.d.store.run(id))!;
    const receipt = await this.say(place, this.card(run, task), message);
    if (receipt.cardId) await this.d.store.updateRun(id, { cardId: receipt.cardId });
    run.cardId = receipt.cardId;
    this.audit({
      by: who,
      place,
      command: `run ${name}`,
      args: shownParams(task, params),
      outcome: 'pending',
      detail: this.t('audit.started', { id }),
    });

    const env = buildEnv(task);
    const stream = new OutputStream(
      async (text, final, error) => {
        if (!run.cardId) return false;
        // The output kept so far is stored with each update: a restart loses at most a second of it.
        if (!final) await this.d.store.updateRun(id, { output: stream.output });
        return this.d.ctx.send.streamCard(run.cardId, fence(text), {
          final,
          error,
          fallbackTitle: `${name} #${id}`,
        });
      },
      this.d.ctx.config.updateInterval,
      (err) => this.d.ctx.log.warn({ err, run: id }, 'tasks: output update failed'),
      this.redactorFor(task, env, params),
      this.d.now,
    );
    const session = task.kind === 'agent' ? await this.session(name, who.userId) : undefined;
    const argv =
      task.kind === 'agent'
        ? [
            ...task.command,
            ...(session && task.session
              ? task.session.resumeArgs.map((a) => a.replace('{session}', session))
              : []),
          ]
        : buildArgv(task, params);
    const handle = runTask({
      argv,
      cwd: task.cwd,
      env,
      timeoutMs: task.timeout,
      outputLimit: task.outputLimit,
      stdin: task.kind === 'agent' ? String(params.prompt) : undefined,
      onOutput: (chunk) => stream.push(chunk),
    });
    const live: Live = { handle, run, finished: Promise.resolve() };
    this.live.set(id, live);
    live.finished = handle.done
      .then((result) => this.finish(name, task, run, result, stream, live))
      .catch((err) => this.d.ctx.log.error({ err, run: id }, 'tasks: finishing a run failed'))
      .finally(() => this.live.delete(id));
    return run;
  }

  /** The bot's secrets, the task's (configured values, secret env, secret params). */
  private redactorFor(
    task: TaskConfig,
    env: Record<string, string>,
    params: Record<string, string | boolean>,
  ): SecretRedactor {
    return this.d.ctx.redactor.with(...secretValues(task, env, params));
  }

  private async finish(
    name: string,
    task: TaskConfig,
    run: Run,
    result: RunResult,
    stream: OutputStream,
    live: Live,
  ): Promise<void> {
    const output = stream.close(result.droppedBytes > 0);
    const status: RunStatus = live.interrupted ? 'interrupted' : result.end;
    await this.d.store.updateRun(run.id, {
      status,
      exitCode: result.exitCode ?? undefined,
      signal: result.signal ?? undefined,
      endedAt: this.d.now(),
      output,
      droppedBytes: result.droppedBytes,
      error: result.error,
    });
    if (task.kind === 'agent' && task.session) await this.keepSession(name, run.requestedBy, task, output);
    const done = (await this.d.store.run(run.id))!;
    // The last output first, then the final state: whoever sees the state sees all the output.
    const final = this.outputText(done, output, STREAM_TAIL_BYTES, this.t('earlier', { id: run.id }));
    const streamed = await stream.finish(final, status !== 'succeeded');
    // A card that cannot stream (markdown) gets the output as its own message.
    if (!streamed) await this.say(done.place, { markdown: fence(final), title: `${name} #${run.id}` });
    if (done.cardId) await this.d.ctx.send.updateCard(done.cardId, this.card(done, task));
    this.audit({
      by: { userId: run.requestedBy, nick: run.requestedByNick },
      place: run.place,
      command: `run ${name}`,
      args: shownParams(task, run.params),
      outcome: status === 'succeeded' ? 'ok' : status === 'cancelled' ? 'cancelled' : 'error',
      detail: this.t('audit.ended', {
        id: run.id,
        status: { key: `tasks.audit.status.${status}` },
        exit: result.exitCode !== null ? this.t('audit.exit', { code: result.exitCode }) : '',
        signal: result.signal ? ` ${result.signal}` : '',
        approved: run.approvedBy ? this.t('audit.approvedBy', { who: run.approvedBy }) : '',
        cancelled: live.cancelledBy ? this.t('audit.cancelledBy', { who: live.cancelledBy }) : '',
      }),
      durationMs: result.durationMs,
    });
  }

  /**
   * The end of a run's output (what fits in `maxBytes`), saying where the rest is and how
   * much the output limit dropped: for its card, its final message and `task <id>` / `task log`.
   */
  private outputText(run: Run, output: string, maxBytes: number, before: string): string {
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
    return runCard((k, v) => this.t(k, v), shown, task?.timeout ?? 0, this.d.now(), this.name);
  }

  private say(
    place: RunPlace,
    content: Card | string | { markdown: string; title: string },
    message?: InboundMessage,
  ) {
    const send = this.d.ctx.send;
    if (message) return send.reply(message, content);
    return place.type === 'group' ? send.toGroup(place.id, content) : send.toUser(place.id, content);
  }

  // --- agent sessions

  private session(task: string, userId: string): Promise<string | undefined> {
    return this.d.ctx.store.kv.get<string>(`session:${task}:${userId}`);
  }

  private async keepSession(task: string, userId: string, config: TaskConfig, output: string): Promise<void> {
    const m = new RegExp(config.session!.capture).exec(output);
    if (m?.[1]) await this.d.ctx.store.kv.set(`session:${task}:${userId}`, m[1]);
  }

  // --- cancel, restart

  async cancel(id: number, who: Caller): Promise<string> {
    const run = await this.d.store.run(id);
    if (!run) throw new UserError('tasks.unknownRun', { id });
    const live = this.live.get(id);
    if (!live || run.status !== 'running')
      throw new UserError('tasks.notRunning', { id, status: run.status });
    if (run.requestedBy !== who.userId && !who.isAdmin) {
      this.audit({ by: who, place: run.place, command: 'task cancel', args: { run: id }, outcome: 'denied' });
      throw new UserError('tasks.denied.cancel', { id });
    }
    live.cancelledBy = who.userId;
    live.handle.cancel();
    return this.t('cancelling', { id });
  }

  /** Runs a previous process left running cannot be followed: they are marked, their cards finalized. */
  async markInterrupted(): Promise<void> {
    for (const run of await this.d.store.runs({ status: 'running', limit: 1000 })) {
      if (this.live.has(run.id)) continue;
      await this.d.store.updateRun(run.id, { status: 'interrupted', endedAt: this.d.now() });
      const done = (await this.d.store.run(run.id))!;
      const task = this.tasks[run.task];
      this.d.ctx.log.warn({ run: run.id, task: run.task }, 'tasks: a run was interrupted by a restart');
      if (!done.cardId) continue;
      // As at the end of any run: the output first, then the final state.
      const output = this.outputText(
        done,
        done.output ?? '',
        STREAM_TAIL_BYTES,
        this.t('earlier', { id: run.id }),
      );
      const text = fence(`${output}\n${this.t('status.interrupted')}`);
      const streamed = await this.d.ctx.send.streamCard(done.cardId, text, { final: true, error: true });
      if (!streamed) await this.say(done.place, { markdown: text, title: `${run.task} #${run.id}` });
      await this.d.ctx.send.updateCard(done.cardId, this.card(done, task));
    }
  }

  /** The bot is stopping: its runs end now, marked as interrupted by the restart. */
  async stopAll(): Promise<void> {
    for (const l of this.live.values()) {
      l.interrupted = true;
      l.handle.cancel();
    }
    await Promise.all([...this.live.values()].map((l) => l.finished));
  }

  // --- approvals

  /** The userIds of a task's approvers (`people` names, userIds, `role:<name>`). */
  approvers(task: TaskConfig): string[] {
    const roles = this.d.ctx.access.roles;
    const ids = new Set<string>();
    for (const ref of task.approval?.approvers ?? []) {
      if (ref.startsWith('role:')) for (const u of roles[ref.slice(5)] ?? []) ids.add(u);
      else {
        const p = this.d.ctx.people.find(ref);
        if (p?.userId) ids.add(p.userId);
        else if (!p) ids.add(ref);
      }
    }
    return [...ids];
  }

  private async askApproval(
    name: string,
    task: TaskConfig,
    params: Record<string, string | boolean>,
    who: Requester,
    place: RunPlace,
  ): Promise<string> {
    const approvers = this.approvers(task);
    const eligible = task.approval!.secondPerson ? approvers.filter((a) => a !== who.userId) : approvers;
    if (!eligible.length)
      throw new UserError('tasks.noApprovers', {
        task: name,
        approvers: task.approval!.approvers.join(', '),
      });
    const now = this.d.now();
    const id = await this.d.store.createApproval({
      ...asked(name, params, who, place),
      createdAt: now,
      expiresAt: now + task.approval!.expireAfter,
    });
    const approval = (await this.d.store.approval(id))!;
    const cards: string[] = [];
    for (const userId of eligible) {
      const r = await this.d.ctx.send.toUser(userId, this.approvalCard(approval));
      if (r.cardId) cards.push(r.cardId);
    }
    await this.d.store.setApprovalCards(id, cards);
    this.audit({
      by: who,
      place,
      command: `run ${name}`,
      args: shownParams(task, params),
      outcome: 'pending',
      detail: this.t('audit.approvalAsked', { id }),
    });
    return this.t('approvalAsked', {
      id,
      task: name,
      approvers: eligible.map((a) => `@${this.name(a)}`).join(', '),
      expires: this.d.time(approval.expiresAt),
    });
  }

  approvalCard(a: Approval): Card {
    const where = a.place.type === 'group' ? (this.d.ctx.groups.get(a.place.id)?.title ?? a.place.id) : 'DM';
    const shown = { ...a, params: shownParams(this.tasks[a.task], a.params) };
    return approvalCard((k, v) => this.t(k, v), shown, this.d.time, this.name, where);
  }

  /** Approve or reject: settled exactly once, by an approver, not by the requester when a second person is required. */
  async decide(id: number, decision: 'approved' | 'rejected', who: Caller): Promise<Card> {
    const a = await this.d.store.approval(id);
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
        status: this.t(`approval.${a.status}`),
        by: a.decidedBy ? this.t('approvedBy', { by: this.name(a.decidedBy) }) : '',
      });
    if (!task) throw deny('tasks.unknownRequest');
    if (!this.approvers(task).includes(who.userId)) throw deny('tasks.notApprover');
    if (task.approval?.secondPerson && who.userId === a.requestedBy) throw deny('tasks.selfApproval');
    if (!(await this.d.store.settle(id, decision, who.userId, this.d.now()))) {
      const now = await this.d.store.approval(id);
      if (now?.status === 'pending' && now.expiresAt <= this.d.now()) {
        await this.expire(now);
        throw deny('tasks.approvalExpired');
      }
      throw deny('tasks.approvalSettled', {
        status: this.t(`approval.${now?.status ?? 'pending'}`),
        by: now?.decidedBy ? this.t('approvedBy', { by: this.name(now.decidedBy) }) : '',
      });
    }
    this.audit({
      by: who,
      place: a.place,
      command: `task ${decision === 'approved' ? 'approve' : 'reject'}`,
      args: { request: id },
      outcome: 'ok',
      detail: this.t('audit.requestedBy', { task: a.task, who: a.requestedBy }),
    });
    const settled = (await this.d.store.approval(id))!;
    await this.refreshApprovalCards(settled);
    if (decision === 'approved') {
      const run = await this.start(
        a.task,
        task,
        a.params,
        { userId: a.requestedBy, nick: a.requestedByNick },
        a.place,
        who.userId,
      );
      await this.d.store.linkRun(id, run.id);
    } else {
      await this.say(a.place, this.t('approvalRejected', { id, task: a.task, by: this.name(who.userId) }));
    }
    return this.approvalCard(settled);
  }

  private async refreshApprovalCards(a: Approval): Promise<void> {
    const card = this.approvalCard(a);
    for (const cardId of a.cards)
      await this.d.ctx.send
        .updateCard(cardId, card)
        .catch((err) => this.d.ctx.log.warn({ err }, 'tasks: approval card not updated'));
  }

  private async expire(a: Approval): Promise<void> {
    if (!(await this.d.store.settle(a.id, 'expired', undefined, this.d.now()))) return;
    const expired = (await this.d.store.approval(a.id))!;
    await this.refreshApprovalCards(expired);
    await this.say(a.place, this.t('approvalExpired', { id: a.id }));
    this.audit({
      by: { userId: a.requestedBy, nick: a.requestedByNick },
      place: a.place,
      command: `run ${a.task}`,
      args: shownParams(this.tasks[a.task], a.params),
      outcome: 'denied',
      detail: this.t('audit.expired', { id: a.id }),
    });
  }

  /** Ends requests nobody decided in time (their cards say so; the requester is told). */
  async expireDue(): Promise<void> {
    const now = this.d.now();
    for (const a of await this.d.store.pendingApprovals()) if (a.expiresAt <= now) await this.expire(a);
  }

  /** The latest runs `who` may see here (`mine`: the ones they asked for). */
  async recent(who: Caller, place: RunPlace, mine: boolean, limit = 20): Promise<Run[]> {
    const seen: Run[] = [];
    // Newest first, in pages, until the list is full: others' runs are skipped, not counted.
    for (let before: number | undefined, pages = 0; seen.length < limit && pages < 20; pages++) {
      const page = await this.d.store.runs({
        requestedBy: mine ? who.userId : undefined,
        before,
        limit: 100,
        output: false,
      });
      for (const r of page) if (seen.length < limit && this.maySee(r, who, place)) seen.push(r);
      if (page.length < 100) break;
      before = page.at(-1)!.id;
    }
    return seen;
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
    return `#${run.id} **${run.task}** ${paramsText(shownParams(this.tasks[run.task], run.params))} · ${this.t(`status.${run.status}`, { code: run.exitCode ?? '?', timeout: '', error: run.error ?? '' })} · @${this.name(run.requestedBy)} · ${this.d.time(run.createdAt)}`;
  }
}

function asked(
  task: string,
  params: Record<string, string | boolean>,
  who: { userId: string; nick: string },
  place: RunPlace,
): Asked {
  return { task, params, requestedBy: who.userId, requestedByNick: who.nick, place };
}

/** Output shown as a code block (a fence inside the output cannot close it early). */
export function fence(text: string): string {
  return `\`\`\`\n${text.replace(/```/g, '`\u200b``')}\n\`\`\``;
}
