import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactIntegrityError, ArtifactMissingError, sha256Hex } from '../../src/registry/artifact-store';
import { openArtifactStore } from '../../src/registry/artifact-config';
import { registerModelVersion, setAlias } from '../../src/registry/model-registry';
import { collectGarbage } from '../../src/registry/retention';
import { S3ArtifactStore, signV4 } from '../../src/registry/s3-artifact-store';
import { freePort } from '../../src/runtime/ports';
import { CONTRACT, openTestRegistry, type TestRegistry } from './registry-fixtures';

/**
 * The S3 artifact store against a real S3-compatible server: moto's standalone server (PyPI
 * `moto[server]`, command `moto_server`), started on a free loopback port. Skipped, saying so,
 * where moto is not installed.
 */
const moto = spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;
const credentials = { accessKeyId: 'keel-test', secretAccessKey: 'keel-test-secret' };

describe('signV4', () => {
  it('matches the AWS Signature Version 4 reference example (GET object, S3 docs)', () => {
    // From the S3 API reference, "Example: GET Object" (the documented signature).
    const headers = signV4({
      method: 'GET',
      path: '/test.txt',
      canonicalQuery: '',
      host: 'examplebucket.s3.amazonaws.com',
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      now: new Date('2013-05-24T00:00:00Z'),
      extraSignedHeaders: { range: 'bytes=0-9' },
    });
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });
});

describe.skipIf(!moto)('S3 artifact store against moto_server', () => {
  let server: ChildProcess;
  let endpoint: string;
  let store: S3ArtifactStore;
  let registry: TestRegistry;

  beforeAll(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    server = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    await waitForHttp(endpoint, 30_000);
    store = openArtifactStore({
      dataDir: '/unused',
      env: {
        KEEL_ARTIFACT_STORE: 's3://keel-artifacts/team/prod',
        KEEL_S3_ENDPOINT: endpoint,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
    }) as S3ArtifactStore;
    const created = await signedFetch('PUT', '/keel-artifacts');
    expect(created.status).toBe(200);
    registry = await openTestRegistry('pglite');
  });

  afterAll(async () => {
    server?.kill();
    await registry?.close();
  });

  /** A request signed like the store's, for setting up what the store would never do itself. */
  async function signedFetch(method: string, path: string, body?: Uint8Array): Promise<Response> {
    const url = new URL(path, endpoint);
    const headers = signV4({
      method,
      path: url.pathname,
      canonicalQuery: '',
      host: url.host,
      payloadHash: sha256Hex(body ?? new Uint8Array()),
      region: 'us-east-1',
      credentials,
      now: new Date(),
    });
    return fetch(url, { method, headers, body: body as RequestInit['body'] });
  }

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
    const tampered = await signedFetch('PUT', `/keel-artifacts/team/prod/sha256/${sha.slice(0, 2)}/${sha.slice(2)}`, new TextEncoder().encode('evil'));
    expect(tampered.status).toBe(200);
    await expect(store.get(sha)).rejects.toThrow(ArtifactIntegrityError);
    await expect(store.get(sha)).rejects.toThrow(/is corrupted: its bytes hash to/);
    await store.put(bytes);
    expect(new TextDecoder().decode(await store.get(sha))).toBe('good bytes');
  });

  it('reports the store\'s own error clearly', async () => {
    const missingBucket = new S3ArtifactStore({ bucket: 'no-such-bucket', prefix: '', region: 'us-east-1', endpoint, credentials });
    await expect(missingBucket.put(new TextEncoder().encode('x'))).rejects.toThrow(/storing artifact .* failed: HTTP 404 NoSuchBucket/);
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
