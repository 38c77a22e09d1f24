import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployments, modelVersions, routes, trainingRuns } from '../../src/db/schema';
import { ArtifactIntegrityError, ArtifactMissingError, LocalArtifactStore, sha256Hex } from '../../src/registry/artifact-store';
import { openArtifactStore } from '../../src/registry/artifact-config';
import { readEnvironment } from '../../src/runtime/environment';
import { describeVersion, diffVersions, temporalRunUrl } from '../../src/registry/lineage';
import { aliasAt, aliasHistoryOf, removeAlias, rollbackAlias, setAlias } from '../../src/registry/aliases';
import { deployVersion } from '../../src/registry/deployments';
import { getModelVersion, listModels, registerModelVersion, resolveAlias, resolveRef } from '../../src/registry/model-registry';
import { archiveVersion, deleteVersion, restoreVersion, updateVersionMetadata, versionEvents } from '../../src/registry/version-lifecycle';
import { parseModelRef, RegistryError, validateAlias, validateModelName } from '../../src/registry/names';
import { collectGarbage } from '../../src/registry/retention';
import { S3ArtifactStore } from '../../src/registry/s3-artifact-store';
import { clearTrainingCheckpoint, recordTrainingCheckpoint } from '../../src/registry/training-runs';
import { drivers, insertDatasetVersion, openTestRegistry, registerTiny, type TestRegistry, tinyOnnx } from './registry-fixtures';

describe('names', () => {
  it.each(['a/b', '../etc', 'models\\x', 'a..b', '..', '/abs'])('rejects the model name %j', (name) => {
    expect(() => validateModelName(name)).toThrow(RegistryError);
    expect(() => validateModelName(name)).toThrow(/path separators|"\.\."/);
  });

  it.each(['Flights', 'a b', '-x', '', 'x'.repeat(64)])('rejects the model name %j by the name rule', (name) => {
    expect(() => validateModelName(name)).toThrow(RegistryError);
  });

  it('accepts names the pipeline accepts', () => {
    expect(validateModelName('flight-delays')).toBe('flight-delays');
  });

  it('parses refs: versions, aliases, latest', () => {
    expect(parseModelRef('m@3')).toEqual({ model: 'm', version: 3 });
    expect(parseModelRef('m@v12')).toEqual({ model: 'm', version: 12 });
    expect(parseModelRef('m@production')).toEqual({ model: 'm', alias: 'production' });
    expect(parseModelRef('m')).toEqual({ model: 'm', latest: true });
    expect(parseModelRef('m@latest')).toEqual({ model: 'm', latest: true });
    expect(() => parseModelRef('m@0')).toThrow(/versions are integers from 1/);
    expect(() => parseModelRef('m@')).toThrow(/give a version or an alias/);
    expect(() => parseModelRef('../m@1')).toThrow(/path separators/);
    expect(() => validateAlias('Prod')).toThrow(/invalid alias/);
    expect(() => validateAlias('3')).toThrow(/starting with a letter/);
  });
});

