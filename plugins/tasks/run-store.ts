import type { Generated, Kysely, Selectable, Updateable } from 'kysely';

export type RunStatus =
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'timed-out'
  | 'cancelled'
  | 'error'
  | 'interrupted';

/** Where a run was asked for, so its answers find their way back. */
export interface RunPlace {
  type: 'group' | 'direct';
  /** openConversationId of a group; the requester's userId for a direct message. */
  id: string;
}

/** What a run and an approval request share: what was asked, with which values, by whom, where. */
export interface Asked {
  task: string;
  params: Record<string, string | boolean>;
  requestedBy: string;
  requestedByNick: string;
  place: RunPlace;
}

export interface Run extends Asked {
  id: number;
  approvedBy?: string;
  status: RunStatus;
  exitCode?: number;
  signal?: string;
  cardId?: string;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  output?: string;
  droppedBytes: number;
  error?: string;
  /** The bot process running it (the only one that can follow the program). */
  replica?: string;
  /** The process group of its program and the machine it runs on (while it runs). */
  pid?: number;
  host?: string;
  /** Who asked, on another replica, for it to be cancelled. */
  cancelRequestedBy?: string;
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface Approval extends Asked {
  id: number;
  status: ApprovalStatus;
  decidedBy?: string;
  runId?: number;
  /** The approval cards sent to approvers. */
  cards: string[];
  createdAt: number;
  expiresAt: number;
  /** What the task's definition was when asked (`taskDigest`); unknown for older requests. */
  taskDigest?: string;
}

/** The plugin's tables (the columns `migrations.ts` creates); a type so Kysely's `withTables` takes it. */
/** The columns a run and an approval request share: what was asked, by whom, where (`Asked`). */
type AskedColumns = {
  id: Generated<number>;
  task: string;
  /** JSON of the values asked with (secret ones included: never shown, see task-args.ts). */
  params: string;
  requested_by: string;
  requested_by_nick: string;
  /** JSON `RunPlace`. */
  conversation: string;
};

export type TasksTables = {
  tasks_run: AskedColumns & {
    approved_by: string | null;
    status: RunStatus;
    exit_code: number | null;
    signal: string | null;
    card_id: string | null;
    created_at: number;
    started_at: number | null;
    ended_at: number | null;
    /** Redacted output, capped by the task's outputLimit. */
    output: string | null;
    dropped_bytes: Generated<number>;
    error: string | null;
    replica: string | null;
    cancel_requested_by: string | null;
    /** The inbound message it was asked with (unique: a message handled again starts nothing). */
    message_id: string | null;
    /** Its process group (the supervisor's pid) and the machine it runs on. */
    pid: number | null;
    host: string | null;
  };
  tasks_slot: {
    task: string;
    slot: number;
    run_id: number | null;
    replica: string | null;
    claimed_at: number;
  };
  tasks_approval: AskedColumns & {
    status: ApprovalStatus;
    decided_by: string | null;
    run_id: number | null;
    /** JSON list of the approval cards' ids. */
    cards: string;
    created_at: number;
    expires_at: number;
    decided_at: number | null;
    /** The task's definition digest when asked (null for requests made before 0003). */
    task_digest: string | null;
  };
};
type RunRow = Omit<Selectable<TasksTables['tasks_run']>, 'output' | 'message_id'> & {
  output?: string | null;
};
type ApprovalRow = Selectable<TasksTables['tasks_approval']>;
type AskedRow = Pick<RunRow, 'task' | 'params' | 'requested_by' | 'requested_by_nick' | 'conversation'>;

const num = (v: number | null | undefined) => (v === null || v === undefined ? undefined : Number(v));

const askedColumns = (a: Asked) => ({
  task: a.task,
  params: JSON.stringify(a.params),
  requested_by: a.requestedBy,
  requested_by_nick: a.requestedByNick,
  conversation: JSON.stringify(a.place),
});

const askedFields = (r: AskedRow): Asked => ({
  task: r.task,
  params: JSON.parse(r.params) as Asked['params'],
  requestedBy: r.requested_by,
  requestedByNick: r.requested_by_nick,
  place: JSON.parse(r.conversation) as RunPlace,
});

/** Every column of a run but its output (lists need no output). */
const RUN_COLUMNS = [
  'id',
  'task',
  'params',
  'requested_by',
  'requested_by_nick',
  'conversation',
  'approved_by',
  'status',
  'exit_code',
  'signal',
  'card_id',
  'created_at',
  'started_at',
  'ended_at',
  'dropped_bytes',
  'error',
  'replica',
  'cancel_requested_by',
  'pid',
  'host',
] as const;

/** The plugin's tables: runs (with their capped output) and approval requests. */
export class RunStore {
  constructor(private readonly db: Kysely<TasksTables>) {}

