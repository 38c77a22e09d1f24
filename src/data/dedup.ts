import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ColumnSpec, DedupSpec } from '../shared/dataset-spec';
import type { Row } from './columns';

/**
 * Deduplication: records of one entity (same normalised key) from several sources, or repeated in
 * one, become one row. Which record survives follows the conflict rule: `source-priority` (lower
 * priority number wins, then the most recent, then the first read) or `most-recent` (largest
 * recency value wins, then source priority, then the first read). A row whose key has a missing
 * part is never a duplicate.
 *
 * Memory: the winner is known only at the end, so accepted rows are spooled to a temporary file
 * (JSON lines) while the key index stays in memory: one Map entry per distinct key plus 16 bytes
 * per row. The second pass reads the spool in read order and emits winners in place (a surviving
 * row keeps its own position) and losers as duplicates.
 */

/** The identifying key of a row, normalised; null when a part is missing. */
export function dedupKeyFn(spec: DedupSpec): (row: Row) => string | null {
  const parts = spec.key.map((key) => (typeof key === 'string' ? { column: key, normalize: 'text' as const } : key));
  return (row) => {
    let key = '';
    for (let i = 0; i < parts.length; i++) {
      const { column, normalize } = parts[i];
      const value = row[column];
      if (value === null || value === undefined || value === '') return null;
      const text =
        normalize === 'exact' ? String(value) : normalize === 'address' ? normaliseAddress(String(value)) : normaliseText(String(value));
      if (text === '') return null;
      key += i === 0 ? text : `\u0001${text}`;
    }
    return key;
  };
}

/** Lower case, accents and punctuation removed, spaces collapsed: "Irvine, CA" → "irvine ca". */
function normaliseText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

const ADDRESS_WORDS: Record<string, string> = {
  street: 'st',
  avenue: 'ave',
  av: 'ave',
  road: 'rd',
  drive: 'dr',
  lane: 'ln',
  boulevard: 'blvd',
  court: 'ct',
  place: 'pl',
  terrace: 'ter',
  highway: 'hwy',
  parkway: 'pkwy',
  circle: 'cir',
  square: 'sq',
  trail: 'trl',
  way: 'way',
  north: 'n',
  south: 's',
  east: 'e',
  west: 'w',
  northeast: 'ne',
  northwest: 'nw',
  southeast: 'se',
  southwest: 'sw',
  apartment: 'apt',
  suite: 'ste',
  unit: 'unit',
  california: 'ca',
  texas: 'tx',
  'new york': 'ny',
  washington: 'wa',
  oregon: 'or',
  nevada: 'nv',
  arizona: 'az',
};

/** normaliseText plus the usual street-word abbreviations and a 5-digit zip: "15 Star Thistle Street, Irvine, California 92604-1234" → "15 star thistle st irvine ca 92604". */
export function normaliseAddress(text: string): string {
  const words = normaliseText(text.replace(/\b(\d{5})-\d{4}\b/g, '$1'))
    .replace(/\bnew york\b/g, 'ny')
    .split(' ');
  return words.map((word) => ADDRESS_WORDS[word] ?? word).join(' ');
}

export interface DedupCandidate {
  row: Row;
  /** JSON of the row (as stored). */
  json: string;
  sourceIndex: number;
  recordNumber: number;
}

export interface Duplicate {
  row: Row;
  sourceIndex: number;
  recordNumber: number;
  /** The surviving record of the same key. */
  winner: { sourceIndex: number; recordNumber: number };
  key: string;
}

/** Collects accepted rows, then replays them in read order as winners or duplicates. */
export class Deduplicator {
  private readonly keyOf: (row: Row) => string | null;
  private readonly recencyOf: (row: Row) => number;
  private readonly winnerOf = new Map<string, number>();
  private priority = new Float64Array(1024);
  private recency = new Float64Array(1024);
  private sourceIndex = new Uint16Array(1024);
  private recordNumber = new Float64Array(1024);
  private size = 0;
  private dir: string | undefined;
  private spool: WriteStream | undefined;
  private spoolPath = '';

