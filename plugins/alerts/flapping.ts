import type { Transaction } from 'kysely';
import type { AlertsConfig } from './config.js';
import { addTimeline } from './incident-store.js';
import { type AlertsTables, num } from './tables.js';

/** An alert's count of state changes within the flapping window, and since when. */
export interface StateChanges {
  changes: number;
  changes_since: number | null;
}

/**
 * Counts an alert's state change; enough changes within the flapping window mark its
 * incident as flapping (shown on the card, no reminders). Returns the alert's new count.
 */
export async function countStateChange(
  trx: Transaction<AlertsTables>,
  flapping: AlertsConfig['flapping'],
  alert: StateChanges & { fingerprint: string },
  incidentId: number,
  now: number,
): Promise<StateChanges> {
  const since = num(alert.changes_since);
  const fresh = since === undefined || now - since > flapping.window;
  const changes = fresh ? 1 : Number(alert.changes) + 1;
  const counted = { changes, changes_since: fresh ? now : (since ?? null) };
  await trx.updateTable('alerts_alert').set(counted).where('fingerprint', '=', alert.fingerprint).execute();
  if (changes < flapping.changes) return counted;
  const r = await trx
    .updateTable('alerts_incident')
    .set({ flapping: 1 })
    .where('id', '=', incidentId)
    .where('flapping', '=', 0)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 1)
    await addTimeline(trx, incidentId, now, 'dingops', 'flapping', `${changes} state changes`);
  return counted;
}
