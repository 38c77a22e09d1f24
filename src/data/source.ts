import type { SourceSpec } from '../shared/dataset-spec';
import { sourceName } from '../shared/dataset-spec';
import { openCsvSource } from './csv-source';
import { openHttpSource } from './http-source';
import { openJsonlSource, openJsonSource } from './json-source';
import { openParquetSource, resolveSourcePath } from './parquet-source';
import { openPostgresSource } from './postgres-source';
import { allowedFilePath, checkHttpUrl, postgresConnectionVariable, type SourcePolicy } from './source-policy';

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

/** Opens one source of a dataset spec. Errors name the source and the path, URL or query. */
export async function openSource(spec: SourceSpec, options: SourceOptions = {}): Promise<OpenedSource> {
  const name = sourceName(spec);
  const { policy, field = 'source' } = options;
  let connectionVariable: string | undefined;
  if (policy) {
    switch (spec.format) {
      case 'postgres':
        connectionVariable = postgresConnectionVariable(field, spec, policy);
        break;
      case 'http':
        checkHttpUrl(`${field}.url`, spec.url, policy);
        break;
      default:
        // The file opened is the real path checked here, so a link swapped in later cannot lead out.
        spec = { ...spec, path: await allowedFilePath(`${field}.path`, spec.path, policy, resolveSourcePath) };
    }
  }
  switch (spec.format) {
    case 'csv':
      return openCsvSource(spec, name);
    case 'json':
      return openJsonSource(spec, name);
    case 'jsonl':
      return openJsonlSource(spec, name);
    case 'parquet':
      return openParquetSource(spec, name, options);
    case 'postgres':
      return openPostgresSource(spec, name, { ...options, connectionVariable });
    case 'http':
      return openHttpSource(spec, name, options);
    default:
      throw new Error(`unknown source format ${JSON.stringify((spec as { format: unknown }).format)}`);
  }
}