  constructor(
    private readonly spec: DedupSpec,
    columns: readonly ColumnSpec[],
    private readonly priorities: readonly number[],
  ) {
    this.keyOf = dedupKeyFn(spec);
    const recency = spec.recency ? columns.find((c) => c.name === spec.recency) : undefined;
    this.recencyOf = recency
      ? recency.type === 'date' || recency.type === 'datetime'
        ? (row) => {
            const value = row[recency.name];
            return typeof value === 'string' ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : `${value}Z`) : -Infinity;
          }
        : (row) => {
            const value = row[recency.name];
            return typeof value === 'number' ? value : -Infinity;
          }
      : () => -Infinity;
  }

  /** Records an accepted row; resolves when the spool can take more. */
  async add(candidate: DedupCandidate): Promise<void> {
    if (!this.spool) {
      this.dir = await mkdtemp(join(tmpdir(), 'keel-dedup-'));
      this.spoolPath = join(this.dir, 'rows.jsonl');
      this.spool = createWriteStream(this.spoolPath);
    }
    const seq = this.size++;
    if (seq === this.priority.length) this.grow();
    this.priority[seq] = this.priorities[candidate.sourceIndex]!;
    this.recency[seq] = this.recencyOf(candidate.row);
    this.sourceIndex[seq] = candidate.sourceIndex;
    this.recordNumber[seq] = candidate.recordNumber;
    const key = this.keyOf(candidate.row);
    if (key !== null) {
      const current = this.winnerOf.get(key);
      if (current === undefined || this.beats(seq, current)) this.winnerOf.set(key, seq);
    }
    if (!this.spool.write(`${candidate.json}\n`)) await new Promise<void>((resolve) => this.spool!.once('drain', () => resolve()));
  }

  /** Number of distinct keys so far. */
  get keys(): number {
    return this.winnerOf.size;
  }

  /** Replays every row in read order: `winner` for survivors (and rows without a key), `duplicate` for the others. */
  async *replay(): AsyncGenerator<{ kind: 'winner'; row: Row; json: string; sourceIndex: number } | ({ kind: 'duplicate' } & Duplicate)> {
    if (!this.spool) return;
    const spool = this.spool;
    await new Promise<void>((resolve, reject) => {
      spool.once('error', reject);
      spool.end(() => resolve());
    });
    const winners = new Uint8Array(this.size);
    for (const seq of this.winnerOf.values()) winners[seq] = 1;
    try {
      const lines = createInterface({ input: createReadStream(this.spoolPath), crlfDelay: Infinity });
      let seq = 0;
      for await (const json of lines) {
        const row = JSON.parse(json) as Row;
        const key = this.keyOf(row);
        if (key === null || winners[seq]) {
          yield { kind: 'winner', row, json, sourceIndex: this.sourceIndex[seq] };
        } else {
          const winner = this.winnerOf.get(key)!;
          yield {
            kind: 'duplicate',
            row,
            key,
            sourceIndex: this.sourceIndex[seq],
            recordNumber: this.recordNumber[seq],
            winner: { sourceIndex: this.sourceIndex[winner], recordNumber: this.recordNumber[winner] },
          };
        }
        seq++;
      }
      if (seq !== this.size) throw new Error(`dedup spool: read ${seq} rows back, wrote ${this.size}`);
    } finally {
      await this.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.spool?.destroy();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  /** Whether row a wins over row b (b was read earlier). */
  private beats(a: number, b: number): boolean {
    const byPriority = this.priority[a] - this.priority[b];
    const byRecency = this.recency[a] - this.recency[b];
    if (this.spec.keep === 'most-recent') {
      if (byRecency !== 0 && !Number.isNaN(byRecency)) return byRecency > 0;
      if (byPriority !== 0) return byPriority < 0;
    } else {
      if (byPriority !== 0) return byPriority < 0;
      if (byRecency !== 0 && !Number.isNaN(byRecency)) return byRecency > 0;
    }
    return false;
  }

  private grow(): void {
    const n = this.priority.length * 2;
    const grow = <T extends Float64Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.priority = grow(this.priority, (k) => new Float64Array(k));
    this.recency = grow(this.recency, (k) => new Float64Array(k));
    this.sourceIndex = grow(this.sourceIndex, (k) => new Uint16Array(k));
    this.recordNumber = grow(this.recordNumber, (k) => new Float64Array(k));
  }
}
