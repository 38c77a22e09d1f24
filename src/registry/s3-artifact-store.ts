import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ArtifactMissingError, assertSha256, BlobStore, sha256Hex, type StoredArtifact, verified } from './artifact-store';

export interface S3ArtifactStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing slash ('' for none). */
  prefix: string;
  region: string;
  /** An S3-compatible endpoint (`http://127.0.0.1:9000`); default AWS's regional endpoint. */
  endpoint?: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`; default: when an endpoint is given. */
  forcePathStyle?: boolean;
  /** Static credentials; default the SDK's chain (environment, profiles, web identity, IAM roles). */
  credentials?: S3ClientConfig['credentials'];
}

/**
 * Blobs in S3 or an S3-compatible object store (MinIO, Ceph, R2, ...), laid out like the local
 * store: `<prefix>/sha256/<2 hex>/<62 hex>`, through the AWS SDK, whose credential chain covers
 * IAM roles, web identity and profiles. Every read is verified against its sha256. An object is
 * written whole by a single PUT, so no reader sees a partial blob.
 */
export class S3ArtifactStore extends BlobStore {
  private connected?: Promise<{ sdk: Sdk; client: S3Client }>;

  constructor(private readonly options: S3ArtifactStoreOptions) {
    super();
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) {
      throw new Error(`invalid S3 bucket name "${options.bucket}" (3–63 lowercase letters, digits, dots and hyphens)`);
    }
  }

  /** The SDK is loaded on first use: processes on a local store never pay for it. */
  private connect() {
    this.connected ??= import('@aws-sdk/client-s3').then((sdk) => ({ sdk, client: this.createClient(sdk) }));
    return this.connected;
  }

  private createClient(sdk: Sdk): S3Client {
    const options = this.options;
    return new sdk.S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      credentials: options.credentials,
      // The content is verified by its sha256 key on every read; the SDK's default CRC checksums
      // are not understood by every S3-compatible store.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  get location(): string {
    return `s3://${this.options.bucket}${this.options.prefix ? `/${this.options.prefix}` : ''}`;
  }

  pathOf(sha: string): string {
    return `s3://${this.options.bucket}/${this.keyOf(sha)}`;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha = sha256Hex(bytes);
    // Always written, even when present: it heals a corrupted copy and refreshes LastModified,
    // which garbage collection's grace period reads.
    const { sdk, client } = await this.connect();
    await this.call(`storing artifact ${sha} at ${this.pathOf(sha)}`, () =>
      client.send(new sdk.PutObjectCommand({ ...this.objectOf(sha), Body: bytes })),
    );
    return sha;
  }

  async get(sha: string): Promise<Uint8Array> {
    assertSha256(sha);
    const { sdk, client } = await this.connect();
    let bytes: Uint8Array;
    try {
      const object = await client.send(new sdk.GetObjectCommand(this.objectOf(sha)));
      bytes = await object.Body!.transformToByteArray();
    } catch (error) {
      if (isNotFound(sdk, error)) {
        throw new ArtifactMissingError(`artifact ${sha} is not in the store ${this.location} (never stored, or garbage-collected)`);
      }
      throw storeError(sdk, `reading artifact ${sha} from ${this.pathOf(sha)}`, error);
    }
    return verified(sha, bytes);
  }

  async has(sha: string): Promise<boolean> {
    assertSha256(sha);
    const { sdk, client } = await this.connect();
    try {
      await client.send(new sdk.HeadObjectCommand(this.objectOf(sha)));
      return true;
    } catch (error) {
      if (isNotFound(sdk, error)) return false;
      throw storeError(sdk, `looking up artifact ${sha}`, error);
    }
  }

  async delete(sha: string): Promise<void> {
    assertSha256(sha);
    const { sdk, client } = await this.connect();
    await this.call(`deleting artifact ${sha}`, () => client.send(new sdk.DeleteObjectCommand(this.objectOf(sha))));
  }

  async *list(): AsyncIterable<StoredArtifact> {
    const prefix = this.keyPrefix();
    const { sdk, client } = await this.connect();
    try {
      for await (const page of sdk.paginateListObjectsV2({ client }, { Bucket: this.options.bucket, Prefix: prefix })) {
        for (const object of page.Contents ?? []) {
          const sha = object.Key?.startsWith(prefix) ? object.Key.slice(prefix.length).replace('/', '') : undefined;
          if (!sha || !/^[0-9a-f]{64}$/.test(sha)) continue;
          yield { sha256: sha, bytes: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
        }
      }
    } catch (error) {
      throw storeError(sdk, `listing ${this.location}`, error);
    }
  }

  private keyPrefix(): string {
    return `${this.options.prefix ? `${this.options.prefix}/` : ''}sha256/`;
  }

  private keyOf(sha: string): string {
    return `${this.keyPrefix()}${sha.slice(0, 2)}/${sha.slice(2)}`;
  }

  private objectOf(sha: string): { Bucket: string; Key: string } {
    return { Bucket: this.options.bucket, Key: this.keyOf(sha) };
  }

  private async call(what: string, request: () => Promise<unknown>): Promise<void> {
    try {
      await request();
    } catch (error) {
      throw storeError((await this.connect()).sdk, what, error);
    }
  }
}

type Sdk = typeof import('@aws-sdk/client-s3');

function isNotFound(sdk: Sdk, error: unknown): boolean {
  return (
    error instanceof sdk.S3ServiceException &&
    (error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404) &&
    error.name !== 'NoSuchBucket'
  );
}

/** The store's own error code and message, or why it could not be reached; never a credential. */
function storeError(sdk: Sdk, what: string, error: unknown): Error {
  if (error instanceof sdk.S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    return new Error(
      `${what} failed: ${status ? `HTTP ${status} ` : ''}${error.name}${error.message && error.message !== error.name ? `: ${error.message}` : ''}`,
      { cause: error },
    );
  }
  return new Error(`${what} failed: cannot reach the artifact store: ${(error as Error).message}`, { cause: error });
}
