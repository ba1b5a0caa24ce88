import type { AlertsConfig } from './config.js';
import { num } from './tables.js';

/** An alert's count of state changes within the flapping window, and since when. */
export interface StateChanges {
  changes: number;
  changes_since: number | null;
}

/**
 * Counts an alert's state change: the count within the flapping window, restarted when the
 * window has passed. Enough changes (`flapping.changes`) mark its incident as flapping
 * (shown on the card, no reminders).
 */
export function countStateChange(
  flapping: AlertsConfig['flapping'],
  alert: StateChanges,
  now: number,
): StateChanges & { flapping: boolean } {
  const since = num(alert.changes_since);
  const fresh = since === undefined || now - since > flapping.window;
  const changes = fresh ? 1 : Number(alert.changes) + 1;
  return { changes, changes_since: fresh ? now : (since ?? null), flapping: changes >= flapping.changes };
}
