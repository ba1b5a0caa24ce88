import { type Card, type CardStatus, card, formatDuration } from 'dingops';
import type { Approval, Run } from './run-store.js';

type T = (key: string, vars?: Record<string, unknown>) => string;

const ICON: Record<string, string> = {
  running: '▶️',
  succeeded: '✅',
  failed: '❌',
  'timed-out': '⏱️',
  cancelled: '⛔',
  error: '⚠️',
  interrupted: '⚠️',
};
const COLOR: Record<string, CardStatus> = {
  running: 'info',
  succeeded: 'success',
  failed: 'danger',
  'timed-out': 'danger',
  cancelled: 'neutral',
  error: 'danger',
  interrupted: 'warning',
};

export function paramsText(params: Record<string, string | boolean>): string {
  const entries = Object.entries(params);
  return entries.length ? entries.map(([k, v]) => `\`${k}=${v}\``).join(' ') : '-';
}

export function statusText(t: T, run: Pick<Run, 'status' | 'exitCode' | 'error'>, timeoutMs: number): string {
  return t(`tasks.status.${run.status}`, {
    code: run.exitCode ?? '?',
    timeout: formatDuration(timeoutMs),
    error: run.error ?? '',
  });
}

/** The card of a run: where it stands; the output streams below it. */
export function runCard(t: T, run: Run, timeoutMs: number, now: number, name: (u: string) => string): Card {
  const fields = [
    { label: t('tasks.field.status'), value: statusText(t, run, timeoutMs) },
    { label: t('tasks.field.requestedBy'), value: `@${name(run.requestedBy)}` },
    { label: t('tasks.field.params'), value: paramsText(run.params) },
  ];
  if (run.approvedBy) fields.push({ label: t('tasks.field.approvedBy'), value: `@${name(run.approvedBy)}` });
  if (run.startedAt !== undefined)
    fields.push({
      label: t('tasks.field.duration'),
      value: formatDuration(Math.max(0, (run.endedAt ?? now) - run.startedAt)),
    });
  return card({
    title: t('tasks.runTitle', { icon: ICON[run.status] ?? '', task: run.task, id: run.id }),
    status: COLOR[run.status] ?? 'info',
    fields,
    buttons:
      run.status === 'running'
        ? [
            {
              text: t('tasks.button.cancel'),
              style: 'danger',
              action: { id: 'tasks.cancel', params: { run: String(run.id) } },
              command: `task cancel ${run.id}`,
            },
          ]
        : [],
    footer: t('tasks.runFooter', { id: run.id }),
  });
}

/**
 * The card approvers get: what, by whom, where; Approve and Reject until it is settled, then
 * its title says how it was settled (an approved card that still read "approval needed" sent
 * people to approve it again).
 */
export function approvalCard(
  t: T,
  a: Approval,
  time: (ms: number) => string,
  name: (u: string) => string,
  where: string,
): Card {
  const settled = a.status !== 'pending';
  return card({
    title: t(settled ? `tasks.approvalTitle.${a.status}` : 'tasks.approvalTitle', { task: a.task }),
    status: settled ? (a.status === 'approved' ? 'success' : 'neutral') : 'warning',
    fields: [
      { label: t('tasks.field.requestedBy'), value: `@${name(a.requestedBy)}` },
      { label: t('tasks.field.where'), value: where },
      { label: t('tasks.field.params'), value: paramsText(a.params) },
      settled
        ? {
            label: t('tasks.field.status'),
            value: `${t(`tasks.approval.${a.status}`)}${a.decidedBy ? ` · @${name(a.decidedBy)}` : ''}`,
          }
        : { label: t('tasks.field.expires'), value: time(a.expiresAt) },
    ],
    buttons: settled
      ? []
      : [
          {
            text: t('tasks.button.approve'),
            style: 'primary',
            action: { id: 'tasks.approve', params: { request: String(a.id) } },
            command: `task approve ${a.id}`,
          },
          {
            text: t('tasks.button.reject'),
            style: 'danger',
            action: { id: 'tasks.reject', params: { request: String(a.id) } },
            command: `task reject ${a.id}`,
          },
        ],
    footer: `#${a.id}`,
  });
}
