import { createHash } from 'node:crypto';
import type { Database } from '../db/database';
import type { ColumnDef, Row } from './columns';
import { openRowCopier, type RowCopier } from './copy-stream';
import { ProfileBuilder, type DatasetProfile } from './profile';

/**
 * Where ingest's accepted rows go: each row feeds the content hash, the profile and the COPY to
 * dataset_rows in one pass. Its own module so the hashing and row encoding, which must match the
 * hash ingest.ts documents and src/registry/reproduce.ts recomputes, sit apart from the read loop.
 */

const ROW_COLUMNS = ['dataset_version_id', 'row_index', 'data'];

/** Accepted rows in order: hashed, profiled and copied to dataset_rows (see ./copy-stream). */
export class RowSink {
  private readonly hash = createHash('sha256');
  private hashBuffer: string;
  private index = 0;
  private readonly profile: ProfileBuilder;
  private readonly copier: RowCopier;
  private readonly names: string[];

  constructor(
    database: Database,
    private readonly id: string,
    columns: readonly ColumnDef[],
    chunkRows: number,
    afterChunk: () => Promise<void>,
  ) {
    this.hashBuffer = `${JSON.stringify(columns.map((c) => [c.name, c.type]))}\n`;
    this.profile = new ProfileBuilder(columns);
    this.copier = openRowCopier(database, 'dataset_rows', ROW_COLUMNS, { chunkRows, afterChunk });
    this.names = columns.map((c) => c.name);
  }

  /** Adds a row (its keys: the columns, in order); await the result when there is one (backpressure). */
  add(row: Row): Promise<void> | undefined {
    this.hashBuffer += `${JSON.stringify(this.names.map((name) => row[name] ?? null))}\n`;
    if (this.hashBuffer.length > 1 << 20) {
      this.hash.update(this.hashBuffer);
      this.hashBuffer = '';
    }
    this.profile.add(row);
    const index = this.index++;
    const json = JSON.stringify(row);
    if (!this.copier.takesLines) return this.copier.add([this.id, index, json]);
    // JSON text holds no raw tab or newline (JSON.stringify escapes them): only backslashes need escaping.
    const text = json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
    return this.copier.addLine(`${this.id}\t${index}\t${text}\n`);
  }

  settle(): Promise<void> {
    return this.copier.settle();
  }

  async close(): Promise<{ contentHash: string; rowCount: number; profile: DatasetProfile }> {
    await this.copier.close();
    this.hash.update(this.hashBuffer);
    this.hashBuffer = '';
    return { contentHash: this.hash.digest('hex'), rowCount: this.index, profile: await this.profile.finishInTurns() };
  }
}
