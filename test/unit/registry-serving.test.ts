import { writeFile } from 'node:fs/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollbackAlias, setAlias } from '../../src/registry/aliases';
import { deployVersion } from '../../src/registry/deployments';
import { type ModelServer, startModelServer } from '../../src/serving/http-server';
import { tinyLogisticProbability } from '../fixtures/tiny-logistic-onnx';
import { openTestRegistry, registerTiny, type TestRegistry, tinySpec } from './registry-fixtures';

/**
 * The registry and a running model server, through public APIs only: a rollback (what
 * `keel models rollback` calls) is followed by the server without a restart, and a production
 * version whose artifact is corrupted is refused while the previous one keeps serving.
 */
describe('model server following the registry', () => {
  let registry: TestRegistry;
  let server: ModelServer;
  const model = 'served';
  const instance = { distance: 1200, origin: 'SFO' };

  beforeAll(async () => {
    registry = await openTestRegistry('pglite');
    for (const seed of [1, 2, 3]) await registerTiny(registry, model, seed);
    const db = registry.database.db;
    await deployVersion(db, { model, version: 1, actor: 'workflow:w1', reason: 'first', workflowId: 'w1', idempotencyKey: 'w1/deploy' });
    await deployVersion(db, { model, version: 2, actor: 'workflow:w2', reason: 'better', workflowId: 'w2', idempotencyKey: 'w2/deploy' });
    server = await startModelServer({
      database: registry.database,
      artifacts: registry.artifacts,
      port: 0,
      refreshMs: 100,
      inferenceThreads: 0,
      apiKeys: { predict: [], admin: [] },
      logger: pino({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    await server?.close();
    await registry?.close();
  });

  async function predict(): Promise<{ version: number; probability: number }> {
    const response = await fetch(`${server.url}/v1/models/${model}:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [instance] }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { version: number; predictions: { probability: number }[] };
    return { version: body.version, probability: body.predictions[0].probability };
  }

  async function servedVersion(): Promise<number> {
    const body = (await (await fetch(`${server.url}/v1/models/${model}`)).json()) as { version: number };
    return body.version;
  }

  async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('follows a rollback without a restart', async () => {
    expect(await predict()).toMatchObject({ version: 2 });
    const result = await rollbackAlias(registry.database.db, { model, actor: 'user:ana', reason: 'v2 misbehaves' });
    expect(result).toMatchObject({ fromVersion: 2, toVersion: 1 });
    await eventually(async () => (await servedVersion()) === 1);
    const after = await predict();
    expect(after.version).toBe(1);
    expect(after.probability).toBeCloseTo(tinyLogisticProbability(tinySpec(1), instance), 5);
  });

  it('refuses a production version whose artifact is corrupted; the previous version keeps serving', async () => {
    const v3 = (await registry.database.db.query.modelVersions.findFirst({
      where: (t, { and, eq }) => and(eq(t.modelName, model), eq(t.version, 3)),
    }))!;
    await writeFile(registry.artifacts.pathOf(v3.artifactSha256), 'corrupted on disk after registration');
    // Promoted without verification (as by a process that trusted the row); the server must still refuse it.
    await setAlias(registry.database.db, { model, alias: 'production', version: 3, actor: 'user:bo', reason: 'oops' });
    const report = await server.pool.refresh();
    expect(report.refused).toEqual([expect.objectContaining({ model, version: 3, error: expect.stringContaining('is corrupted') })]);
    expect(await predict()).toMatchObject({ version: 1 });
    const status = (await (await fetch(`${server.url}/v1/models/${model}`)).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ version: 1, refused: { version: 3, error: expect.stringContaining('refusing to use it') } });
    // Rolling back from the refused version returns production to what is served.
    await rollbackAlias(registry.database.db, { model, actor: 'user:bo', reason: 'v3 artifact corrupted' });
    await eventually(async () => {
      const body = (await (await fetch(`${server.url}/v1/models/${model}`)).json()) as { version: number; refused?: unknown };
      return body.version === 1 && body.refused === undefined;
    });
  });
});
