import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { aliasHistory, deployments, feedback, predictionLog } from '../../src/db/schema';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { setAlias } from '../../src/registry/aliases';
import { resolveAlias } from '../../src/registry/model-registry';
import { type ModelServer, startModelServer } from '../../src/serving/http-server';
import { InferencePool, OverloadedError } from '../../src/serving/inference-pool';
import { instancesToColumns } from '../../src/serving/predict';
import {
  clearRoute,
  getRoute,
  InvalidRouteError,
  promoteCandidate,
  RouteConflictError,
  routingState,
  setRoute,
} from '../../src/serving/routes';
import { choosesCandidate, stickyPoint } from '../../src/serving/traffic';
import { buildTinyLogisticOnnx, type TinyLogisticSpec, tinyLogisticProbability } from '../fixtures/tiny-logistic-onnx';
import { registerOnnxVersion } from '../fixtures/register-onnx';
import { responseJson } from '../fixtures/json';
import type { ServerAnswer } from '../fixtures/serving-answers';

function specFor(seed: number): TinyLogisticSpec {
  return {
    numeric: [{ name: 'distance', weight: 0.001 * seed, mean: 800 }],
    categorical: [{ name: 'origin', weights: { SFO: 0.4 * seed, LAX: -0.6 } }],
    bias: -1 + 0.1 * seed,
  };
}

let dir: string;
let database: Database;
let artifacts: LocalArtifactStore;
const logger = pino({ level: 'silent' });
let seeds = 0;

/** Registers a version of `model` with its own weights; returns its number and seed. */
async function registerVersion(model: string): Promise<{ version: number; seed: number; sha: string }> {
  const seed = ++seeds;
  const row = await registerOnnxVersion({ database, artifacts }, model, buildTinyLogisticOnnx(specFor(seed)), {
    key: `test/${model}/${seed}`,
  });
  return { version: row.version, seed, sha: row.artifactSha256 };
}

const promote = (model: string, version: number) =>
  setAlias(database.db, { model, alias: 'production', version, actor: 'test', reason: 'test' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-routing-'));
  database = await openDatabase({ dataDir: join(dir, 'db') });
  artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
});

