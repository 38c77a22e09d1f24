import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schedulesFor } from '../../src/runtime/schedules';
import { WebhookRejectedErrorType } from '../../src/notify/webhook';
import { webhookRejectedErrorType } from '../../src/shared/notifications';
import { monitorInputSchema, monitorWindow, periodOfWindow, recentDataPipeline } from '../../src/shared/monitoring';
import { cronSpecProblem, projectConfigSchema } from '../../src/shared/project-config';
import { describeIssues } from '../../src/shared/validation';
import { parseJson } from '../fixtures/json';

const config = projectConfigSchema.parse(JSON.parse(readFileSync('keel.config.json', 'utf8')));
const pipeline = config.pipeline;

function issues(schema: typeof monitorInputSchema | typeof projectConfigSchema, value: unknown): string[] {
  const result = schema.safeParse(value);
  return result.success ? [] : describeIssues(result.error.issues, value);
}

describe('monitor input', () => {
  const base = { model: 'flight-delays', windowMinutes: 60, minRows: 100 };

  it('fills every default: drift, performance, notifications with retry, policy', () => {
    const input = monitorInputSchema.parse(base);
    expect(input.maxRows).toBe(200_000);
    expect(input.drift).toMatchObject({ datasetDriftShare: 0.5, statistics: 'all', columns: {} });
    expect(input.performance).toMatchObject({
      enabled: true,
      minLabelled: 200,
      maxDrop: 0.03,
      maxIncrease: 0.1,
      labelShift: { enabled: true, maxChange: 0.02 },
    });
    // No metric: each report takes the monitored version's task default (rocAuc for binary).
    expect(input.performance.metric).toBeUndefined();
    expect(input.notifications).toMatchObject({
      webhooks: [],
      dedupWindowMs: 86_400_000,
      retry: { maximumAttempts: 5, initialIntervalSeconds: 2 },
    });
    expect(input.policy).toMatchObject({ rollback: { enabled: true }, retrain: { enabled: false, afterConsecutive: 3 } });
    // The parsed input parses again to itself (continue-as-new passes it on).
    expect(monitorInputSchema.parse(input)).toEqual(input);
  });

  it('names every bad field with its value', () => {
    const bad = {
      ...base,
      window: { start: '2001-02-01T00:00:00Z', end: '2001-01-01T00:00:00Z' },
      loop: { everySeconds: 60 },
      drift: { thresholds: { ks: 3 } },
      notifications: { webhooks: [{ name: 'a', url: 'ftp://x' }] },
      policy: { retrain: { enabled: true } },
    };
    const found = issues(monitorInputSchema, bad).join('\n');
    expect(found).toContain('window: start must be before end');
    expect(found).toContain('drift.thresholds.ks: a p-value threshold must be below 1, got 3');
    expect(found).toContain('notifications.webhooks.0.url: must be an http(s) URL (got "ftp://x")');
  });

  it('refuses a window with a loop, retraining without a pipeline, and a pipeline of another model', () => {
    expect(
      issues(monitorInputSchema, {
        ...base,
        window: { start: '2001-01-01T00:00:00Z', end: '2001-01-02T00:00:00Z' },
        loop: { everySeconds: 5 },
      }),
    ).toEqual([expect.stringContaining('loop: an explicit window cannot repeat')]);
    expect(issues(monitorInputSchema, { ...base, policy: { retrain: { enabled: true } } })).toEqual([
      expect.stringContaining('policy.retrain.pipeline: retraining is enabled but no pipeline is given to run'),
    ]);
    expect(issues(monitorInputSchema, { ...base, model: 'other', policy: { retrain: { enabled: true, pipeline } } })).toEqual([
      expect.stringContaining('the retraining pipeline trains "flight-delays", the monitor watches "other"'),
    ]);
  });

  it('windows: explicit, or the minutes before the nominal time; periods: the UTC days touched', () => {
    expect(monitorWindow({ windowMinutes: 60 }, new Date('2026-03-01T10:30:00Z'))).toEqual({
      start: '2026-03-01T09:30:00.000Z',
      end: '2026-03-01T10:30:00.000Z',
    });
    expect(
      monitorWindow({ windowMinutes: 60, window: { start: '2001-02-01T00:00:00+01:00', end: '2001-03-01T00:00:00Z' } }, new Date()),
    ).toEqual({
      start: '2001-01-31T23:00:00.000Z',
      end: '2001-03-01T00:00:00.000Z',
    });
    expect(periodOfWindow({ start: '2026-03-01T09:30:00Z', end: '2026-03-01T10:30:00Z' })).toEqual({
      from: '2026-03-01',
      to: '2026-03-02',
    });
    expect(periodOfWindow({ start: '2026-03-01T00:00:00Z', end: '2026-03-03T00:00:00Z' })).toEqual({
      from: '2026-03-01',
      to: '2026-03-03',
    });
  });

  it('retrains on the drifted period: the flights period, a mapped filter, or the source as configured', () => {
    const recent = recentDataPipeline(pipeline, { from: '2001-02-01', to: '2001-04-01' });
    expect(recent.dataset).toMatchObject({
      recipe: 'flights',
      name: 'flight-delays-2001-02-01_2001-04-01',
      period: { from: '2001-02-01', to: '2001-04-01' },
    });
    expect(recent.trainer).toEqual(pipeline.trainer);
    const mapped = {
      ...pipeline,
      dataset: { name: 'homes', recipe: 'mapping' as const, sources: [], columns: [], filter: { column: 'listed', from: '2020-01-01' } },
    } as unknown as typeof pipeline;
    expect(recentDataPipeline(mapped, { from: '2024-05-01', to: '2024-06-01' }).dataset).toMatchObject({
      filter: { column: 'listed', from: '2024-05-01', to: '2024-06-01' },
    });
    const unfiltered = { ...mapped, dataset: { ...mapped.dataset, filter: undefined } } as typeof pipeline;
    expect(recentDataPipeline(unfiltered, { from: '2024-05-01', to: '2024-06-01' })).toBe(unfiltered);
  });

  it('the workflow-side name of the non-retryable webhook error is the one the notifier throws', () => {
    expect(webhookRejectedErrorType).toBe(WebhookRejectedErrorType);
  });
});

