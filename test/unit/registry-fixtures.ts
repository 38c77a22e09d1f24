import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, openDatabase } from '../../src/db/database';
import { createScratchDatabase } from '../../src/db/scratch-database';
import { datasetVersions } from '../../src/db/schema';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { type ModelVersion, registerModelVersion } from '../../src/registry/model-registry';
import { buildTinyLogisticOnnx, type TinyLogisticSpec } from '../fixtures/tiny-logistic-onnx';
import { TINY_CONTRACT } from '../fixtures/register-onnx';

/**
 * Shared setup of the registry tests: every suite runs on embedded PGlite and, when DATABASE_URL
 * is set (as in CI), also on a fresh PostgreSQL database, where concurrency is real.
 */
export const drivers: ('pglite' | 'postgres')[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export interface TestRegistry {
  database: Database;
  artifacts: LocalArtifactStore;
  dir: string;
  close(): Promise<void>;
}

export async function openTestRegistry(driver: 'pglite' | 'postgres'): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-registry-'));
  let drop = async () => {};
  let url: string | undefined;
  if (driver === 'postgres') {
    const scratch = await createScratchDatabase(process.env.DATABASE_URL!, 'keel_unit');
    url = scratch.url;
    drop = async () => {
      const notDropped = await scratch.drop();
      if (notDropped) console.warn(`could not drop the test database ${scratch.name}: ${notDropped}`);
    };
  }
  const database = await openDatabase({ url, dataDir: join(dir, 'db') });
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  return {
    database,
    artifacts,
    dir,
    async close() {
      await database.close();
      await drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const CONTRACT = TINY_CONTRACT;

/** Distinct weights per seed: distinct bytes, distinct predictions. */
export function tinySpec(seed: number): TinyLogisticSpec {
  return {
    numeric: [{ name: 'distance', weight: 0.001 * seed, mean: 800 }],
    categorical: [{ name: 'origin', weights: { SFO: 0.4 * seed, LAX: -0.6 } }],
    bias: -1 + 0.1 * seed,
  };
}

export function tinyOnnx(seed: number): Uint8Array {
  return buildTinyLogisticOnnx(tinySpec(seed));
}

/** Registers a tiny ONNX model as a new version (as the pipeline would, minus the training). */
export async function registerTiny(
  registry: Pick<TestRegistry, 'database' | 'artifacts'>,
  model: string,
  seed: number,
  extra: Partial<Parameters<typeof registerModelVersion>[1]> = {},
): Promise<ModelVersion> {
  const bytes = tinyOnnx(seed);
  const sha = await registry.artifacts.put(bytes);
  return registerModelVersion(registry.database.db, {
    modelName: model,
    idempotencyKey: `test/${model}/${seed}/${randomUUID()}`,
    artifactSha256: sha,
    artifactBytes: bytes.byteLength,
    contract: CONTRACT,
    params: { trainer: { kind: 'logistic-regression', l2: seed }, features: [{ name: 'distance', kind: 'numeric' }] },
    metrics: { rocAuc: 0.6 + seed / 100, accuracy: 0.7 },
    datasetVersionId: 'ds-test',
    datasetHash: 'hash-test',
    trainingRunId: '',
    workflowId: `train/${model}/${seed}`,
    runId: `run-${seed}`,
    creator: 'test',
    ...extra,
  });
}

/** A dataset version row (no rows) so lineage has something to show. */
export async function insertDatasetVersion(database: Database, id: string, profile: unknown = null) {
  await database.db
    .insert(datasetVersions)
    .values({
      id,
      name: 'flights-test',
      contentHash: `content-${id}`,
      spec: {},
      columns: [{ name: 'distance', type: 'number' }],
      rowsRead: 10,
      rowCount: 9,
      quarantinedCount: 1,
      profile,
    })
    .onConflictDoNothing();
}
