import type { SourceSpec } from '../shared/dataset-spec';
import { sourceName } from '../shared/dataset-spec';
import { openCsvSource } from './csv-source';
import { openHttpSource } from './http-source';
import { openJsonlSource, openJsonSource } from './json-source';
import { openParquetSource, resolveSourcePath } from './parquet-source';
import { openPostgresSource } from './postgres-source';
import { allowedFilePath, checkHttpUrl, postgresConnectionVariable } from './source-policy';
import type { OpenedSource, SourceOptions } from './source-types';

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
