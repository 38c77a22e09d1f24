import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The bytes of an artifact no longer hash to its key: never use them. */
export class ArtifactIntegrityError extends Error {
  override readonly name = 'ArtifactIntegrityError';
}

/** No blob under that key (never written, or garbage-collected). */
export class ArtifactMissingError extends Error {
  override readonly name = 'ArtifactMissingError';
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const SHA256 = /^[0-9a-f]{64}$/;

export function assertSha256(sha: string): void {
  if (!SHA256.test(sha)) throw new ArtifactIntegrityError(`not a sha256 digest: "${sha}"`);
}

/** One stored blob, as listed for garbage collection. */
export interface StoredArtifact {
  sha256: string;
  bytes: number;
  /** Last write (a `put` of bytes already stored refreshes it, so GC's grace period covers reuse). */
  modifiedAt: Date;
}

/**
 * Content-addressed blob storage: the key is the sha256 of the bytes, writing the same bytes twice
 * stores one blob, and every read is verified against its key (a mismatch throws
 * ArtifactIntegrityError, never returns bytes). Implementations: a local directory
 * (LocalArtifactStore, the default) and S3-compatible object storage (S3ArtifactStore).
 */
export interface ArtifactStore {
  /** Where the blobs live, for messages (`/path/to/artifacts`, `s3://bucket/prefix`). */
  readonly location: string;
  put(bytes: Uint8Array): Promise<string>;
  /** The verified bytes; ArtifactMissingError or ArtifactIntegrityError otherwise. */
  get(sha: string): Promise<Uint8Array>;
  putJson(value: unknown): Promise<string>;
  getJson<T>(sha: string): Promise<T>;
  has(sha: string): Promise<boolean>;
  /** Every blob in the store (for garbage collection). */
  list(): AsyncIterable<StoredArtifact>;
  /** Removes a blob; removing one that is not there is not an error. */
  delete(sha: string): Promise<void>;
  /** Where one blob lives, for messages and operators: a file path or an `s3://` URL. */
  pathOf(sha: string): string;
}

/** What every store does the same way on top of its own bytes: JSON documents. */
export abstract class BlobStore implements ArtifactStore {
  abstract readonly location: string;
  abstract put(bytes: Uint8Array): Promise<string>;
  abstract get(sha: string): Promise<Uint8Array>;
  abstract has(sha: string): Promise<boolean>;
  abstract list(): AsyncIterable<StoredArtifact>;
  abstract delete(sha: string): Promise<void>;
  abstract pathOf(sha: string): string;

  async putJson(value: unknown): Promise<string> {
    return this.put(new TextEncoder().encode(JSON.stringify(value)));
  }

  async getJson<T>(sha: string): Promise<T> {
    return JSON.parse(new TextDecoder().decode(await this.get(sha))) as T;
  }
}

/** Blobs in a local directory: `<root>/sha256/<first two hex digits>/<the other 62>`. */
export class LocalArtifactStore extends BlobStore {
  constructor(readonly root: string) {
    super();
  }

  get location(): string {
    return this.root;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha = sha256Hex(bytes);
    const path = this.pathOf(sha);
    if (await exists(path)) {
      // Reused bytes count as a fresh write: a concurrent GC's grace period then protects them.
      const now = new Date();
      await utimes(path, now, now).catch(() => {});
      // A corrupted copy under this name would otherwise be kept forever: replace it.
      if (
        await this.get(sha).then(
          () => true,
          () => false,
        )
      )
        return sha;
    }
    await mkdir(dirname(path), { recursive: true });
    // Write then rename, so a crash never leaves a truncated file under a valid name.
    const temporary = `${path}.${randomUUID()}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, path);
    return sha;
  }

  async get(sha: string): Promise<Uint8Array> {
    assertSha256(sha);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(this.pathOf(sha)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ArtifactMissingError(`artifact ${sha} is not in the store ${this.root} (never stored, or garbage-collected)`);
      }
      throw error;
    }
    return verified(sha, bytes);
  }

  async has(sha: string): Promise<boolean> {
    assertSha256(sha);
    return exists(this.pathOf(sha));
  }

  async *list(): AsyncIterable<StoredArtifact> {
    const base = join(this.root, 'sha256');
    const prefixes = await readdir(base).catch(() => [] as string[]);
    for (const prefix of prefixes.sort()) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      const names = await readdir(join(base, prefix)).catch(() => [] as string[]);
      for (const name of names.sort()) {
        const sha = prefix + name;
        if (!SHA256.test(sha)) continue; // temporary files of writes in progress
        const info = await stat(join(base, prefix, name)).catch(() => undefined);
        if (info) yield { sha256: sha, bytes: info.size, modifiedAt: info.mtime };
      }
    }
  }

  async delete(sha: string): Promise<void> {
    assertSha256(sha);
    await rm(this.pathOf(sha), { force: true });
  }

  pathOf(sha: string): string {
    return join(this.root, 'sha256', sha.slice(0, 2), sha.slice(2));
  }
}

/** Checks bytes read from any store against their key. */
export function verified(sha: string, bytes: Uint8Array): Uint8Array {
  const actual = sha256Hex(bytes);
  if (actual !== sha) {
    throw new ArtifactIntegrityError(`artifact ${sha} is corrupted: its bytes hash to ${actual}; refusing to use it`);
  }
  return bytes;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