describe('local artifact store', () => {
  let registry: TestRegistry;
  beforeAll(async () => void (registry = await openTestRegistry('pglite')));
  afterAll(() => registry?.close());

  it('stores by sha256, verifies every read, and heals a corrupted blob on the next put', async () => {
    const { artifacts } = registry;
    const bytes = new TextEncoder().encode('model bytes');
    const sha = await artifacts.put(bytes);
    expect(sha).toBe(sha256Hex(bytes));
    expect(await artifacts.get(sha)).toEqual(bytes);
    expect(await artifacts.has(sha)).toBe(true);

    await writeFile(artifacts.pathOf(sha), 'tampered');
    await expect(artifacts.get(sha)).rejects.toThrow(ArtifactIntegrityError);
    await expect(artifacts.get(sha)).rejects.toThrow(`artifact ${sha} is corrupted: its bytes hash to ${sha256Hex('tampered')}`);
    await artifacts.put(bytes);
    expect(await artifacts.get(sha)).toEqual(bytes);

    const listed = [];
    for await (const blob of artifacts.list()) listed.push(blob);
    expect(listed.map((b) => b.sha256)).toContain(sha);
    await artifacts.delete(sha);
    await expect(artifacts.get(sha)).rejects.toThrow(ArtifactMissingError);
    await expect(artifacts.get('../../etc/passwd')).rejects.toThrow(/not a sha256 digest/);
  });

  it('picks the store from the environment', () => {
    const store = (env: Record<string, string>) => openArtifactStore(readEnvironment({ KEEL_DATA_DIR: '/data', ...env }).artifactStore);
    expect(store({})).toBeInstanceOf(LocalArtifactStore);
    expect(store({}).location).toBe('/data/artifacts');
    expect(store({ KEEL_ARTIFACT_STORE: '/blobs' }).location).toBe('/blobs');
    const s3 = store({ KEEL_ARTIFACT_STORE: 's3://models/keel/prod', KEEL_S3_ENDPOINT: 'http://127.0.0.1:9000' });
    expect(s3).toBeInstanceOf(S3ArtifactStore);
    expect(s3.pathOf('ab'.repeat(32))).toBe(`s3://models/keel/prod/sha256/ab/${'ab'.repeat(31)}`);
    // No static keys needed: the AWS SDK's chain finds them (profiles, web identity, IAM roles).
    expect(store({ KEEL_ARTIFACT_STORE: 's3://models' })).toBeInstanceOf(S3ArtifactStore);
    expect(readEnvironment({ KEEL_ARTIFACT_STORE: 's3://m', AWS_REGION: 'eu-west-3' }).artifactStore).toMatchObject({
      kind: 's3',
      region: 'eu-west-3',
    });
    expect(() => store({ KEEL_ARTIFACT_STORE: 'gs://models' })).toThrow(/unsupported scheme/);
    expect(() => store({ KEEL_ARTIFACT_STORE: 's3://models', KEEL_S3_PATH_STYLE: 'yes' })).toThrow(/KEEL_S3_PATH_STYLE/);
  });
});

