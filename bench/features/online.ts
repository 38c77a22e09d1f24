import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/database';
import { createScratchDatabase } from '../../src/db/scratch-database';
import { modelContract } from '../../src/ml/model';
import { exportLogisticOnnx } from '../../src/ml/onnx/export-logistic';
import type { Row } from '../../src/ml/row';
import { trainLogisticModel } from '../../src/ml/train';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { setAlias } from '../../src/registry/aliases';
import { registerModelVersion } from '../../src/registry/model-registry';
import { freePort } from '../../src/runtime/ports';
import type { ContractFeatureView } from '../../src/shared/model-contract';
import { luaScript, median, wrk, type WrkResult } from '../serve/wrk';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const say = (message: string) => process.stderr.write(`${message}\n`);
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The model server with and without enrichment, same ONNX model, same process: `plain` takes
 * every input in the request; `enriched` takes the row columns and fills two inputs from the
 * online store (one view by origin, one by route). Alternating wrk rounds at c=64 (medians), and
 * p50 at c=1.
 */
export async function benchOnlineLookup(adminUrl: string, rows: Row[], features: { origin: string; route: string }) {
  const work = await mkdtemp(join(tmpdir(), 'keel-bench-online-'));
  const scratch = await createScratchDatabase(adminUrl, 'keel_bench_online');
  const children: ReturnType<typeof spawn>[] = [];
  try {
    const rowFeatures = [
      { name: 'hour', kind: 'categorical' as const },
      { name: 'weekday', kind: 'categorical' as const },
      { name: 'distance', kind: 'numeric' as const },
      { name: 'origin', kind: 'categorical' as const },
      { name: 'destination', kind: 'categorical' as const },
    ];
    const all = [...rowFeatures, { name: features.origin, kind: 'numeric' as const }, { name: features.route, kind: 'numeric' as const }];
    const train = rows.slice(0, Math.floor(rows.length * 0.8));
    const heldOut = rows.slice(train.length);
    const model = trainLogisticModel({
      features: all,
      target: 'delayed',
      params: { l2: 1e-4, maxIterations: 100, tolerance: 1e-6, maxCategories: 400 },
      train,
    });
    const bytes = exportLogisticOnnx(model);
    const contract = modelContract(model);
    const views: ContractFeatureView[] = [
      { view: 'bench_origin', version: 'bench', joinKeys: ['origin'], features: [features.origin], onMissing: 'nan', defaults: {} },
      {
        view: 'bench_route',
        version: 'bench',
        joinKeys: ['origin', 'destination'],
        features: [features.route],
        onMissing: 'nan',
        defaults: {},
      },
    ];
    const database = await openDatabase({ url: scratch.url, dataDir: work });
    const artifacts = new LocalArtifactStore(join(work, 'artifacts'));
    const sha = await artifacts.put(bytes);
    for (const [name, modelContractValue] of [
      ['features-plain', contract],
      ['features-enriched', { ...contract, featureViews: views }],
    ] as const) {
      const version = await registerModelVersion(database.db, {
        modelName: name,
        idempotencyKey: `bench/${name}`,
        artifactSha256: sha,
        artifactBytes: bytes.byteLength,
        contract: modelContractValue,
        params: {},
        metrics: {},
        datasetVersionId: '',
        datasetHash: '',
        trainingRunId: '',
        workflowId: '',
        runId: '',
      });
      await setAlias(database.db, { model: name, alias: 'production', version: version.version, actor: 'bench', reason: 'bench:features' });
    }
    // The online store: each entity's latest values among the rows.
    const online = new Map<string, unknown[]>();
    for (const row of rows) {
      online.set(`o|${row.origin}`, [
        'bench_origin',
        String(row.origin),
        'bench',
        { [features.origin]: row[features.origin] },
        '2001-01-31T00:00:00Z',
        '2001-01-31T00:00:00Z',
        'bench',
      ]);
      online.set(`r|${row.origin}|${row.destination}`, [
        'bench_route',
        `${row.origin}\u0001${row.destination}`,
        'bench',
        { [features.route]: row[features.route] },
        '2001-01-31T00:00:00Z',
        '2001-01-31T00:00:00Z',
        'bench',
      ]);
    }
    await database.copyRows(
      'online_features',
      ['view_name', 'entity_key', 'view_version', 'values', 'event_time', 'as_of', 'materialization_id'],
      [...online.values()],
    );
    await database.close();

    const instances = heldOut.slice(0, 2000);
    const plainScript = join(work, 'plain.lua');
    const enrichedScript = join(work, 'enriched.lua');
    await writeFile(
      plainScript,
      luaScript(instances.map((r) => JSON.stringify({ instances: [Object.fromEntries(all.map((f) => [f.name, r[f.name]]))] }))),
    );
    await writeFile(
      enrichedScript,
      luaScript(instances.map((r) => JSON.stringify({ instances: [Object.fromEntries(rowFeatures.map((f) => [f.name, r[f.name]]))] }))),
    );

    const port = await freePort();
    const server = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/server-main.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: scratch.url,
        KEEL_DATA_DIR: work,
        KEEL_PORT: String(port),
        KEEL_SERVER_PROCESSES: '1',
        LOG_LEVEL: 'warn',
        KEEL_API_KEYS: '',
        KEEL_ADMIN_KEYS: '',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(server);
    const base = `http://127.0.0.1:${port}`;
    const plainUrl = `${base}/v1/models/features-plain:predict`;
    const enrichedUrl = `${base}/v1/models/features-enriched:predict`;
    for (let waited = 0; ; waited += 250) {
      const ready = await fetch(`${base}/v2/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (waited > 90_000) throw new Error('the model server did not become ready');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Warm-up: every entity of the load once (one request of all instances each: the steady
    // state of a server that has seen its entities since the last materialisation), then JIT and connections.
    for (const [url, names] of [
      [plainUrl, all],
      [enrichedUrl, rowFeatures],
    ] as const) {
      const body = JSON.stringify({ instances: instances.map((r) => Object.fromEntries(names.map((f) => [f.name, r[f.name]]))) });
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (!response.ok) throw new Error(`warm-up ${url}: ${response.status} ${await response.text()}`);
    }
    await wrk(plainUrl, 16, 2, plainScript);
    await wrk(enrichedUrl, 16, 2, enrichedScript);
    const describe = (what: string, r: WrkResult) =>
      say(`${what}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, errors ${r.errors}`);
    const c1: Record<string, WrkResult[]> = { plain: [], enriched: [] };
    const c64: Record<string, WrkResult[]> = { plain: [], enriched: [] };
    for (let i = 0; i < ROUNDS; i++) {
      for (const [name, url, script] of [
        ['plain', plainUrl, plainScript],
        ['enriched', enrichedUrl, enrichedScript],
      ] as const) {
        const one = await wrk(url, 1, SECONDS, script);
        describe(`${name} c=1, round ${i + 1}`, one);
        c1[name].push(one);
        const many = await wrk(url, 64, SECONDS, script);
        describe(`${name} c=64, round ${i + 1}`, many);
        c64[name].push(many);
      }
    }
    const p50 = (runs: WrkResult[]) => [...runs].sort((a, b) => a.p50_ms - b.p50_ms)[Math.floor(runs.length / 2)].p50_ms;
    const plain64 = median(c64.plain);
    const enriched64 = median(c64.enriched);
    return {
      plain_rps_c64: round(plain64.rps, 0),
      enriched_rps_c64: round(enriched64.rps, 0),
      ratio_enriched: round(enriched64.rps / plain64.rps),
      p50_ms_c1_plain: p50(c1.plain),
      p50_ms_c1_enriched: p50(c1.enriched),
      p50_ms_c1_added: round(p50(c1.enriched) - p50(c1.plain)),
      online_errors: [...c1.plain, ...c1.enriched, ...c64.plain, ...c64.enriched].reduce((n, r) => n + r.errors, 0),
    };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await scratch.drop();
    await rm(work, { recursive: true, force: true });
  }
}