  /**
   * Records a run; with the message it was asked with, a second run for the same message is
   * not made (`created: false`, the first run's id): a message handled again starts nothing.
   */
  async createRun(
    r: Omit<Run, 'id' | 'droppedBytes' | 'status'>,
    messageId?: string,
  ): Promise<{ id: number; created: boolean }> {
    const row = await this.db
      .insertInto('tasks_run')
      .values({
        ...askedColumns(r),
        approved_by: r.approvedBy ?? null,
        status: 'running',
        replica: r.replica ?? null,
        created_at: r.createdAt,
        started_at: r.startedAt ?? null,
        message_id: messageId ?? null,
      })
      .onConflict((oc) => oc.column('message_id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row) return { id: Number(row.id), created: true };
    const first = await this.db
      .selectFrom('tasks_run')
      .select('id')
      .where('message_id', '=', messageId ?? '')
      .executeTakeFirstOrThrow();
    return { id: Number(first.id), created: false };
  }

  /**
   * Takes a free slot of the task (0..concurrency-1) for a run about to start; undefined
   * when all are taken. The slot's primary key makes this atomic across replicas.
   */
  async claimSlot(
    task: string,
    concurrency: number,
    replica: string,
    now: number,
  ): Promise<number | undefined> {
    for (let slot = 0; slot < concurrency; slot++) {
      const r = await this.db
        .insertInto('tasks_slot')
        .values({ task, slot, run_id: null, replica, claimed_at: now })
        .onConflict((oc) => oc.columns(['task', 'slot']).doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) return slot;
    }
    return undefined;
  }

  /** The run that holds a claimed slot. */
  async holdSlot(task: string, slot: number, runId: number): Promise<void> {
    await this.db
      .updateTable('tasks_slot')
      .set({ run_id: runId })
      .where('task', '=', task)
      .where('slot', '=', slot)
      .execute();
  }

  async releaseSlot(task: string, slot: number): Promise<void> {
    await this.db.deleteFrom('tasks_slot').where('task', '=', task).where('slot', '=', slot).execute();
  }

  /** The slot a run holds goes free (its run ended, or was found interrupted). */
  async releaseRunSlot(runId: number): Promise<void> {
    await this.db.deleteFrom('tasks_slot').where('run_id', '=', runId).execute();
  }

  /** How many runs of the task hold a slot now (any replica). */
  async slotsTaken(task: string): Promise<number> {
    const r = await this.db
      .selectFrom('tasks_slot')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('task', '=', task)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /**
   * Slots no run holds any more: claimed and never given a run (a crash between the two
   * steps) for over a minute, or held by a run that ended.
   */
  async freeStaleSlots(now: number): Promise<void> {
    await this.db
      .deleteFrom('tasks_slot')
      .where((eb) =>
        eb.or([
          eb.and([eb('run_id', 'is', null), eb('claimed_at', '<', now - 60_000)]),
          eb('run_id', 'in', eb.selectFrom('tasks_run').select('id').where('status', '!=', 'running')),
        ]),
      )
      .execute();
  }

  async updateRun(id: number, patch: Partial<Run>): Promise<void> {
    const set: Updateable<TasksTables['tasks_run']> = {};
    if (patch.status) set.status = patch.status;
    if ('exitCode' in patch) set.exit_code = patch.exitCode ?? null;
    if ('signal' in patch) set.signal = patch.signal ?? null;
    if (patch.cardId) set.card_id = patch.cardId;
    if (patch.endedAt) set.ended_at = patch.endedAt;
    if ('output' in patch) set.output = patch.output ?? null;
    if (patch.droppedBytes !== undefined) set.dropped_bytes = patch.droppedBytes;
    if ('error' in patch) set.error = patch.error ?? null;
    if (patch.pid !== undefined) set.pid = patch.pid;
    if (patch.host !== undefined) set.host = patch.host;
    await this.db.updateTable('tasks_run').set(set).where('id', '=', id).execute();
  }

  async run(id: number): Promise<Run | undefined> {
    const r = await this.db.selectFrom('tasks_run').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toRun(r) : undefined;
  }

  /** Newest first. `before`: ids below this one (paging); `output: false` leaves the output out. */
  async runs(filter: {
    status?: RunStatus;
    requestedBy?: string;
    before?: number;
    limit: number;
    output?: boolean;
  }): Promise<Run[]> {
    let q = this.db
      .selectFrom('tasks_run')
      .select(RUN_COLUMNS)
      .$if(filter.output !== false, (b) => b.select('output'))
      .orderBy('id', 'desc')
      .limit(filter.limit);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.requestedBy) q = q.where('requested_by', '=', filter.requestedBy);
    if (filter.before !== undefined) q = q.where('id', '<', filter.before);
    return (await q.execute()).map(toRun);
  }

  /** Keeps the newest `keep` runs' output (the rows stay for history). */
  async pruneOutput(keep: number): Promise<void> {
    const edge = await this.db
      .selectFrom('tasks_run')
      .select('id')
      .orderBy('id', 'desc')
      .offset(keep)
      .limit(1)
      .executeTakeFirst();
    if (edge)
      await this.db.updateTable('tasks_run').set({ output: null }).where('id', '<=', edge.id).execute();
  }

  async createApproval(a: Omit<Approval, 'id' | 'status' | 'cards'>): Promise<number> {
    const row = await this.db
      .insertInto('tasks_approval')
      .values({
        ...askedColumns(a),
        status: 'pending',
        cards: '[]',
        created_at: a.createdAt,
        expires_at: a.expiresAt,
        task_digest: a.taskDigest ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async approval(id: number): Promise<Approval | undefined> {
    const r = await this.db.selectFrom('tasks_approval').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toApproval(r) : undefined;
  }

  async pendingApprovals(): Promise<Approval[]> {
    const rows = await this.db
      .selectFrom('tasks_approval')
      .selectAll()
      .where('status', '=', 'pending')
      .execute();
    return rows.map(toApproval);
  }

  async setApprovalCards(id: number, cards: string[]): Promise<void> {
    await this.db
      .updateTable('tasks_approval')
      .set({ cards: JSON.stringify(cards) })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Settles a pending request: only one decision ever wins (a conditional update), and a
   * request past its expiry can no longer be approved. `ended`: a request that can no longer
   * run as asked (its task changed) ends as expired before its time.
   */
  async settle(
    id: number,
    status: Exclude<ApprovalStatus, 'pending'>,
    by: string | undefined,
    now: number,
    ended = false,
  ) {
    let q = this.db
      .updateTable('tasks_approval')
      .set({ status, decided_by: by ?? null, decided_at: now })
      .where('id', '=', id)
      .where('status', '=', 'pending');
    if (!ended) q = status === 'expired' ? q.where('expires_at', '<=', now) : q.where('expires_at', '>', now);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Asks the replica running a run to cancel it (it looks every second); false if it is not running. */
  async requestCancel(id: number, by: string): Promise<boolean> {
    const r = await this.db
      .updateTable('tasks_run')
      .set({ cancel_requested_by: by })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Cancels asked for among these runs: run id to who asked. */
  async cancelRequests(ids: number[]): Promise<Map<number, string>> {
    if (!ids.length) return new Map();
    const rows = await this.db
      .selectFrom('tasks_run')
      .select(['id', 'cancel_requested_by'])
      .where('id', 'in', ids)
      .where('cancel_requested_by', 'is not', null)
      .execute();
    return new Map(rows.map((r) => [Number(r.id), r.cancel_requested_by ?? '']));
  }

  async linkRun(approvalId: number, runId: number): Promise<void> {
    await this.db.updateTable('tasks_approval').set({ run_id: runId }).where('id', '=', approvalId).execute();
  }
}

function toRun(r: RunRow): Run {
  return {
    id: Number(r.id),
    ...askedFields(r),
    approvedBy: r.approved_by ?? undefined,
    status: r.status,
    exitCode: num(r.exit_code),
    signal: r.signal ?? undefined,
    cardId: r.card_id ?? undefined,
    createdAt: Number(r.created_at),
    startedAt: num(r.started_at),
    endedAt: num(r.ended_at),
    output: r.output ?? undefined,
    droppedBytes: Number(r.dropped_bytes ?? 0),
    error: r.error ?? undefined,
    replica: r.replica ?? undefined,
    cancelRequestedBy: r.cancel_requested_by ?? undefined,
    pid: num(r.pid),
    host: r.host ?? undefined,
  };
}

function toApproval(r: ApprovalRow): Approval {
  return {
    id: Number(r.id),
    ...askedFields(r),
    status: r.status,
    decidedBy: r.decided_by ?? undefined,
    runId: num(r.run_id),
    cards: JSON.parse(r.cards) as string[],
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    taskDigest: r.task_digest ?? undefined,
  };
}
