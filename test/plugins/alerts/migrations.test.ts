import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../../core/storage/migrations.js';
import { alertsMigrations } from '../../../plugins/alerts/migrations.js';
import type { AlertsTables } from '../../../plugins/alerts/tables.js';
import { useMigratedStore } from '../../helpers/storage.js';

const store = useMigratedStore();

describe('the alerts tables', () => {
  it("index an alert's incident once, and still find an incident's alerts by index", async () => {
    const db = store().db.withTables<AlertsTables>();
    await migrateToLatest(db, 'alerts', alertsMigrations);
    const names =
      store().dialect === 'sqlite'
        ? (
            await sql<{
              name: string;
            }>`select name from sqlite_master where type = 'index' and tbl_name = 'alerts_alert'`.execute(db)
          ).rows
        : (
            await sql<{
              name: string;
            }>`select indexname as name from pg_indexes where tablename = 'alerts_alert' and schemaname = current_schema()`.execute(
              db,
            )
          ).rows;
    const list = names.map((n) => n.name);
    expect(list).toContain('alerts_alert_incident_state');
    // The plain incident_id index was a prefix of the one above: every alert written updated both.
    expect(list).not.toContain('alerts_alert_incident');
    if (store().dialect === 'sqlite') {
      const plan = await sql<{
        detail: string;
      }>`explain query plan select * from alerts_alert where incident_id = ${1} order by starts_at`.execute(
        db,
      );
      expect(plan.rows.map((r) => r.detail).join(' ')).toMatch(/USING INDEX alerts_alert_incident_state/);
    }
  });
});
