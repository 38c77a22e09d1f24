import { type ChildProcess, spawn } from 'node:child_process';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArtifactStore } from '../../src/registry/artifact-config';
import { ArtifactIntegrityError, ArtifactMissingError, sha256Hex } from '../../src/registry/artifact-store';
import { setAlias } from '../../src/registry/aliases';
import { registerModelVersion } from '../../src/registry/model-registry';
import { collectGarbage } from '../../src/registry/retention';
import { S3ArtifactStore } from '../../src/registry/s3-artifact-store';
import { readEnvironment } from '../../src/runtime/environment';
import { freePort } from '../../src/runtime/ports';
import { CONTRACT, openTestRegistry, type TestRegistry } from './registry-fixtures';
import { pythonWith } from './support/sklearn';

/**
 * The S3 artifact store against a real S3-compatible server: moto's standalone server (PyPI
 * `moto[server]`, in the virtualenv bench/train/setup-python.sh makes), on a free loopback port.
 * The credentials reach the store through the AWS SDK's own chain (here: the environment).
 */
const credentials = { accessKeyId: 'keel-test', secretAccessKey: 'keel-test-secret' };

describe('S3 artifact store against moto_server', () => {
  let server: ChildProcess;
  let endpoint: string;
  let store: S3ArtifactStore;
  let registry: TestRegistry;
  let admin: S3Client;
  const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    server = spawn(pythonWith('moto.server'), ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    await waitForHttp(endpoint, 30_000);
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    const env = readEnvironment({ KEEL_ARTIFACT_STORE: 's3://keel-artifacts/team/prod', KEEL_S3_ENDPOINT: endpoint });
    store = openArtifactStore(env.artifactStore) as S3ArtifactStore;
    admin = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials });
    await admin.send(new CreateBucketCommand({ Bucket: 'keel-artifacts' }));
    registry = await openTestRegistry('pglite');
  });

  afterAll(async () => {
    server?.kill();
    admin?.destroy();
    await registry?.close();
    restore('AWS_ACCESS_KEY_ID', savedEnv.id);
    restore('AWS_SECRET_ACCESS_KEY', savedEnv.secret);
  });

  it('stores, lists, verifies and deletes blobs by sha256', async () => {
    const bytes = new TextEncoder().encode('an onnx model, in spirit');
    const sha = await store.put(bytes);
    expect(sha).toBe(sha256Hex(bytes));
    expect(await store.has(sha)).toBe(true);
    expect(new TextDecoder().decode(await store.get(sha))).toBe('an onnx model, in spirit');
    expect(await store.getJson(await store.putJson({ a: 1 }))).toEqual({ a: 1 });
    const listed = [];
    for await (const blob of store.list()) listed.push(blob);
    expect(listed.find((b) => b.sha256 === sha)).toMatchObject({ bytes: bytes.byteLength, modifiedAt: expect.any(Date) });
    await store.delete(sha);
    expect(await store.has(sha)).toBe(false);
    await expect(store.get(sha)).rejects.toThrow(ArtifactMissingError);
    await store.delete(sha); // idempotent
  });

  it('refuses an object whose bytes no longer match its key, and a put heals it', async () => {
    const bytes = new TextEncoder().encode('good bytes');
    const sha = await store.put(bytes);
    await admin.send(
      new PutObjectCommand({ Bucket: 'keel-artifacts', Key: `team/prod/sha256/${sha.slice(0, 2)}/${sha.slice(2)}`, Body: 'evil' }),
    );
    await expect(store.get(sha)).rejects.toThrow(ArtifactIntegrityError);
    await expect(store.get(sha)).rejects.toThrow(/is corrupted: its bytes hash to/);
    await store.put(bytes);
    expect(new TextDecoder().decode(await store.get(sha))).toBe('good bytes');
  });

  it("reports the store's own error clearly", async () => {
    const missingBucket = new S3ArtifactStore({ bucket: 'no-such-bucket', prefix: '', region: 'us-east-1', endpoint, credentials });
    await expect(missingBucket.put(new TextEncoder().encode('x'))).rejects.toThrow(/storing artifact .* failed: HTTP 404 NoSuchBucket/);
    await expect(missingBucket.get(sha256Hex(new TextEncoder().encode('x')))).rejects.toThrow(
      /reading artifact .* failed: HTTP 404 NoSuchBucket/,
    );
    const wrongKey = new S3ArtifactStore({
      bucket: 'keel-artifacts',
      prefix: '',
      region: 'us-east-1',
      endpoint,
      credentials: { ...credentials, secretAccessKey: 'wrong-secret-9f3a' },
    });
    const refused = await wrongKey.put(new TextEncoder().encode('y')).catch((error: Error) => error);
    expect(String(refused)).not.toContain('wrong-secret-9f3a');
    const unreachable = new S3ArtifactStore({
      bucket: 'keel-artifacts',
      prefix: '',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${await freePort()}`,
      credentials,
    });
    await expect(unreachable.has('ab'.repeat(32))).rejects.toThrow(/looking up artifact .* failed: cannot reach the artifact store/);
  });

  it('garbage-collects unreferenced blobs in the bucket, keeping referenced ones', async () => {
    const keep = new TextEncoder().encode('referenced model');
    const keepSha = await store.put(keep);
    const dropSha = await store.put(new TextEncoder().encode('orphan'));
    await registerModelVersion(registry.database.db, {
      modelName: 's3-model',
      idempotencyKey: 's3/1',
      artifactSha256: keepSha,
      artifactBytes: keep.byteLength,
      contract: CONTRACT,
      params: {},
      metrics: {},
      datasetVersionId: '',
      datasetHash: '',
      trainingRunId: '',
      workflowId: '',
      runId: '',
    });
    await setAlias(registry.database.db, { model: 's3-model', alias: 'production', version: 1, actor: 't', reason: 'r' });
    const report = await collectGarbage(registry.database.db, store, { now: new Date(Date.now() + 2 * 86_400_000) });
    expect(report.removed.map((r) => r.sha256)).toContain(dropSha);
    expect(report.removed.map((r) => r.sha256)).not.toContain(keepSha);
    expect(await store.has(dropSha)).toBe(false);
    expect(await store.has(keepSha)).toBe(true);
  });
});

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`moto_server did not answer at ${url} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
