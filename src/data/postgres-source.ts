import postgres from 'postgres';
import type { PostgresSourceSpec } from '../shared/dataset-spec';
import { InvalidInputError } from '../shared/errors';
import { redactSecrets, redactUrl } from '../shared/redact';
import type { OpenedSource, SourceOptions, SourceRecord } from './source-types';
import { DEFAULT_STATEMENT_TIMEOUT_MS } from './source-policy';

/**
 * A PostgreSQL query as a source. The connection URL comes from an environment variable: the one
 * behind the operator's alias (`connection`, checked by ./source-policy), so configs hold no
 * secret and cannot name a database the operator did not offer. The session is read-only
 * (`default_transaction_read_only`, and the query runs in a READ ONLY transaction) with a
 * statement timeout: a query cannot write, and cannot run for ever. The query is described first (its columns are the
 * source's fields, and a syntax error or an unknown column fails before reading), then streamed
 * through a cursor, `batchSize` rows at a time. Values arrive as postgres-js gives them: numeric
 * and bigint as strings (the mapping reads numbers from strings), timestamps as Dates.
 */
export async function openPostgresSource(
  spec: PostgresSourceSpec,
  name: string,
  options: SourceOptions & { connectionVariable?: string } = {},
): Promise<OpenedSource> {
  // The whole environment: `urlEnv` names a variable the operator allowed (KEEL_POSTGRES_SOURCES), not one of keel's settings.
  const env = options.env ?? process.env;
  const variable = options.connectionVariable ?? spec.urlEnv ?? 'DATABASE_URL';
  const url = env[variable];
  if (!url) throw new InvalidInputError(`postgres source "${name}": the environment variable ${variable} (its connection URL) is not set`);
  const where = `postgres source "${name}"${spec.connection ? ` (connection ${spec.connection})` : ''} (${redactUrl(url)})`;
  const timeoutMs = options.policy?.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    connect_timeout: 10,
    connection: { default_transaction_read_only: true, statement_timeout: timeoutMs, application_name: 'keel-source' },
  });
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
    const connection = await sql.reserve().catch((error: unknown) => {
      throw queryError(error, where);
    });
    let open = false;
    try {
      await connection.unsafe('BEGIN TRANSACTION READ ONLY');
      open = true;
      for await (const batch of connection.unsafe(spec.query, params).cursor(spec.batchSize ?? 5000)) {
        for (const row of batch) yield { recordNumber: recordNumber++, record: row as Record<string, unknown> };
      }
    } catch (error) {
      throw queryError(error, where);
    } finally {
      if (open) await connection.unsafe('ROLLBACK').catch(() => {});
      connection.release();
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

/**
 * SQLSTATE class 42 (syntax, unknown table or column, no privilege), 22 (bad data) and 25006 (a
 * write in the read-only transaction) are the config's fault; 57014 (the statement timeout) too,
 * as a retry would time out again, and so are refused credentials and an unknown database. The driver's message is passed on redacted.
 */
function queryError(error: unknown, where: string): Error {
  const code = (error as { code?: string }).code ?? '';
  const message = `${where}: ${redactSecrets((error as Error).message)}`;
  // Credentials or a database that do not fit: a retry would fail the same way.
  if (code === '28P01' || code === '28000' || code === '3D000') return new InvalidInputError(`${message} (SQLSTATE ${code})`);
  if (code === '25006') return new InvalidInputError(`${message} (SQLSTATE ${code}: postgres sources are read-only)`);
  if (code === '57014')
    return new InvalidInputError(
      `${message} (SQLSTATE ${code}: the statement timeout of a postgres source, KEEL_POSTGRES_SOURCE_TIMEOUT_MS)`,
    );
  if (code.startsWith('42') || code.startsWith('22')) return new InvalidInputError(`${message} (SQLSTATE ${code})`);
  return new Error(message, { cause: error });
}
