import type { CheckResult } from 'dingops';
import type { TasksConfig } from './config.js';
import { allowsDirect } from './task-policy.js';

/**
 * `doctor`'s review of the declared tasks: an agent runner reachable from groups is an
 * error (anyone who can @mention the bot there can steer it); a task anyone with a role may
 * run in any group, without approval, is a warning.
 */
export function securityReview(
  config: TasksConfig,
  t: (k: string, v?: Record<string, unknown>) => string,
  resolveGroup: (ref: string) => string,
): CheckResult[] {
  const out: CheckResult[] = [];
  for (const [name, task] of Object.entries(config.tasks)) {
    const where = `plugins.tasks.tasks.${name}.allow`;
    // A group in `allow.groups` that names no installed group lets the task run nowhere there.
    for (const ref of task.allow.groups) {
      try {
        resolveGroup(ref);
      } catch (err) {
        out.push({
          id: `tasks.groups.${name}`,
          severity: 'error',
          message: (err as Error).message,
          where: `${where}.groups`,
        });
      }
    }
    const directOnly = task.allow.directOnly ?? task.kind === 'agent';
    if (task.allow.groups.length && !directOnly)
      out.push({
        id: `tasks.places.${name}`,
        severity: 'ok',
        message: t(allowsDirect(task) ? 'tasks.doctor.groupsAndDirect' : 'tasks.doctor.groupsOnly', {
          task: name,
          groups: task.allow.groups.join(', '),
        }),
        where: `${where}.direct`,
      });
    if (task.kind === 'agent' && !directOnly)
      out.push({
        id: `tasks.security.${name}`,
        severity: 'error',
        message: t('tasks.doctor.agentInGroups', { task: name }),
        where,
        fix: t('tasks.doctor.agentInGroupsFix'),
      });
    else if (
      task.kind === 'command' &&
      !directOnly &&
      !task.allow.groups.length &&
      task.allow.roles.length &&
      !task.approval
    )
      out.push({
        id: `tasks.security.${name}`,
        severity: 'warn',
        message: t('tasks.doctor.openGroups', { task: name, roles: task.allow.roles.join(', ') }),
        where,
        fix: t('tasks.doctor.openGroupsFix'),
      });
  }
  // The places each group-limited task runs are said either way; the summary when all is well.
  if (out.some((r) => r.severity !== 'ok')) return out;
  return [
    ...out,
    {
      id: 'tasks.security',
      severity: 'ok',
      message: t('tasks.doctor.ok', { count: Object.keys(config.tasks).length }),
    },
  ];
}
