import type { Caller, PluginContext } from 'dingops';
import type { TaskConfig, TasksConfig } from './config.js';
import type { Run, RunPlace } from './run-store.js';

/** Who asks for a run: their identity and what the core knows of their roles. */
export interface Requester {
  userId: string;
  nick: string;
  caller: Caller;
}

/**
 * Who may run, see and approve which task where. Deny by default: a task nobody is named for
 * is for admins only; agent tasks only for the people named, in a direct chat.
 */
export class TaskPolicy {
  constructor(private readonly ctx: PluginContext<TasksConfig>) {}

  private get tasks(): Record<string, TaskConfig> {
    return this.ctx.config.tasks;
  }

  /** Why `who` may not run `name` at `place` (an i18n key), or undefined when they may. */
  denial(task: TaskConfig, who: Caller, place: RunPlace): string | undefined {
    return this.placeDenial(task, place) ?? this.personDenial(task, who);
  }

  /** Why the task may not run at `place` (for anyone), or undefined. */
  private placeDenial(task: TaskConfig, place: RunPlace): string | undefined {
    const directOnly = task.allow.directOnly ?? task.kind === 'agent';
    if (directOnly && place.type !== 'direct') return 'tasks.denied.direct';
    // A task limited to some groups is for those groups: a DM is none of them, unless allowed.
    if (place.type === 'direct' && !directOnly && !allowsDirect(task)) return 'tasks.denied.groupsOnly';
    if (place.type === 'group' && task.allow.groups.length) {
      const ok = task.allow.groups.some((g) => {
        try {
          return this.ctx.groups.resolve(g) === place.id;
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
      (u) => u === who.userId || this.ctx.people.find(u)?.userId === who.userId,
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

  /** Tasks this person may run here. */
  permitted(who: Caller, place: RunPlace): Array<[string, TaskConfig]> {
    return Object.entries(this.tasks).filter(([, t]) => !this.denial(t, who, place));
  }

  /** The userIds of a task's approvers (`people` names, userIds, `role:<name>`). */
  approvers(task: TaskConfig): string[] {
    const roles = this.ctx.access.roles;
    const ids = new Set<string>();
    for (const ref of task.approval?.approvers ?? []) {
      if (ref.startsWith('role:')) for (const u of roles[ref.slice(5)] ?? []) ids.add(u);
      else {
        const p = this.ctx.people.find(ref);
        if (p?.userId) ids.add(p.userId);
        else if (!p) ids.add(ref);
      }
    }
    return [...ids];
  }
}

/** Whether a task may run from a direct message: `allow.direct`, by default unless `allow.groups` limits it. */
export function allowsDirect(task: TaskConfig): boolean {
  return task.allow.direct ?? task.allow.groups.length === 0;
}
