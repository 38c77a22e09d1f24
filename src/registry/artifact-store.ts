import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export class ArtifactIntegrityError extends Error {
  override readonly name = 'ArtifactIntegrityError';
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Content-addressed blobs in a local directory: the key is the sha256 of the bytes, so writing
 * the same bytes twice is one file, and every read is verified against its key.
 */
export class ArtifactStore {
  constructor(readonly root: string) {}

  async put(bytes: Uint8Array): Promise<string> {
    const sha = sha256Hex(bytes);
    const path = this.pathOf(sha);
    if (await exists(path)) return sha;
    await mkdir(dirname(path), { recursive: true });
    // Write then rename, so a crash never leaves a truncated file under a valid name.
    const temporary = `${path}.${randomUUID()}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, path);
    return sha;
  }

  async get(sha: string): Promise<Uint8Array> {
    if (!/^[0-9a-f]{64}$/.test(sha)) throw new ArtifactIntegrityError(`not a sha256 digest: "${sha}"`);
    const bytes = new Uint8Array(await readFile(this.pathOf(sha)));
    const actual = sha256Hex(bytes);
    if (actual !== sha) {
      throw new ArtifactIntegrityError(
        `artifact ${sha} is corrupted: its bytes hash to ${actual}; refusing to use it`,
      );
    }
    return bytes;
  }

  async putJson(value: unknown): Promise<string> {
    return this.put(new TextEncoder().encode(JSON.stringify(value)));
  }

  async getJson<T>(sha: string): Promise<T> {
    return JSON.parse(new TextDecoder().decode(await this.get(sha))) as T;
  }

  pathOf(sha: string): string {
    return join(this.root, 'sha256', sha.slice(0, 2), sha.slice(2));
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
