import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayMonths, runFlightsDriftScenario, type ScenarioResult } from '../../examples/flights-drift/scenario';
import { scenarioConfig } from '../../examples/flights-drift/config';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { startModelServer, type ModelServer } from '../../src/serving/http-server';
import { createHarness, type Harness } from './harness';

let harness: Harness;
let server: ModelServer;

/**
 * The real scenario, end to end: train on January 2001, replay February to June through the model
 * server with their true delays as feedback, one monitor run per month; keel must find the months
 * that shift, retrain on fresh data by itself and deploy through the canary, all recorded.
 */
describe('flights drift scenario', () => {
  beforeAll(async () => {
    harness = await createHarness();
    server = await startModelServer({ database: harness.database, artifacts: harness.artifacts, port: 0, refreshMs: 1000, logger: pino({ level: 'warn' }) });
    harness.setOnDeployed(async () => void (await server.pool.refresh()));
  });
  afterAll(async () => {
    await server?.close();
    await harness?.close();
  });

  it('detects the shifting months, retrains on their data and deploys through the canary', async () => {
    const base = await loadProjectConfig('keel.config.json');
    const model = `flights-drift-${Date.now().toString(36)}`;
    const { pipeline, monitor } = scenarioConfig(base, { model });
    const result: ScenarioResult = await harness.withWorkers(() =>
      runFlightsDriftScenario(
        { client: harness.client, database: harness.database, server: { url: server.url, flush: () => server.logWriter.flush(), refresh: () => server.pool.refresh() } },
        { model, pipeline, monitor, months: replayMonths, perMonth: 4000, log: (line) => console.log(line) },
      ),
    );
    console.log(JSON.stringify(result, null, 2));
    expect(result.months).toHaveLength(5);
  });
});
