import type { SourcePolicy } from './source-policy';

/**
 * One record of a source, with its 0-based position in that source. A source may reuse the
 * object (and its record) for the next record: copy what you keep.
 */
export interface SourceRecord {
  recordNumber: number;
  record: Record<string, unknown>;
  /**
   * Set when the source could not read this record into fields (a CSV row with the wrong number
   * of fields, a JSONL line that is not JSON): the record is quarantined with this reason.
   */
  unreadable?: string;
}

/** What a source needs to know about the ingest that reads it. */
export interface SourceOptions {
  /**
   * Parquet only: return true to skip a row group without decoding it (its statistics prove that
   * no row passes the dataset's filter). Skipping is an optimisation, never a filter.
   */
  skipRowGroup?: (statistics: Record<string, { min?: unknown; max?: unknown }>) => boolean;
  /** Environment for `urlEnv` and header `{ env }` references (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** HTTP only: how to wait between retries (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * What the operator allows this source to reach (./source-policy). Workers always pass one, as
   * their input comes from whoever can start a workflow; without one (the CLI, tests, benches,
   * run by the operator on their own config) every path and URL is allowed.
   */
  policy?: SourcePolicy;
  /** Where the source is in the input, for refusals: `dataset.sources.0`. */
  field?: string;
}

/** An opened source: records stream out of `records`, one at a time, in source order. */
export interface OpenedSource {
  name: string;
  /** Where the records come from, for messages: a path, a URL or a query. */
  where: string;
  /**
   * The field names the source declares before any record (parquet schema, CSV header, query
   * columns), so a mapping can be checked before reading. null for JSON, JSONL and HTTP.
   */
  fields: string[] | null;
  records: AsyncIterable<SourceRecord>;
  /** Share of the source read so far (0..1) when it can be known (file bytes, parquet rows). */
  fraction(): number | undefined;
  close(): Promise<void>;
}