afterAll(async () => {
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('routing state in the database', () => {
  const model = 'routes-db';
  let v1: number;
  let v2: number;
  beforeAll(async () => {
    v1 = (await registerVersion(model)).version;
    v2 = (await registerVersion(model)).version;
    await promote(model, v1);
  });

  it('writes a route whose baseline is production, idempotently, counting revisions', async () => {
    const spec = { model, baseline: v1, candidate: v2, candidateWeight: 0.1, actor: 'workflow:canary/x', reason: 'step 1' };
    const first = await setRoute(database.db, spec);
    expect(first).toMatchObject({
      changed: true,
      route: { baselineVersion: v1, candidateVersion: v2, candidateWeight: 0.1, shadow: false, revision: 1 },
    });
    expect(await setRoute(database.db, spec)).toMatchObject({ changed: false, route: { revision: 1 } });
    const second = await setRoute(database.db, { ...spec, candidateWeight: 0.25, reason: 'step 2' });
    expect(second).toMatchObject({ changed: true, route: { candidateWeight: 0.25, revision: 2, reason: 'step 2' } });
    expect(await routingState(database.db, model)).toMatchObject({ production: v1, stale: false, route: { candidateWeight: 0.25 } });
  });

  it('refuses malformed routes and routes that do not start from production', async () => {
    const base = { model, baseline: v1, candidate: v2, candidateWeight: 0.5 };
    await expect(setRoute(database.db, { ...base, candidateWeight: 1.5 })).rejects.toThrow(InvalidRouteError);
    await expect(setRoute(database.db, { ...base, candidate: v1 })).rejects.toThrow(/candidate must differ from baseline/);
    await expect(setRoute(database.db, { ...base, candidate: 99 })).rejects.toThrow(/has no version 99/);
    await expect(setRoute(database.db, { ...base, baseline: v2, candidate: v1 })).rejects.toThrow(RouteConflictError);
    await expect(setRoute(database.db, { ...base, model: 'nothing-here' })).rejects.toThrow(/has no production version/);
  });

  it('clears only the route to the given candidate, and clearing twice is harmless', async () => {
    expect((await clearRoute(database.db, { model, candidate: v1 })).cleared).toBeUndefined();
    expect((await clearRoute(database.db, { model, candidate: v2 })).cleared).toMatchObject({ candidateVersion: v2 });
    expect((await clearRoute(database.db, { model })).cleared).toBeUndefined();
    expect(await getRoute(database.db, model)).toBeUndefined();
  });

  it('promotes the candidate: production moves (with history) and the route goes, in one step', async () => {
    await setRoute(database.db, { model, baseline: v1, candidate: v2, candidateWeight: 0.5 });
    await expect(promoteCandidate(database.db, { model, candidate: v1, actor: 'test', reason: 'wrong' })).rejects.toThrow(
      RouteConflictError,
    );
    const deployment = { workflowId: 'canary/x', idempotencyKey: 'canary/x/run-1/promote' };
    const promoted = await promoteCandidate(database.db, {
      model,
      candidate: v2,
      actor: 'workflow:canary/x',
      reason: 'healthy',
      deployment,
    });
    expect(promoted).toEqual({ changed: true, fromVersion: v1 });
    const recorded = await database.db.select().from(deployments).where(eq(deployments.modelName, model));
    expect(recorded.map((d) => [d.version, d.previousVersion, d.workflowId, d.endedAt])).toEqual([[v2, v1, 'canary/x', null]]);
    expect((await resolveAlias(database.db, model, 'production'))?.version).toBe(v2);
    expect(await getRoute(database.db, model)).toBeUndefined();
    const moves = await database.db.select().from(aliasHistory).where(eq(aliasHistory.modelName, model));
    expect(moves.at(-1)).toMatchObject({ fromVersion: v1, toVersion: v2, actor: 'workflow:canary/x', reason: 'healthy' });
    // A retried promotion finds it done.
    expect(await promoteCandidate(database.db, { model, candidate: v2, actor: 'test', reason: 'retry', deployment })).toEqual({
      changed: false,
      fromVersion: v2,
    });
    expect(await database.db.select().from(deployments).where(eq(deployments.modelName, model))).toHaveLength(1);
  });

  it('reports a route as stale once production moved under it', async () => {
    const v3 = (await registerVersion(model)).version;
    await setRoute(database.db, { model, baseline: v2, candidate: v3, candidateWeight: 0.1 });
    await promote(model, v1);
    expect(await routingState(database.db, model)).toMatchObject({ production: v1, stale: true, route: { baselineVersion: v2 } });
    await expect(promoteCandidate(database.db, { model, candidate: v3, actor: 'test', reason: 'x' })).rejects.toThrow(/stale/);
    await clearRoute(database.db, { model });
  });
});

describe('traffic assignment', () => {
  it('spreads keys uniformly and keeps them where they are as the weight grows', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
    const points = keys.map((key) => stickyPoint('m', 2, key));
    for (const weight of [0.1, 0.25, 0.5]) {
      const share = points.filter((p) => p < weight).length / keys.length;
      expect(Math.abs(share - weight)).toBeLessThan(0.015);
    }
    const at10 = keys.filter((key) => choosesCandidate({ model: 'm', candidate: 2, weight: 0.1 }, key));
    expect(at10.every((key) => choosesCandidate({ model: 'm', candidate: 2, weight: 0.25 }, key))).toBe(true);
    // Another candidate reshuffles: about 10 % of the earlier 10 % again.
    const again = at10.filter((key) => choosesCandidate({ model: 'm', candidate: 3, weight: 0.1 }, key)).length / at10.length;
    expect(again).toBeLessThan(0.2);
  });

  it('never and always at weights 0 and 1, whatever the key', () => {
    expect(choosesCandidate({ model: 'm', candidate: 2, weight: 0 }, 'k', () => 0)).toBe(false);
    expect(choosesCandidate({ model: 'm', candidate: 2, weight: 1 }, undefined, () => 0.999)).toBe(true);
  });
});

describe('micro-batching', () => {
  const contract = {
    inputs: [
      { name: 'distance', type: 'float32' as const },
      { name: 'origin', type: 'string' as const },
    ],
  };
  const spec = {
    inputs: contract.inputs,
    outputs: [
      { name: 'probability', type: 'float32' as const, width: 1 },
      { name: 'label', type: 'int64' as const, width: 1 },
    ],
  };

  it('merges requests that wait at the same time into one session.run, in order, split at maxBatchRows', async () => {
    const batches: { rows: number; requests: number }[] = [];
    const pool = await InferencePool.create({
      logger,
      threads: 1,
      maxBatchRows: 8,
      onBatch: (_key, rows, requests) => batches.push({ rows, requests }),
    });
    try {
      await pool.load('m', buildTinyLogisticOnnx(specFor(1)), spec);
      const rows = Array.from({ length: 20 }, (_, i) => ({ distance: 100 * i, origin: i % 2 ? 'SFO' : 'LAX' }));
      const outputs = await Promise.all(rows.map((row) => pool.submit('m', instancesToColumns(contract, [row]), 1)));
      outputs.forEach((out, i) => expect(out.probability[0]).toBeCloseTo(tinyLogisticProbability(specFor(1), rows[i]), 6));
      expect(batches).toEqual([
        { rows: 8, requests: 8 },
        { rows: 8, requests: 8 },
        { rows: 4, requests: 4 },
      ]);
      // A request larger than maxBatchRows still runs whole.
      const big = Array.from({ length: 30 }, (_, i) => ({ distance: i, origin: 'SFO' }));
      const out = await pool.submit('m', instancesToColumns(contract, big), 30);
      expect(out.probability).toHaveLength(30);
      expect(batches.at(-1)).toEqual({ rows: 30, requests: 1 });
    } finally {
      await pool.close();
    }
  });

  it('runs cheap batches on the event loop once their cost is measured, dear and shadow ones on a thread', async () => {
    const pool = await InferencePool.create({ logger, threads: 1 });
    try {
      await pool.load('m', buildTinyLogisticOnnx(specFor(1)), spec);
      const row = { distance: 700, origin: 'SFO' };
      const one = () => pool.submit('m', instancesToColumns(contract, [row]), 1);
      // A new model version runs on the thread until five of its batches are measured there; then
      // a single row of this tiny model (tens of µs) runs inline. On a busy machine a thread's
      // runs can measure slower for a while, hence a few more tries.
      for (let i = 0; i < 5; i++) await one();
      expect(pool.stats()).toMatchObject({ threadBatches: 5, inlineBatches: 0 });
      let inline = await one();
      for (let tries = 0; pool.stats().inlineBatches === 0 && tries < 40; tries++) inline = await one();
      expect(inline.probability[0]).toBeCloseTo(tinyLogisticProbability(specFor(1), row), 6);
      const { threadBatches } = pool.stats();
      expect(pool.stats().inlineBatches).toBe(1);
      // 5000 rows at the measured per-row cost of single rows (session.run's fixed cost alone is
      // microseconds) would hold the event loop far beyond 0.25 ms: a thread runs them.
      const big = await pool.submit(
        'm',
        instancesToColumns(
          contract,
          Array.from({ length: 5000 }, () => row),
        ),
        5000,
      );
      expect(big.probability[4999]).toBeCloseTo(tinyLogisticProbability(specFor(1), row), 6);
      expect(pool.stats()).toMatchObject({ threadBatches: threadBatches + 1, inlineBatches: 1 });
      // Shadow work never takes the event loop from primary traffic.
      await pool.submit('m', instancesToColumns(contract, [row]), 1, { shadow: true });
      expect(pool.stats()).toMatchObject({ threadBatches: threadBatches + 2, inlineBatches: 1 });
    } finally {
      await pool.close();
    }
  });

  it('with inlineBudgetMs 0, every batch runs on a thread', async () => {
    const pool = await InferencePool.create({ logger, threads: 1, inlineBudgetMs: 0 });
    try {
      await pool.load('m', buildTinyLogisticOnnx(specFor(1)), spec);
      for (let i = 0; i < 8; i++) await pool.submit('m', instancesToColumns(contract, [{ distance: i, origin: 'LAX' }]), 1);
      expect(pool.stats()).toMatchObject({ threadBatches: 8, inlineBatches: 0 });
    } finally {
      await pool.close();
    }
  });

  it('answers a full queue with OverloadedError instead of growing without bound', async () => {
    const pool = await InferencePool.create({ logger, threads: 1, maxQueuedRows: 10 });
    try {
      await pool.load('m', buildTinyLogisticOnnx(specFor(1)), spec);
      const one = () => pool.submit('m', instancesToColumns(contract, [{ distance: 1, origin: 'SFO' }]), 1);
      const results = await Promise.allSettled(Array.from({ length: 25 }, one));
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(rejected.length).toBe(15);
      for (const r of rejected) expect(r.reason).toBeInstanceOf(OverloadedError);
    } finally {
      await pool.close();
    }
  });
});

describe('model server with a route', () => {
  const model = 'routed';
  let server: ModelServer;
  let baseline: { version: number; seed: number };
  let candidate: { version: number; seed: number };
  const row = { distance: 1200, origin: 'SFO' };

  const predict = async (key?: string) => {
    const response = await fetch(`${server.url}/v1/models/${model}:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key && { 'x-keel-route-key': key }) },
      body: JSON.stringify({ instances: [row] }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { version: number; predictions: { id: string; probability: number }[] };
  };

  beforeAll(async () => {
    baseline = await registerVersion(model);
    candidate = await registerVersion(model);
    await promote(model, baseline.version);
    server = await startModelServer({
      database,
      artifacts,
      port: 0,
      refreshMs: 0,
      models: [model],
      logger,
      apiKeys: { predict: [], admin: [] },
    });
  });
  afterAll(() => server?.close());
  beforeEach(async () => {
    await clearRoute(database.db, { model });
    await server.pool.refresh();
  });

  it('splits traffic by weight, sticky per routing key, the answer computed by the version it names', async () => {
    await setRoute(database.db, { model, baseline: baseline.version, candidate: candidate.version, candidateWeight: 0.5 });
    const report = await server.pool.refresh();
    expect(report.loaded).toEqual([{ model, version: candidate.version, role: 'candidate', previousVersion: null }]);

    const answers = await Promise.all(Array.from({ length: 80 }, (_, i) => predict(`user-${i}`)));
    const toCandidate = answers.filter((a) => a.version === candidate.version).length;
    expect(toCandidate).toBeGreaterThan(20);
    expect(toCandidate).toBeLessThan(60);
    for (const answer of answers) {
      const seed = answer.version === candidate.version ? candidate.seed : baseline.seed;
      expect(answer.predictions[0].probability).toBeCloseTo(tinyLogisticProbability(specFor(seed), row), 6);
    }
    // The same key always lands on the same version.
    for (let i = 0; i < 5; i++) {
      const first = answers[i].version;
      const again = await Promise.all([1, 2, 3].map(() => predict(`user-${i}`)));
      expect(again.map((a) => a.version)).toEqual([first, first, first]);
    }
    const info = await responseJson<ServerAnswer>(await fetch(`${server.url}/v1/models/${model}`));
    expect(info).toMatchObject({
      version: baseline.version,
      route: { baseline: baseline.version, candidate: candidate.version, candidateWeight: 0.5, shadow: false, revision: 1 },
      versions: [
        { version: baseline.version, role: 'baseline' },
        { version: candidate.version, role: 'candidate' },
      ],
    });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain(`keel_route_candidate_weight{model="${model}",mode="split"} 0.5`);
    expect(metrics).toContain(`keel_model_version_info{model="${model}",version="${candidate.version}",role="candidate"} 1`);
  });

  it('in shadow mode answers with the baseline and logs the candidate next to it, never returning it', async () => {
    await setRoute(database.db, { model, baseline: baseline.version, candidate: candidate.version, candidateWeight: 1, shadow: true });
    await server.pool.refresh();
    const answers = await Promise.all(Array.from({ length: 10 }, () => predict()));
    expect(new Set(answers.map((a) => a.version))).toEqual(new Set([baseline.version]));
    const ids = answers.map((a) => a.predictions[0].id);
    await expect
      .poll(async () => {
        await server.logWriter.flush();
        return (await database.db.select().from(predictionLog).where(inArray(predictionLog.primaryId, ids))).length;
      })
      .toBe(10);
    const shadows = await database.db.select().from(predictionLog).where(inArray(predictionLog.primaryId, ids));
    for (const shadow of shadows) {
      expect(shadow).toMatchObject({ shadow: true, version: candidate.version, error: null, inputs: row });
      expect((shadow.outputs as { probability: number }).probability).toBeCloseTo(tinyLogisticProbability(specFor(candidate.seed), row), 6);
    }
    // Each returned prediction is logged once, as such.
    const primaries = await database.db.select().from(predictionLog).where(inArray(predictionLog.id, ids));
    expect(primaries.map((p) => [p.shadow, p.version])).toEqual(ids.map(() => [false, baseline.version]));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`keel_shadow_predictions_total\\{model="${model}",version="${candidate.version}",outcome="ok"\\} 10`),
    );
  });

  it('serves a named version over v2, and answers unknown versions with 404', async () => {
    await setRoute(database.db, { model, baseline: baseline.version, candidate: candidate.version, candidateWeight: 0 });
    await server.pool.refresh();
    const infer = (version: number) =>
      fetch(`${server.url}/v2/models/${model}/versions/${version}/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [
            { name: 'distance', shape: [1], datatype: 'FP32', data: [1200] },
            { name: 'origin', shape: [1], datatype: 'BYTES', data: ['SFO'] },
          ],
        }),
      });
    const answer = await responseJson<ServerAnswer>(await infer(candidate.version));
    expect(answer.model_version).toBe(String(candidate.version));
    expect(answer.outputs[0].data[0]).toBeCloseTo(tinyLogisticProbability(specFor(candidate.seed), row), 6);
    const missing = await infer(99);
    expect(missing.status).toBe(404);
    expect((await responseJson<ServerAnswer>(missing)).error).toMatch(/no version 99 loaded \(loaded versions: \d+, \d+\)/);
  });

  it('gives a candidate that fails its checksum no traffic, and says why', async () => {
    const broken = await registerVersion(model);
    await writeFile(artifacts.pathOf(broken.sha), 'garbage');
    await setRoute(database.db, { model, baseline: baseline.version, candidate: broken.version, candidateWeight: 1 });
    const report = await server.pool.refresh();
    expect(report.refused).toEqual([
      expect.objectContaining({
        model,
        version: broken.version,
        role: 'candidate',
        servingVersion: baseline.version,
        error: expect.stringMatching(/corrupted/),
      }),
    ]);
    expect((await predict('k')).version).toBe(baseline.version);
    const info = await responseJson<ServerAnswer>(await fetch(`${server.url}/v1/models/${model}`));
    expect(info.route).toBeNull();
    expect(info.refusedVersions).toEqual([expect.objectContaining({ version: broken.version, role: 'candidate' })]);
    const named = await fetch(`${server.url}/v2/models/${model}/versions/${broken.version}/ready`);
    expect(named.status).toBe(400);
    expect(await responseJson(named)).toMatchObject({ ready: false, error: expect.stringMatching(/corrupted/) });
  });

  it('after promotion serves the former candidate to everyone without reloading it', async () => {
    const next = await registerVersion(model);
    await setRoute(database.db, { model, baseline: baseline.version, candidate: next.version, candidateWeight: 0.25 });
    await server.pool.refresh();
    await promoteCandidate(database.db, { model, candidate: next.version, actor: 'test', reason: 'healthy' });
    const report = await server.pool.refresh();
    expect(report.loaded).toEqual([]);
    expect(server.pool.versions(model).map((v) => [v.model.version, v.role])).toEqual([[next.version, 'baseline']]);
    expect((await predict('anyone')).version).toBe(next.version);
    baseline = next;
  });

  it('ignores a stale route: production moved by someone else gets all traffic', async () => {
    const other = await registerVersion(model);
    await setRoute(database.db, { model, baseline: baseline.version, candidate: candidate.version, candidateWeight: 1 });
    await promote(model, other.version);
    await server.pool.refresh();
    expect((await predict('k')).version).toBe(other.version);
    const info = await responseJson<ServerAnswer>(await fetch(`${server.url}/v1/models/${model}`));
    expect(info.staleRoute).toMatchObject({ baselineVersion: baseline.version, candidateVersion: candidate.version });
    await promote(model, baseline.version);
  });

  it('manages routes over the admin API with the same checks', async () => {
    const put = (body: unknown) =>
      fetch(`${server.url}/v1/admin/routes/${model}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ok = await put({ baseline: baseline.version, candidate: candidate.version, candidateWeight: 0.1, reason: 'manual' });
    expect(ok.status).toBe(200);
    expect(await responseJson(ok)).toMatchObject({ changed: true, route: { candidateWeight: 0.1, actor: 'http:admin' } });
    expect(server.pool.route(model)).toMatchObject({ candidate: candidate.version, candidateWeight: 0.1 });
    expect((await put({ baseline: baseline.version, candidate: candidate.version, candidateWeight: 2 })).status).toBe(400);
    expect((await put({ baseline: candidate.version, candidate: baseline.version, candidateWeight: 0.5 })).status).toBe(409);
    expect((await put({ baseline: baseline.version, candidate: candidate.version, candidateWeight: 0.5, colour: 'red' })).status).toBe(400);
    const list = await responseJson<ServerAnswer>(await fetch(`${server.url}/v1/admin/routes`));
    expect(list.routes).toEqual([
      expect.objectContaining({ modelName: model, candidateWeight: 0.1, served: expect.objectContaining({ candidateWeight: 0.1 }) }),
    ]);
    const deleted = await fetch(`${server.url}/v1/admin/routes/${model}`, { method: 'DELETE' });
    expect(await responseJson(deleted)).toMatchObject({ cleared: { candidateVersion: candidate.version } });
    expect(server.pool.route(model)).toBeUndefined();
  });
});

describe('feedback', () => {
  let server: ModelServer;
  beforeAll(async () => {
    server = await startModelServer({
      database,
      artifacts,
      port: 0,
      refreshMs: 0,
      models: ['none'],
      logger,
      inferenceThreads: 0,
      apiKeys: { predict: [], admin: [] },
    });
  });
  afterAll(() => server?.close());
  const id = (n: number) => `0190a5b8-0000-7000-8000-${String(n).padStart(12, '0')}`;
  beforeAll(async () => {
    // Feedback refers to logged predictions: three of a binary model.
    const { version } = await registerVersion('feedback-binary');
    await database.db.insert(predictionLog).values(
      [1, 2, 3].map((n) => ({
        id: id(n),
        modelName: 'feedback-binary',
        version,
        inputs: {},
        outputs: { probability: 0.5, label: 0 },
        latencyMs: 1,
        createdAt: new Date(),
      })),
    );
  });
  const send = (body: unknown) =>
    fetch(`${server.url}/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('stores ground truth per prediction id; the latest answer wins', async () => {
    expect(await responseJson(await send({ prediction_id: id(1), label: 1 }))).toEqual({ recorded: 1 });
    expect(
      (
        await send([
          { prediction_id: id(2), label: true },
          { prediction_id: id(1), label: 0 },
        ])
      ).status,
    ).toBe(200);
    const rows = await database.db
      .select()
      .from(feedback)
      .where(inArray(feedback.predictionId, [id(1), id(2)]));
    expect(rows.map((r) => [r.predictionId, r.label, r.value]).sort()).toEqual([
      [id(1), 0, null],
      [id(2), 1, null],
    ]);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^keel_feedback_total 3$/m);
  });

  it.each([
    { case: 'no id', body: { label: 1 }, message: /prediction_id/ },
    { case: 'an id that is not a prediction id', body: { prediction_id: '42', label: 1 }, message: /a UUID/ },
    { case: 'both label and value', body: { prediction_id: id(3), label: 1, value: 2 }, message: /exactly one/ },
    { case: 'neither', body: { prediction_id: id(3) }, message: /exactly one/ },
    {
      case: 'a label that is not a class',
      body: { prediction_id: id(3), label: 2 },
      message: /a binary model: "label" must be 0 or 1, got 2/,
    },
    { case: 'a value for a binary model', body: { prediction_id: id(3), value: 2 }, message: /a binary model: send its observed "label"/ },
    {
      case: 'an object as a label',
      body: { prediction_id: id(3), label: { a: 1 } },
      message: /"label" must be 0 or 1 \(binary\) or a class name/,
    },
    { case: '"NaN" as a value', body: { prediction_id: id(3), value: 'NaN' }, message: /finite number/ },
    { case: 'an unknown field', body: { prediction_id: id(3), label: 1, model: 'x' }, message: /unknown field "model"/ },
    { case: 'an empty array', body: [], message: /empty feedback/ },
    {
      case: 'the same id twice',
      body: [
        { prediction_id: id(3), label: 1 },
        { prediction_id: id(3), label: 0 },
      ],
      message: /twice/,
    },
  ])('refuses $case with a 400', async ({ body, message }) => {
    const response = await send(body);
    expect(response.status).toBe(400);
    expect((await responseJson<ServerAnswer>(response)).error).toMatch(message);
    const rows = await database.db
      .select()
      .from(feedback)
      .where(and(eq(feedback.predictionId, id(3))));
    expect(rows).toEqual([]);
  });

  it('answers 404 for an id no logged prediction has, and stores nothing of the request', async () => {
    const response = await send([
      { prediction_id: id(3), label: 1 },
      { prediction_id: id(99), label: 1 },
    ]);
    expect(response.status).toBe(404);
    expect((await responseJson<ServerAnswer>(response)).error).toMatch(new RegExp(`\\[1\\]: no logged prediction has the id ${id(99)}`));
    expect(
      await database.db
        .select()
        .from(feedback)
        .where(eq(feedback.predictionId, id(3))),
    ).toEqual([]);
  });
});