describe.each(drivers)('model registry on %s', (driver) => {
  let registry: TestRegistry;
  let n = 0;
  /** A fresh model name per test: the tests share one database. */
  const fresh = () => `m${++n}-${driver}`;

  beforeAll(async () => void (registry = await openTestRegistry(driver)));
  afterAll(() => registry?.close());

  describe('versions', () => {
    it('numbers versions per model and records lineage fields', async () => {
      const a = fresh();
      const b = fresh();
      const a1 = await registerTiny(registry, a, 1, { description: 'first', tags: { team: 'ops' } });
      const a2 = await registerTiny(registry, a, 2);
      const b1 = await registerTiny(registry, b, 3);
      expect([a1.version, a2.version, b1.version]).toEqual([1, 2, 1]);
      expect(a1).toMatchObject({ creator: 'test', description: 'first', tags: { team: 'ops' }, status: 'active', source: 'pipeline' });
      expect((await listModels(registry.database.db)).find((m) => m.name === a)).toMatchObject({ versions: 2, latestVersion: 2 });
    });

    it('is idempotent per key, also when the same registration races itself', async () => {
      const model = fresh();
      const input = {
        modelName: model,
        idempotencyKey: `wf/${model}/run/register`,
        artifactSha256: 'a'.repeat(64),
        artifactBytes: 1,
        contract: {},
        params: {},
        metrics: {},
        datasetVersionId: 'd',
        datasetHash: 'h',
        trainingRunId: 't',
        workflowId: 'wf',
        runId: 'run',
      };
      const results = await Promise.all(Array.from({ length: 6 }, () => registerModelVersion(registry.database.db, input)));
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      const rows = await registry.database.db.select().from(modelVersions).where(eq(modelVersions.modelName, model));
      expect(rows).toHaveLength(1);
    });

    it('gives concurrent registrations of one model distinct consecutive numbers', async () => {
      const model = fresh();
      const versions = await Promise.all(Array.from({ length: 8 }, (_, i) => registerTiny(registry, model, 10 + i)));
      expect(versions.map((v) => v.version).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });

    it('rejects a model name with a path separator before writing anything', async () => {
      await expect(registerTiny(registry, '../evil', 1)).rejects.toThrow(/path separators/);
      await expect(registerTiny(registry, 'a..b', 1)).rejects.toThrow(/must not contain "\.\."/);
    });

    it('resolves refs and names what is missing', async () => {
      const model = fresh();
      await registerTiny(registry, model, 1);
      await registerTiny(registry, model, 2);
      const db = registry.database.db;
      expect((await resolveRef(db, parseModelRef(`${model}@1`))).version).toBe(1);
      expect((await resolveRef(db, parseModelRef(model))).version).toBe(2);
      await expect(resolveRef(db, parseModelRef(`${model}@9`))).rejects.toThrow(`${model}@9 does not exist (versions 1-2)`);
      await expect(resolveRef(db, parseModelRef(`${model}@production`))).rejects.toThrow(`model "${model}" has no alias "production"`);
      await expect(resolveRef(db, parseModelRef('nobody@1'))).rejects.toThrow('model "nobody" is not registered');
    });

    it('updates tags and description with an audit event', async () => {
      const model = fresh();
      await registerTiny(registry, model, 1, { tags: { a: '1', b: '2' } });
      const updated = await updateVersionMetadata(registry.database.db, {
        model,
        version: 1,
        actor: 'user:ana',
        setTags: { c: '3' },
        removeTags: ['a'],
        description: 'better',
      });
      expect(updated.tags).toEqual({ b: '2', c: '3' });
      expect(updated.description).toBe('better');
      expect((await versionEvents(registry.database.db, model, 1)).map((e) => [e.action, e.actor])).toEqual([['metadata', 'user:ana']]);
    });
  });

  describe('aliases', () => {
    it('moves aliases (also user-defined ones) with an append-only history; a repeated move is a no-op', async () => {
      const model = fresh();
      for (const seed of [1, 2]) await registerTiny(registry, model, seed);
      const db = registry.database.db;
      const move = (alias: string, version: number) => setAlias(db, { model, alias, version, actor: 'user:ana', reason: `to ${version}` });
      expect(await move('production', 1)).toEqual({ fromVersion: null, changed: true });
      expect(await move('production', 2)).toEqual({ fromVersion: 1, changed: true });
      expect(await move('production', 2)).toEqual({ fromVersion: 2, changed: false });
      expect(await move('champion-eu', 1)).toEqual({ fromVersion: null, changed: true });
      expect(await removeAlias(db, { model, alias: 'champion-eu', actor: 'user:ana', reason: 'gone' })).toEqual({
        fromVersion: 1,
        changed: true,
      });
      const history = await aliasHistoryOf(db, model);
      expect(history.map((h) => [h.alias, h.fromVersion, h.toVersion, h.action, h.actor, h.reason])).toEqual([
        ['production', null, 1, 'set', 'user:ana', 'to 1'],
        ['production', 1, 2, 'set', 'user:ana', 'to 2'],
        ['champion-eu', null, 1, 'set', 'user:ana', 'to 1'],
        ['champion-eu', 1, null, 'remove', 'user:ana', 'gone'],
      ]);
      expect((await resolveAlias(db, model, 'production'))?.version).toBe(2);
      expect(await resolveAlias(db, model, 'champion-eu')).toBeUndefined();
      await expect(move('production', 7)).rejects.toThrow(`model "${model}" has no version 7`);
      await expect(move('Bad Alias', 1)).rejects.toThrow(/invalid alias/);
    });

    it('refuses an alias to a deleted or archived version, and deleting or archiving an aliased one', async () => {
      const model = fresh();
      for (const seed of [1, 2, 3]) await registerTiny(registry, model, seed);
      const db = registry.database.db;
      await setAlias(db, { model, alias: 'production', version: 1, actor: 't', reason: 'r' });
      await expect(deleteVersion(db, { model, version: 1, actor: 't', reason: 'r' })).rejects.toThrow(
        `${model}@1 is the target of "production"; move or remove the alias before deleting it`,
      );
      await deleteVersion(db, { model, version: 2, actor: 't', reason: 'bad data' });
      await archiveVersion(db, { model, version: 3, actor: 't', reason: 'old' });
      await expect(setAlias(db, { model, alias: 'production', version: 2, actor: 't', reason: 'r' })).rejects.toThrow(
        `${model}@2 is deleted; alias "production" cannot point to a deleted version`,
      );
      await expect(setAlias(db, { model, alias: 'staging', version: 3, actor: 't', reason: 'r' })).rejects.toThrow(/is archived/);
      expect((await resolveAlias(db, model, 'production'))?.version).toBe(1);
      expect(await resolveAlias(db, model, 'staging')).toBeUndefined();
      // The deleted version's lineage stays answerable.
      expect((await getModelVersion(db, model, 2))?.status).toBe('deleted');
      await restoreVersion(db, registry.artifacts, { model, version: 3, actor: 't', reason: 'needed' });
      await setAlias(db, { model, alias: 'staging', version: 3, actor: 't', reason: 'r' });
      expect((await versionEvents(db, model)).map((e) => [e.version, e.action])).toEqual([
        [2, 'delete'],
        [3, 'archive'],
        [3, 'restore'],
      ]);
    });

    it('refuses to move an alias to a version whose artifact is corrupted', async () => {
      const model = fresh();
      const v1 = await registerTiny(registry, model, 1);
      const v2 = await registerTiny(registry, model, 2);
      const db = registry.database.db;
      await setAlias(db, { model, alias: 'production', version: v1.version, actor: 't', reason: 'r', artifacts: registry.artifacts });
      await writeFile(registry.artifacts.pathOf(v2.artifactSha256), 'flipped bits');
      await expect(
        setAlias(db, { model, alias: 'production', version: 2, actor: 't', reason: 'r', artifacts: registry.artifacts }),
      ).rejects.toThrow(`refusing ${model}@2: artifact ${v2.artifactSha256} is corrupted`);
      expect((await resolveAlias(db, model, 'production'))?.version).toBe(1);
      await registry.artifacts.put(tinyOnnx(2)); // repaired
    });

    it('serialises racing promotions: every move is in the history, chained, none lost', async () => {
      const model = fresh();
      const count = 10;
      for (let seed = 1; seed <= count; seed++) await registerTiny(registry, model, seed);
      const db = registry.database.db;
      const results = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          setAlias(db, { model, alias: 'production', version: i + 1, actor: `racer-${i + 1}`, reason: 'race' }),
        ),
      );
      expect(results.every((r) => r.changed)).toBe(true);
      const history = await aliasHistoryOf(db, model, 'production');
      expect(history).toHaveLength(count);
      expect(new Set(history.map((h) => h.toVersion)).size).toBe(count);
      // Each move starts where the previous one ended: no move overwrote another unseen.
      history.forEach((h, i) => expect(h.fromVersion).toBe(i === 0 ? null : history[i - 1].toVersion));
      for (let i = 1; i < history.length; i++) expect(history[i].at.getTime()).toBeGreaterThanOrEqual(history[i - 1].at.getTime());
      expect((await resolveAlias(db, model, 'production'))?.version).toBe(history.at(-1)!.toVersion);
      // What each racer was told matches the history.
      for (const [i, r] of results.entries()) {
        expect(history.find((h) => h.toVersion === i + 1)!.fromVersion).toBe(r.fromVersion);
      }
    });

    it('answers "what was production at time T" from the history', async () => {
      const model = fresh();
      for (const seed of [1, 2]) await registerTiny(registry, model, seed);
      const db = registry.database.db;
      const before = new Date(Date.now() - 60_000);
      await setAlias(db, { model, alias: 'production', version: 1, actor: 'workflow:train/x', reason: 'first' });
      await new Promise((r) => setTimeout(r, 20));
      await setAlias(db, { model, alias: 'production', version: 2, actor: 'user:bo', reason: 'second' });
      const [first, second] = await aliasHistoryOf(db, model, 'production');

      const none = await aliasAt(db, { model, at: before });
      expect(none.version).toBeNull();
      expect(none.since).toBeNull();
      expect(none.until?.id).toBe(first.id);

      const atFirst = await aliasAt(db, { model, at: first.at });
      expect(atFirst.version?.version).toBe(1);
      expect(atFirst.since?.actor).toBe('workflow:train/x');
      const justBeforeSecond = await aliasAt(db, { model, at: new Date(second.at.getTime() - 1) });
      expect(justBeforeSecond.version?.version).toBe(1);
      expect(justBeforeSecond.until?.id).toBe(second.id);
      const now = await aliasAt(db, { model, at: new Date() });
      expect(now.version?.version).toBe(2);
      expect(now.until).toBeNull();
      expect((await aliasAt(db, { model, alias: 'staging', at: new Date() })).version).toBeNull();
    });
  });

  describe('rollback', () => {
    it('goes back to the previous production version, then further back, never to a version rolled back from', async () => {
      const model = fresh();
      for (const seed of [1, 2, 3, 4]) await registerTiny(registry, model, seed);
      const db = registry.database.db;
      const deploy = (version: number) =>
        setAlias(db, { model, alias: 'production', version, actor: 'workflow:w', reason: `deploy ${version}` });
      await deploy(1);
      await deploy(2);
      await deploy(3);
      const first = await rollbackAlias(db, { model, actor: 'user:ana', reason: 'AUC dropped' });
      expect(first).toMatchObject({ fromVersion: 3, toVersion: 2, skipped: [] });
      const second = await rollbackAlias(db, { model, actor: 'user:ana', reason: 'still bad' });
      expect(second).toMatchObject({ fromVersion: 2, toVersion: 1, skipped: [{ version: 3, why: 'rolled back from earlier' }] });
      await deploy(4);
      // v1 was replaced by a deploy, not rolled back from: it is the previous good version.
      expect(await rollbackAlias(db, { model, actor: 'user:ana', reason: 'v4 bad' })).toMatchObject({ fromVersion: 4, toVersion: 1 });
      await expect(rollbackAlias(db, { model, actor: 'user:ana', reason: 'again' })).rejects.toThrow(
        /no earlier "production" version .* to roll back to from version 1 \(passed over: 4 rolled back from earlier, 2 rolled back from earlier, 3 rolled back from earlier\)/,
      );
      const history = await aliasHistoryOf(db, model, 'production');
      expect(history.filter((h) => h.action === 'rollback').map((h) => [h.fromVersion, h.toVersion, h.actor, h.reason])).toEqual([
        [3, 2, 'user:ana', 'AUC dropped'],
        [2, 1, 'user:ana', 'still bad'],
        [4, 1, 'user:ana', 'v4 bad'],
      ]);
    });

    it('passes over deleted versions and requires a reason and an alias', async () => {
      const model = fresh();
      for (const seed of [1, 2, 3]) await registerTiny(registry, model, seed);
      const db = registry.database.db;
      await expect(rollbackAlias(db, { model, actor: 't', reason: 'x' })).rejects.toThrow(
        `model "${model}" has no "production" alias to roll back`,
      );
      for (const v of [1, 2, 3]) await setAlias(db, { model, alias: 'production', version: v, actor: 't', reason: 'deploy' });
      await deleteVersion(db, { model, version: 2, actor: 't', reason: 'leaked PII' });
      await expect(rollbackAlias(db, { model, actor: 't', reason: ' ' })).rejects.toThrow('a rollback needs a reason');
      expect(await rollbackAlias(db, { model, actor: 't', reason: 'bad' })).toMatchObject({
        toVersion: 1,
        skipped: [{ version: 2, why: 'deleted' }],
      });
    });
  });

  describe('deployments', () => {
    it('deploys exactly once per key, even when production moved before the retry', async () => {
      const model = fresh();
      for (const seed of [1, 2]) await registerTiny(registry, model, seed);
      const db = registry.database.db;
      const request = { model, version: 1, actor: 'workflow:w1', reason: 'gate passed', workflowId: 'w1', idempotencyKey: 'w1/r1/deploy' };
      expect(await deployVersion(db, request)).toEqual({ previousVersion: null, changed: true });
      expect(await deployVersion(db, { ...request, version: 2, workflowId: 'w2', idempotencyKey: 'w2/r2/deploy' })).toEqual({
        previousVersion: 1,
        changed: true,
      });
      await rollbackAlias(db, { model, actor: 'user:ana', reason: 'v2 bad' });
      // A late retry of the v2 deploy must not undo the rollback.
      expect(await deployVersion(db, { ...request, version: 2, workflowId: 'w2', idempotencyKey: 'w2/r2/deploy' })).toEqual({
        previousVersion: 1,
        changed: false,
      });
      expect((await resolveAlias(db, model, 'production'))?.version).toBe(1);
      const rows = await db.select().from(deployments).where(eq(deployments.modelName, model));
      expect(rows.map((d) => [d.version, d.previousVersion, d.endedAt !== null])).toEqual([
        [1, null, true],
        [2, 1, true], // ended by the rollback
      ]);
    });

    it('refuses to delete the candidate of a traffic route (a canary), and GC keeps its artifact', async () => {
      const model = fresh();
      for (const seed of [1, 2]) await registerTiny(registry, model, seed);
      const db = registry.database.db;
      await setAlias(db, { model, alias: 'production', version: 1, actor: 't', reason: 'r' });
      await db
        .insert(routes)
        .values({ modelName: model, baselineVersion: 1, candidateVersion: 2, candidateWeight: 0.1, actor: 'canary', reason: 'rollout' });
      await expect(deleteVersion(db, { model, version: 2, actor: 't', reason: 'r' })).rejects.toThrow(
        `${model}@2 is the candidate of the model's traffic route (a canary rollout); it cannot be deleted`,
      );
      const v2 = (await getModelVersion(db, model, 2))!;
      await db.update(modelVersions).set({ status: 'deleted' }).where(eq(modelVersions.id, v2.id)); // as if deleted before the route
      const report = await collectGarbage(db, registry.artifacts, { now: new Date(Date.now() + 90 * 86_400_000), dryRun: true });
      expect(report.removed.map((r) => r.sha256)).not.toContain(v2.artifactSha256);
      expect(report.references[v2.artifactSha256].join()).toMatch(/traffic route candidate/);
    });

    it('refuses to archive or delete a version with a running deployment', async () => {
      const model = fresh();
      await registerTiny(registry, model, 1);
      const db = registry.database.db;
      await db
        .insert(deployments)
        .values({ modelName: model, version: 1, idempotencyKey: `canary/${model}`, workflowId: `canary/${model}` });
      await expect(archiveVersion(db, { model, version: 1, actor: 't', reason: 'r' })).rejects.toThrow(
        `${model}@1 has a running deployment (canary/${model}); it cannot be archived`,
      );
    });
  });

  describe('lineage', () => {
    it('shows dataset profile, code, producing run link, alias moves; diffs params, metrics, data and code', async () => {
      const model = fresh();
      const db = registry.database.db;
      await insertDatasetVersion(registry.database, `ds-a-${driver}`, {
        distance: { type: 'number', count: 9, nulls: 0, min: 100, max: 2000, mean: 800, std: 300, reference: null },
        origin: { type: 'string', count: 8, nulls: 1, distinct: 3, top: [{ value: 'ORD', count: 5 }], reference: null },
      });
      const v1 = await registerTiny(registry, model, 1, {
        datasetVersionId: `ds-a-${driver}`,
        datasetHash: `content-ds-a-${driver}`,
        gitCommit: 'c0ffee'.padEnd(40, '0'),
        gitDirty: false,
        featurePipeline: {
          modelArtifactSha256: 'f'.repeat(64),
          width: 3,
          features: [{ name: 'distance', kind: 'numeric', mean: 800, std: 300 }],
        },
      });
      const v2 = await registerTiny(registry, model, 2, {
        datasetVersionId: 'ds-gone',
        datasetHash: 'h2',
        gitCommit: 'beef'.padEnd(40, '0'),
        gitDirty: true,
        workflowId: 'train/x/with space',
        runId: 'r/2',
      });
      await setAlias(db, { model, alias: 'production', version: 1, actor: 't', reason: 'ship' });
      const options = { temporalUi: 'http://ui:8233/', namespace: 'default', artifacts: registry.artifacts };
      const shown = await describeVersion(db, v1, options);
      expect(shown).toMatchObject({
        aliases: ['production'],
        artifact: { sha256: v1.artifactSha256, check: 'ok' },
        dataset: {
          id: `ds-a-${driver}`,
          name: 'flights-test',
          rowCount: 9,
          profile: {
            distance: { type: 'number', min: 100, max: 2000, mean: 800 },
            origin: { type: 'string', distinct: 3, top: ['ORD (5)'] },
          },
        },
        code: { gitCommit: 'c0ffee'.padEnd(40, '0'), gitDirty: false },
        run: {
          workflowId: `train/${model}/1`,
          runId: 'run-1',
          url: `http://ui:8233/namespaces/default/workflows/train%2F${model}%2F1/run-1/history`,
        },
        featurePipeline: { features: [{ name: 'distance', kind: 'numeric', mean: 800, std: 300 }] },
      });
      expect(shown.aliasMoves.map((m) => m.toVersion)).toEqual([1]);
      expect(temporalRunUrl('http://ui', 'ns', 'train/x/with space', 'r/2')).toBe(
        'http://ui/namespaces/ns/workflows/train%2Fx%2Fwith%20space/r%2F2/history',
      );

      const other = await describeVersion(db, v2, options);
      expect(other.dataset).toMatchObject({ id: 'ds-gone', missing: true });
      const diff = diffVersions(shown, other);
      expect(diff.params).toEqual([{ path: 'trainer.l2', a: 1, b: 2 }]);
      expect(diff.metrics.find((m) => m.name === 'rocAuc')).toMatchObject({ a: 0.61, b: 0.62 });
      expect(diff.metrics.find((m) => m.name === 'rocAuc')!.delta).toBeCloseTo(0.01, 10);
      expect(diff.data.same).toBe(false);
      expect(diff.code).toMatchObject({ same: false, b: { gitDirty: true } });
      expect(diff.artifact.same).toBe(false);
    });
  });

  describe('garbage collection', () => {
    it('removes only unreferenced artifacts older than the grace period', async () => {
      const db = registry.database.db;
      const { artifacts } = registry;
      // GC looks at the whole store and database: give this test its own model and judge only its blobs.
      const model = fresh();
      const versions = [];
      for (const seed of [101, 102, 103, 104, 105]) versions.push(await registerTiny(registry, model, seed));
      const [v1, v2, v3, v4, v5] = versions;
      await setAlias(db, { model, alias: 'production', version: 2, actor: 't', reason: 'r' });
      await setAlias(db, { model, alias: 'production', version: 1, actor: 't', reason: 'r' }); // 2 is now only in the history
      await deleteVersion(db, { model, version: 2, actor: 't', reason: 'r' });
      await deleteVersion(db, { model, version: 3, actor: 't', reason: 'r' }); // never aliased: collectable
      await deleteVersion(db, { model, version: 4, actor: 't', reason: 'r' });
      await db.insert(deployments).values({ modelName: model, version: 4, idempotencyKey: `gc/${model}`, workflowId: 'canary' }); // running
      await archiveVersion(db, { model, version: 5, actor: 't', reason: 'r' }); // archived keeps its artifact
      const orphan = await artifacts.put(new TextEncoder().encode(`orphan ${model}`));
      const rejectedRunJson = await artifacts.putJson({ model, rejected: true });
      await db.insert(trainingRuns).values({
        id: `rejected/${model}`,
        modelName: model,
        workflowId: 'w',
        runId: 'r',
        datasetVersionId: 'd',
        trainer: {},
        modelArtifactSha256: rejectedRunJson,
        learningCurve: [],
        trainSeconds: 1,
      });
      const mine = new Set([...versions.map((v) => v.artifactSha256), orphan, rejectedRunJson]);
      const removed = (r: Awaited<ReturnType<typeof collectGarbage>>) =>
        r.removed
          .map((x) => x.sha256)
          .filter((s) => mine.has(s))
          .sort();

      // Everything is young: nothing of ours goes.
      const young = await collectGarbage(db, artifacts, { dryRun: true });
      expect(removed(young)).toEqual([]);

      // 60 days on, history retention 90 days: the history still protects v2; the run is within retention.
      const later = new Date(Date.now() + 60 * 86_400_000);
      const dry = await collectGarbage(db, artifacts, { now: later, historyRetentionDays: 90, dryRun: true });
      expect(removed(dry)).toEqual([v3.artifactSha256, orphan].sort());
      expect(dry.references[v2.artifactSha256].join()).toMatch(/alias production history/);
      expect(dry.references[v4.artifactSha256].join()).toMatch(/running deployment canary/);
      expect(dry.references[v1.artifactSha256].join()).toMatch(/alias production/);
      expect(dry.references[v5.artifactSha256].join()).toMatch(/archived version/);
      expect(await artifacts.has(v3.artifactSha256)).toBe(true); // a dry run removes nothing

      // With 30 days of retention the history no longer protects v2, nor the rejected run.
      const real = await collectGarbage(db, artifacts, { now: later, historyRetentionDays: 30 });
      expect(removed(real)).toEqual([v2.artifactSha256, v3.artifactSha256, orphan, rejectedRunJson].sort());
      for (const v of [v1, v4, v5]) expect(await artifacts.get(v.artifactSha256)).toBeTruthy();
      expect(await artifacts.has(v3.artifactSha256)).toBe(false);
      expect((await versionEvents(db, model, 3)).map((e) => e.action)).toEqual(['delete', 'artifact-collected']);
      expect(real.missing.filter((m) => mine.has(m.sha256))).toEqual([]);
    });

    it('keeps the checkpoint of a training run in flight, however old its blob, until the run clears it', async () => {
      const db = registry.database.db;
      const { artifacts } = registry;
      const runId = `train/${fresh()}/checkpointed`;
      const sha = await artifacts.putJson({ run: runId, trees: [] });
      const old = new Date(Date.now() - 10 * 86_400_000); // well past the grace period
      await utimes(join(artifacts.root, 'sha256', sha.slice(0, 2), sha.slice(2)), old, old);
      await recordTrainingCheckpoint(db, runId, { iteration: 40, artifactSha256: sha });
      const removedShas = async (options: Parameters<typeof collectGarbage>[2]) =>
        (await collectGarbage(db, artifacts, { dryRun: true, graceMinutes: 60, ...options })).removed.map((r) => r.sha256);

      const live = await collectGarbage(db, artifacts, { dryRun: true, graceMinutes: 60 });
      expect(live.removed.map((r) => r.sha256)).not.toContain(sha);
      expect(live.references[sha]).toEqual([`training checkpoint of run ${runId} (iteration 40)`]);
      // A checkpoint untouched for longer than the history retention belongs to an abandoned run.
      expect(await removedShas({ now: new Date(Date.now() + 60 * 86_400_000), historyRetentionDays: 30 })).toContain(sha);
      await clearTrainingCheckpoint(db, runId);
      expect(await removedShas({})).toContain(sha);
    });

    it('keeps a blob whose bytes were re-put recently (a pipeline may register it any moment)', async () => {
      const { artifacts } = registry;
      const bytes = new TextEncoder().encode(`reused ${driver} ${Date.now()}`);
      const sha = await artifacts.put(bytes);
      const old = new Date(Date.now() - 10 * 86_400_000);
      await utimes(join(artifacts.root, 'sha256', sha.slice(0, 2), sha.slice(2)), old, old);
      await artifacts.put(bytes); // refreshes its age
      const report = await collectGarbage(registry.database.db, artifacts, { dryRun: true, graceMinutes: 60 });
      expect(report.removed.map((r) => r.sha256)).not.toContain(sha);
    });
  });
});
