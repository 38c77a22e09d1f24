import { describe, expect, it } from 'vitest';
import { freshnessAlerts } from '../../src/features/freshness';

describe('feature view freshness alerts', () => {
  const at = '2001-03-12T00:00:00.000Z';
  it('alerts once per stale view, naming it and its staleness, and not for fresh ones', () => {
    const alerts = freshnessAlerts(
      [
        { view: 'origin_delays', stalenessMs: 2 * 3_600_000, lastAsOf: at, staleAfterMs: 3_600_000, stale: true },
        { view: 'route_delays', stalenessMs: 600_000, lastAsOf: at, staleAfterMs: 3_600_000, stale: false },
        { view: 'never', stalenessMs: null, lastAsOf: null, staleAfterMs: 3_600_000, stale: true },
      ],
      { model: 'flights', at },
    );
    expect(alerts.map((a) => [a.kind, a.details?.view])).toEqual([
      ['feature_staleness', 'origin_delays'],
      ['feature_staleness', 'never'],
    ]);
    expect(alerts[0].message).toMatch(/origin_delays's online store is 2\.0 h old \(alert past 1\.0 h\)/);
    expect(alerts[1].message).toMatch(/never materialised/);
    expect(new Set(alerts.map((a) => a.incidentKey)).size).toBe(2);
  });
});