describe('api keys', () => {
  let server: ModelServer;
  const model = 'guarded';
  beforeAll(async () => {
    await promote(model, (await registerVersion(model)).version);
    server = await startModelServer({
      database,
      artifacts,
      port: 0,
      refreshMs: 0,
      models: [model],
      logger,
      inferenceThreads: 0,
      apiKeys: { predict: ['client-key'], admin: ['admin-key'] },
    });
  });
  afterAll(() => server?.close());
  const predict = (headers: Record<string, string>) =>
    fetch(`${server.url}/v1/models/${model}:predict`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ instances: [{ distance: 1, origin: 'SFO' }] }),
    });

  it('asks for a prediction key on prediction routes and an admin key on admin routes', async () => {
    const anonymous = await predict({});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect((await predict({ authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await predict({ authorization: 'Bearer client-key' })).status).toBe(200);
    expect((await predict({ 'x-api-key': 'client-key' })).status).toBe(200);
    expect((await predict({ 'x-api-key': 'admin-key' })).status).toBe(200);

    const refresh = (key?: string) =>
      fetch(`${server.url}/v1/admin/refresh`, { method: 'POST', headers: key ? { authorization: `Bearer ${key}` } : {} });
    expect((await refresh()).status).toBe(401);
    const forbidden = await refresh('client-key');
    expect(forbidden.status).toBe(403);
    expect((await responseJson<ServerAnswer>(forbidden)).error).toMatch(/admin key/);
    expect((await refresh('admin-key')).status).toBe(200);
  });

  it('keeps health checks and metrics open', async () => {
    for (const path of ['/healthz', '/v2/health/live', '/v2/health/ready', `/v2/models/${model}/ready`, '/metrics']) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
    }
    expect((await fetch(`${server.url}/v2/models/${model}`)).status).toBe(401);
  });
});
