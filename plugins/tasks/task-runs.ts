import { hostname } from 'node:os';
import type { Caller, InboundMessage, PluginContext, SecretRedactor } from 'dingops';
import { present, UserError } from 'dingops';
import type { TaskConfig, TasksConfig } from './config.js';
import { OutputStream, STREAM_TAIL_BYTES } from './output-stream.js';
import type { Asked, Run, RunPlace, RunStatus, RunStore } from './run-store.js';
import { type RunningTask, type RunResult, runTask } from './runner.js';
import { buildArgv, buildEnv, secretValues, shownParams } from './task-args.js';
import type { TaskAuditEntry } from './task-audit.js';
import type { TaskPolicy } from './task-policy.js';
import { fence, type TaskPresenter } from './task-presenter.js';

interface Live {
  handle: RunningTask;
  run: Run;
  cancelledBy?: string;
  /** Stopped because the bot is stopping. */
  interrupted?: boolean;
  /** Settles once the run's end is recorded and shown. */
  finished: Promise<void>;
}

/**
 * The runs' lifecycle: starts the program (no shell) with its output streamed, redacted, to
 * the run's card, records the end, cancels, marks runs a restart cut short, and finds runs
 * for those who may see them.
 */
export class TaskRuns {
  private readonly live = new Map<number, Live>();
  private cancelTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: PluginContext<TasksConfig>,
    private readonly store: RunStore,
    private readonly policy: TaskPolicy,
    private readonly present: TaskPresenter,
    private readonly audit: (entry: TaskAuditEntry) => void,
    private readonly now: () => number,
  ) {}

  private get tasks(): Record<string, TaskConfig> {
    return this.ctx.config.tasks;
  }

  /**
   * Takes one of the task's `concurrency` slots for a run about to start, on any replica
   * (the store decides); refuses with `tasks.busy` when all are taken.
   */
  async claim(name: string, task: TaskConfig): Promise<number> {
    const slot = await this.store.claimSlot(name, task.concurrency, this.ctx.replica.id, this.now());
    if (slot === undefined) throw new UserError('tasks.busy', { task: name, count: task.concurrency });
    return slot;
  }

  /** Frees a slot taken for a run that did not start after all. */
  release(name: string, slot: number): Promise<void> {
    return this.store.releaseSlot(name, slot);
  }

  /**
   * Starts a run in a slot of the task: the one given (claimed by the caller, e.g. before an
   * approval is settled), or one claimed here. A message handled again (after a crash) starts
   * nothing: the run it already started is answered.
   */
  async start(
    name: string,
    task: TaskConfig,
    params: Record<string, string | boolean>,
    who: { userId: string; nick: string },
    place: RunPlace,
    approvedBy: string | undefined,
    message?: InboundMessage,
    claimed?: number,
  ): Promise<Run> {
    const slot = claimed ?? (await this.claim(name, task));
    const now = this.now();
    let made: { id: number; created: boolean };
    try {
      made = await this.store.createRun(
        {
          ...asked(name, params, who, place),
          approvedBy,
          createdAt: now,
          startedAt: now,
          replica: this.ctx.replica.id,
        },
        message?.id,
      );
    } catch (err) {
      await this.store.releaseSlot(name, slot).catch(() => undefined);
      throw err;
    }
    const { id } = made;
    if (!made.created) {
      await this.store.releaseSlot(name, slot);
      this.ctx.log.info(
        { run: id, message: message?.id },
        'tasks: a message handled again; its run already exists',
      );
      return present(await this.store.run(id), `run ${id}`);
    }
    await this.store.holdSlot(name, slot, id);
    const run = present(await this.store.run(id), `run ${id}`);
    const receipt = await this.present.say(place, this.present.card(run, task), message);
    if (receipt.cardId) await this.store.updateRun(id, { cardId: receipt.cardId });
    run.cardId = receipt.cardId;
    this.audit({
      by: who,
      place,
      command: `run ${name}`,
      args: shownParams(task, params),
      outcome: 'pending',
      detail: this.present.t('audit.started', { id }),
    });

    const env = buildEnv(task);
    const stream = new OutputStream(
      async (text, final, error) => {
        if (!run.cardId) return false;
        // The output kept so far is stored with each update: a restart loses at most a second of it.
        if (!final) await this.store.updateRun(id, { output: stream.output });
        return this.ctx.send.streamCard(run.cardId, fence(text), {
          final,
          error,
          fallbackTitle: `${name} #${id}`,
        });
      },
      this.ctx.config.updateInterval,
      (err) => this.ctx.log.warn({ err, run: id }, 'tasks: output update failed'),
      this.redactorFor(task, env, params),
      this.now,
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
    this.watchCancels();
    // Where its processes are: the sweep marks a run interrupted only once they are gone.
    if (handle.pid !== undefined)
      await this.store.updateRun(id, { pid: handle.pid, host: hostname() }).catch(() => undefined);
    live.finished = handle.done
      .then((result) => this.finish(name, task, run, result, stream, live))
      .catch((err) => this.ctx.log.error({ err, run: id }, 'tasks: finishing a run failed'))
      .finally(() => {
        this.live.delete(id);
        void this.store
          .releaseRunSlot(id)
          .catch((err) => this.ctx.log.warn({ err, run: id }, 'tasks: freeing a run slot failed'));
      });
    return run;
  }

  /** The bot's secrets, the task's (configured values, secret env, secret params). */
  private redactorFor(
    task: TaskConfig,
    env: Record<string, string>,
    params: Record<string, string | boolean>,
  ): SecretRedactor {
    return this.ctx.redactor.with(...secretValues(task, env, params));
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
    await this.store.updateRun(run.id, {
      status,
      exitCode: result.exitCode ?? undefined,
      signal: result.signal ?? undefined,
      endedAt: this.now(),
      output,
      droppedBytes: result.droppedBytes,
      error: result.error,
    });
    if (task.kind === 'agent' && task.session) await this.keepSession(name, run.requestedBy, task, output);
    const done = present(await this.store.run(run.id), `run ${run.id}`);
    // The last output first, then the final state: whoever sees the state sees all the output.
    const final = this.present.outputText(
      done,
      output,
      STREAM_TAIL_BYTES,
      this.present.t('earlier', { id: run.id }),
    );
    const streamed = await stream.finish(final, status !== 'succeeded');
    // A card that cannot stream (markdown) gets the output as its own message.
    if (!streamed)
      await this.present.say(done.place, { markdown: fence(final), title: `${name} #${run.id}` });
    if (done.cardId) await this.ctx.send.updateCard(done.cardId, this.present.card(done, task));
    this.audit({
      by: { userId: run.requestedBy, nick: run.requestedByNick },
      place: run.place,
      command: `run ${name}`,
      args: shownParams(task, run.params),
      outcome: status === 'succeeded' ? 'ok' : status === 'cancelled' ? 'cancelled' : 'error',
      detail: this.present.t('audit.ended', {
        id: run.id,
        status: { key: `tasks.audit.status.${status}` },
        exit: result.exitCode !== null ? this.present.t('audit.exit', { code: result.exitCode }) : '',
        signal: result.signal ? ` ${result.signal}` : '',
        approved: run.approvedBy ? this.present.t('audit.approvedBy', { who: run.approvedBy }) : '',
        cancelled: live.cancelledBy ? this.present.t('audit.cancelledBy', { who: live.cancelledBy }) : '',
      }),
      durationMs: result.durationMs,
    });
  }

  private session(task: string, userId: string): Promise<string | undefined> {
    return this.ctx.store.kv.get<string>(`session:${task}:${userId}`);
  }

  private async keepSession(task: string, userId: string, config: TaskConfig, output: string): Promise<void> {
    if (!config.session) return;
    const m = new RegExp(config.session.capture).exec(output);
    if (m?.[1]) await this.ctx.store.kv.set(`session:${task}:${userId}`, m[1]);
  }

  async cancel(id: number, who: Caller): Promise<string> {
    const run = await this.store.run(id);
    if (!run) throw new UserError('tasks.unknownRun', { id });
    if (run.status !== 'running') throw new UserError('tasks.notRunning', { id, status: run.status });
    if (run.requestedBy !== who.userId && !who.isAdmin) {
      this.audit({ by: who, place: run.place, command: 'task cancel', args: { run: id }, outcome: 'denied' });
      throw new UserError('tasks.denied.cancel', { id });
    }
    const live = this.live.get(id);
    if (live) {
      live.cancelledBy = who.userId;
      live.handle.cancel();
    } else if (
      !(
        run.replica &&
        (await this.ctx.replica.alive(run.replica)) &&
        (await this.store.requestCancel(id, who.userId))
      )
    )
      // Nobody is running it any more (its replica is gone): the sweep marks it interrupted.
      throw new UserError('tasks.notRunning', { id, status: run.status });
    return this.present.t('cancelling', { id });
  }

  /** Looks for cancels asked for elsewhere every second while this replica runs something. */
  private watchCancels(): void {
    if (this.cancelTimer) return;
    this.cancelTimer = setInterval(() => {
      if (!this.live.size) {
        clearInterval(this.cancelTimer);
        this.cancelTimer = undefined;
        return;
      }
      void this.pickUpCancels().catch((err) =>
        this.ctx.log.warn({ err }, 'tasks: reading cancel requests failed'),
      );
    }, 1_000);
    this.cancelTimer.unref();
  }

  /** Cancels asked for on other replicas, for the runs this one runs (looked at every second). */
  private async pickUpCancels(): Promise<void> {
    const asked = await this.store.cancelRequests([...this.live.keys()]);
    for (const [id, by] of asked) {
      const live = this.live.get(id);
      if (!live || live.cancelledBy) continue;
      live.cancelledBy = by;
      live.handle.cancel();
    }
  }

  /**
   * Runs nobody can follow any more (their process is gone: this one's previous life, or a
   * replica whose heartbeat stopped) are marked interrupted, their cards finalized. A run of
   * a live replica is its business.
   */
  async markInterrupted(): Promise<void> {
    await this.store.freeStaleSlots(this.now());
    for (const run of await this.store.runs({ status: 'running', limit: 1000 })) {
      if (this.live.has(run.id)) continue;
      // Ours (this process: not in `live` only while it starts) or a live replica's: not ours to end.
      if (run.replica && (await this.ctx.replica.alive(run.replica))) continue;
      // Its processes end with their replica (the supervisor stops the group within a few
      // seconds); on this machine that is checked, and a run whose group still lives waits.
      if (run.pid !== undefined && run.host === hostname() && groupAlive(run.pid)) continue;
      await this.store.updateRun(run.id, { status: 'interrupted', endedAt: this.now() });
      await this.store.releaseRunSlot(run.id);
      const done = present(await this.store.run(run.id), `run ${run.id}`);
      const task = this.tasks[run.task];
      this.ctx.log.warn({ run: run.id, task: run.task }, 'tasks: a run was interrupted by a restart');
      if (!done.cardId) continue;
      // As at the end of any run: the output first, then the final state.
      const output = this.present.outputText(
        done,
        done.output ?? '',
        STREAM_TAIL_BYTES,
        this.present.t('earlier', { id: run.id }),
      );
      const text = fence(`${output}\n${this.present.t('status.interrupted')}`);
      const streamed = await this.ctx.send.streamCard(done.cardId, text, { final: true, error: true });
      if (!streamed) await this.present.say(done.place, { markdown: text, title: `${run.task} #${run.id}` });
      await this.ctx.send.updateCard(done.cardId, this.present.card(done, task));
    }
  }

  /** The bot is stopping: its runs end now, marked as interrupted by the restart. */
  async stopAll(): Promise<void> {
    clearInterval(this.cancelTimer);
    this.cancelTimer = undefined;
    for (const l of this.live.values()) {
      l.interrupted = true;
      l.handle.cancel();
    }
    await Promise.all([...this.live.values()].map((l) => l.finished));
  }

  /** A run `who` may see here; an unknown run and one they may not see are both refused (audited). */
  async view(id: number, who: Caller, place: RunPlace, command: string): Promise<Run> {
    const run = await this.store.run(id);
    if (!run) throw new UserError('tasks.unknownRun', { id });
    if (!this.policy.maySee(run, who, place)) {
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

  /** The latest runs `who` may see here (`mine`: the ones they asked for). */
  async recent(who: Caller, place: RunPlace, mine: boolean, limit = 20): Promise<Run[]> {
    const seen: Run[] = [];
    // Newest first, in pages, until the list is full: others' runs are skipped, not counted.
    for (let before: number | undefined, pages = 0; seen.length < limit && pages < 20; pages++) {
      const page = await this.store.runs({
        requestedBy: mine ? who.userId : undefined,
        before,
        limit: 100,
        output: false,
      });
      for (const r of page) if (seen.length < limit && this.policy.maySee(r, who, place)) seen.push(r);
      if (page.length < 100) break;
      before = page.at(-1)?.id;
    }
    return seen;
  }
}

/** What a run or a request was asked with. */
export function asked(
  task: string,
  params: Record<string, string | boolean>,
  who: { userId: string; nick: string },
  place: RunPlace,
): Asked {
  return { task, params, requestedBy: who.userId, requestedByNick: who.nick, place };
}

/** Whether any process of a process group is still there. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
