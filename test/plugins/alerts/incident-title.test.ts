import { describe, expect, it } from 'vitest';
import { incidentTitle } from '../../../plugins/alerts/incident-title.js';

describe('incident titles', () => {
  const base = { title: 'Disk full on db-1', labels: { alertname: 'DiskFull', service: 'db', env: 'prod' } };
  it('one alert: its own title', () => {
    expect(
      incidentTitle({ ...base, total: 1, groupKey: 'alertmanager:{}:{service="db"}' }, ['alertname']),
    ).toBe('Disk full on db-1');
  });
  it("several: the sender's group labels, alertname first, else the grouping labels they share", () => {
    expect(
      incidentTitle(
        { ...base, total: 3, groupKey: 'alertmanager:{}:{service="db", alertname="DiskFull"}' },
        [],
      ),
    ).toBe('DiskFull · service=db (3)');
    expect(incidentTitle({ ...base, total: 2, groupKey: 'grafana:{}/{}:{}' }, ['env'])).toBe(
      'DiskFull · env=prod (2)',
    );
    expect(incidentTitle({ ...base, total: 2, groupKey: 'labels:{a="say \\"hi\\""}' }, [])).toBe(
      'a=say "hi" (2)',
    );
  });
});
