import postgres from 'postgres';
import type { PostgresSourceSpec } from '../shared/dataset-spec';
import { InvalidInputError } from '../shared/errors';
import type { OpenedSource, SourceOptions, SourceRecord } from './source';

/**
 * A PostgreSQL query as a source. The connection URL comes from an environment variable (default
 * DATABASE_URL), so configs hold no secret. The query is described first (its columns are the
 * source's fields, and a syntax error or an unknown column fails before reading), then streamed
 * through a cursor, `batchSize` rows at a time. Values arrive as postgres-js gives them: numeric
 * and bigint as strings (the mapping reads numbers from strings), timestamps as Dates.
 */
export async function openPostgresSource(spec: PostgresSourceSpec, name: string, options: SourceOptions = {}): Promise<OpenedSource> {
  const env = options.env ?? process.env;
  const variable = spec.urlEnv ?? 'DATABASE_URL';
  const url = env[variable];
  if (!url) throw new InvalidInputError(`postgres source "${name}": the environment variable ${variable} (its connection URL) is not set`);
  const where = `postgres source "${name}" (${redact(url)})`;
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  const params = (spec.params ?? []) as postgres.ParameterOrJSON<never>[];
  let fields: string[];
  try {
    const described = await sql.unsafe(spec.query, params).describe();
    fields = described.columns.map((column) => column.name);
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw queryError(error, where);
  }

  async function* records(): AsyncGenerator<SourceRecord> {
    let recordNumber = 0;
    try {
      for await (const batch of sql.unsafe(spec.query, params).cursor(spec.batchSize ?? 5000)) {
        for (const row of batch) yield { recordNumber: recordNumber++, record: row as Record<string, unknown> };
      }
    } catch (error) {
      throw queryError(error, where);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  return {
    name,
    where,
    fields,
    records: records(),
    fraction: () => undefined,
    close: () => sql.end({ timeout: 1 }),
  };
}

/** SQLSTATE class 42 (syntax, unknown table or column) and 22 (bad data) are the config's fault. */
function queryError(error: unknown, where: string): Error {
  const code = (error as { code?: string }).code ?? '';
  const message = `${where}: ${(error as Error).message}`;
  if (code.startsWith('42') || code.startsWith('22')) return new InvalidInputError(`${message} (SQLSTATE ${code})`);
  return new Error(message, { cause: error });
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an invalid URL';
  }
}