describe('schedule specs', () => {
  it('accepts five-field cron specs, names and macros', () => {
    for (const spec of ['0 3 * * 1', '*/15 0-6,22 1,15 JAN-MAR mon-fri', '5 4 * * SUN', '@daily', '0 0 1 */2 *'])
      expect(cronSpecProblem(spec)).toBeNull();
  });

  it('rejects a spec that does not parse, with the reason', () => {
    expect(cronSpecProblem('0 3 * *')).toBe('needs five fields (minute hour day-of-month month day-of-week), got 4: "0 3 * *"');
    expect(cronSpecProblem('61 3 * * 1')).toBe('minute field "61": "61" is not a value in 0-59');
    expect(cronSpecProblem('0 3 * * FUNDAY')).toBe('day-of-week field "FUNDAY": "FUNDAY" is not a value in 0-6 or SUN-SAT');
    expect(cronSpecProblem('0 20-4 * * *')).toBe('hour field "20-4": range "20-4" runs backwards');
    expect(cronSpecProblem('*/0 * * * *')).toBe('minute field "*/0": step "0" must be a positive whole number');
    expect(cronSpecProblem('0 3 1,,2 * *')).toBe('day-of-month field "1,,2": empty list item');
  });

  it('keel.config.json is rejected at load with the field and the reason', () => {
    const raw = parseJson<{ monitor: Record<string, unknown> }>(readFileSync('keel.config.json', 'utf8'));
    expect(issues(projectConfigSchema, { ...raw, retrain: { cron: '0 25 * * 1' } })).toEqual([
      'retrain.cron: not a valid cron spec: hour field "25": "25" is not a value in 0-23 (got "0 25 * * 1")',
    ]);
    expect(issues(projectConfigSchema, { ...raw, retrain: { cron: '0 3 * * 1', jitter: 'ten minutes' } })).toEqual([
      'retrain.jitter: must be a number followed by s, m, h or d, e.g. "5m" (got "ten minutes")',
    ]);
    expect(issues(projectConfigSchema, { ...raw, monitor: { ...raw.monitor, every: '5x' } })[0]).toContain('monitor.every');
  });

  it('builds the schedules: monitor with its full input, retraining with jitter and catch-up window', () => {
    const withRetrain = projectConfigSchema.parse({
      ...JSON.parse(readFileSync('keel.config.json', 'utf8')),
      retrain: { cron: '0 3 * * 1', jitter: '10m', catchupWindow: '2h' },
    });
    withRetrain.monitor.policy.retrain.enabled = true;
    const [monitorSchedule, retrainSchedule] = schedulesFor(withRetrain);
    expect(retrainSchedule.spec).toEqual({ cronExpressions: ['0 3 * * 1'], jitter: '10m' });
    expect(retrainSchedule.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: '2h' });
    const args = (monitorSchedule.action as { args: unknown[] }).args;
    const input = monitorInputSchema.parse(args[0]);
    expect(input.model).toBe('flight-delays');
    expect(input.policy.retrain.pipeline).toEqual(withRetrain.pipeline);
    expect(input.drift.columns.origin).toEqual({ method: 'psi', threshold: 0.25 });
  });
});
