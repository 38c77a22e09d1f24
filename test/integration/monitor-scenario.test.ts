import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioConfig } from '../../examples/flights-drift/config';
import { replayMonths, runFlightsDriftScenario } from '../../examples/flights-drift/scenario';
import { getModelVersion } from '../../src/registry/model-registry';
import { productionHeadline } from '../../src/runtime/production-headline';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { startModelServer, type ModelServer } from '../../src/serving/http-server';
import { createHarness, type Harness } from './harness';
import { startWebhookReceiver, type WebhookReceiver } from './monitor-support';

let harness: Harness;
let server: ModelServer;
let receiver: WebhookReceiver;

/**
 * The real scenario, end to end (examples/flights-drift): train on all 508,239 January 2001
 * flights, replay 4,000 real flights per month from February to June through the model server,
 * with their true delays as feedback, one monitor run per month. keel must find the months that
 * shift, retrain on fresh data by itself and deploy through the canary — all recorded. The
 * numbers are the real ones (docs/monitoring.md, "The flights scenario").
 */
describe('flights drift scenario', () => {
  beforeAll(async () => {
    harness = await createHarness();
    receiver = await startWebhookReceiver();
    server = await startModelServer({
      database: harness.database,
      artifacts: harness.artifacts,
      port: 0,
      refreshMs: 1000,
      logger: pino({ level: 'warn' }),
    });
    harness.setOnDeployed(async () => void (await server.pool.refresh()));
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
    await harness?.close();
  });

  it('finds the months whose delay rate or weekday mix shifts, retrains on April–May and deploys v2 through the canary', async () => {
    const model = `flights-drift-${Date.now().toString(36)}`;
    const { pipeline, monitor } = scenarioConfig(await loadProjectConfig('keel.config.json'), {
      model,
      webhooks: [{ name: 'ops', url: `${receiver.url}/ops`, format: 'generic', minSeverity: 'info', timeoutMs: 5000, headers: {} }],
    });
    const result = await harness.withWorkers(() =>
      runFlightsDriftScenario(
        {
          client: harness.client,
          database: harness.database,
          server: { url: server.url, flush: () => server.logWriter.flush(), refresh: () => server.pool.refresh() },
        },
        { model, pipeline, monitor, months: replayMonths, perMonth: 4000 },
      ),
    );
    console.log(JSON.stringify({ seconds: result.seconds, months: result.months.map((m) => [m.month, m.report.message]) }, null, 1));

    // v1 is the project's pipeline as `npm start` trains it (only the rollout differs): the
    // README's sample output must be what a fresh run prints.
    const v1 = await getModelVersion(harness.database.db, model, 1);
    const headline = productionHeadline({ ...v1!, modelName: 'flight-delays' });
    expect((await readFile('README.md', 'utf8')).split('\n'), 'the README quotes another model line than npm start prints').toContain(
      `Model         ${headline}`,
    );

    const byMonth = Object.fromEntries(result.months.map((m) => [m.month, m]));
    // February, April and May: the delay rate moved by more than 2 points from January's 20.5 %.
    for (const month of ['2001-02', '2001-04', '2001-05']) {
      expect(byMonth[month].report.findings, month).toContain('label_drift');
      expect(byMonth[month].report.status).toBe('drift');
      expect(Math.abs(byMonth[month].delayRate - byMonth[month].report.performance!.referencePositiveRate!)).toBeGreaterThan(0.02);
    }
    // March: the delay rate barely moves (21.0 %), but it has five Thursdays, Fridays and Saturdays.
    expect(byMonth['2001-03'].report.findings).toEqual(['feature_drift']);
    expect(byMonth['2001-03'].report.driftedFeatures).toEqual(['weekday']);
    expect(byMonth['2001-03'].report.status).toBe('ok');
    // The model keeps ranking flights as well as on its test split: no concept drift in any month.
    for (const m of result.months) expect(m.report.findings).not.toContain('concept_drift');

    // Two drifted months in a row (April, May): retraining on their flights, by itself, once.
    const retrained = result.months.filter((m) => m.retrain);
    expect(retrained.map((m) => m.month)).toEqual(['2001-05']);
    const retrain = byMonth['2001-05'].retrain!;
    expect(retrain.period).toEqual({ from: '2001-04-01', to: '2001-06-01' });
    expect(retrain.result.status).toBe('registered');
    if (retrain.result.status !== 'registered') return;
    expect(retrain.result.version).toBe(2);
    expect(retrain.result.gate.passed).toBe(true);
    expect(retrain.rollout).toMatchObject({ outcome: 'promoted', steps: ['25%: passed', '100%: passed'] });
    // June is served and monitored as v2, against v2's own training data (April–May, 17 % delayed).
    expect(byMonth['2001-06'].served).toBe(2);
    expect(byMonth['2001-06'].report.version).toBe(2);
    expect(byMonth['2001-06'].report.findings).toEqual(expect.arrayContaining(['label_drift', 'feature_drift']));

    // All recorded: five reports, the alias history through the canary, every alert stored and delivered.
    expect(result.reports.map((r) => [r.version, r.status])).toEqual([
      [1, 'drift'],
      [1, 'ok'],
      [1, 'drift'],
      [1, 'drift'],
      [2, 'drift'],
    ]);
    expect(result.aliasHistory.map((h) => [h.from, h.to, h.actor])).toEqual([
      [null, 1, `workflow:train/${model}/initial`],
      [1, 2, `workflow:canary/${model}`],
    ]);
    expect(result.alerts.map((a) => a.kind)).toEqual([
      'label_drift',
      'feature_drift',
      'label_drift',
      'label_drift',
      'retraining',
      'feature_drift',
      'label_drift',
    ]);
    expect(result.alerts.every((a) => a.delivery === 'delivered')).toBe(true);
    expect(receiver.to('/ops')).toHaveLength(7);
  });
});
