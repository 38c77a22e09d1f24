import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { findDatasetVersions, listDatasetVersions, listQuarantinedRows, type DatasetVersion } from '../data/dataset-store';
import { ingestDataset, type IngestProgress, type IngestReport, type IngestResult } from '../data/ingest';
import type { ColumnProfile, DatasetProfile } from '../data/profile';
import { formatFraction } from '../data/profile';
import { validateDatasetVersion } from '../data/validate';
import { openDatabase, type Database } from '../db/database';
import type { Environment } from '../runtime/environment';
import { datasetRulesSchema, datasetSpecSchema, type DatasetRules, type DatasetSpec } from '../shared/dataset-spec';
import { DataValidationError, InvalidInputError } from '../shared/errors';
import { jsonSchemaReference } from '../shared/project-config';
import { parseOrThrow } from '../shared/validation';
import { dataRowsCommand } from './data-rows-command';
import { printResult } from './output';
import { clip, table } from './text-table';
import { strictObject } from '../shared/strict';

/**
 * `keel data ingest|versions|show|quarantine|rows`: datasets without Temporal — the same ingest code
 * as the pipeline's ingest activity, straight against the database (DATABASE_URL, or the
 * embedded PGlite of KEEL_DATA_DIR, which only one process can open at a time).
 */
export function dataCommand(env: Environment): Command {
  const command = new Command('data').description('ingest datasets, list versions, show profiles, quarantined rows and accepted rows');
  const withDatabase = async <T>(work: (database: Database) => Promise<T>): Promise<T> => {
    const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.dataDir });
    try {
      return await work(database);
    } finally {
      await database.close();
    }
  };

  command
    .command('ingest <config>')
    .description('ingest a dataset from a config file ({ "dataset": ..., "rules": ... }, or keel.config.json) and check its rules')
    .option('--key <ingestKey>', 'idempotency key: a repeated ingest with the same key returns the first result')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'machine-readable output')
    .action((configPath: string, opts: { key?: string; progress: boolean; json?: boolean }) =>
      withDatabase(async (database) => {
        const { dataset, rules } = await loadDataConfig(configPath);
        const bar = opts.progress && process.stderr.isTTY ? progressBar() : undefined;
        const started = performance.now();
        let result: IngestResult;
        try {
          result = await ingestDataset(database, dataset, { ingestKey: opts.key, onProgress: bar && ((progress) => bar.update(progress)) });
        } finally {
          bar?.stop();
        }
        const seconds = (performance.now() - started) / 1000;
        let rulesOutcome: { checked: boolean; passed?: boolean; rule?: string; message?: string; observed?: unknown } = { checked: false };
        if (rules) {
          try {
            await validateDatasetVersion(database.db, result.datasetVersionId, rules);
            rulesOutcome = { checked: true, passed: true };
          } catch (error) {
            if (!(error instanceof DataValidationError)) throw error;
            rulesOutcome = { checked: true, passed: false, rule: error.rule, message: error.message, observed: error.observed };
            process.exitCode = 1;
          }
        }
        printResult(opts.json, { ...result, seconds, rules: rulesOutcome }, () =>
          [
            `dataset ${datasetName(dataset)}: version ${result.datasetVersionId} ${result.created ? '(new)' : '(identical content exists: no new version)'}`,
            `  content hash ${result.contentHash}`,
            `  ${accountingLine(result.report)}`,
            ...reportTable(result.report).map((line) => `  ${line}`),
            `  ${seconds.toFixed(1)} s`,
            rulesOutcome.checked
              ? rulesOutcome.passed
                ? '  rules: all passed'
                : `  rules: FAILED: ${rulesOutcome.message}`
              : '  rules: none given',
          ].join('\n'),
        );
      }),
    );

  command
    .command('versions')
    .description('list dataset versions, newest first')
    .option('--name <dataset>', 'only this dataset')
    .option('--json', 'machine-readable output')
    .action((opts: { name?: string; json?: boolean }) =>
      withDatabase(async (database) => {
        const versions = await listDatasetVersions(database.db, opts.name);
        const rows = versions.map(summary);
        printResult(opts.json, rows, () =>
          rows.length
            ? table(
                ['VERSION', 'NAME', 'ROWS', 'QUARANTINED', 'DUPLICATES', 'CONTENT HASH', 'CREATED'],
                rows.map((r) => [
                  r.id,
                  r.name,
                  String(r.rowCount),
                  String(r.quarantinedCount),
                  String(r.duplicateCount),
                  r.contentHash.slice(0, 12),
                  r.createdAt.slice(0, 19).replace('T', ' '),
                ]),
              ).join('\n')
            : 'no dataset versions yet (keel data ingest <config>)',
        );
      }),
    );

  command
    .command('show <version>')
    .description('a version: its schema, accounting and per-column profile (id, id or hash prefix, or dataset name for its newest)')
    .option('--json', 'machine-readable output')
    .action((reference: string, opts: { json?: boolean }) =>
      withDatabase(async (database) => {
        const version = await resolveVersion(database, reference);
        printResult(
          opts.json,
          { ...summary(version), spec: version.spec, columns: version.columns, report: version.report, profile: version.profile },
          () => showText(version),
        );
      }),
    );

  command
    .command('quarantine <version>')
    .description('the records a version quarantined, with every reason (or, with --duplicates, the records deduplication dropped)')
    .option('--duplicates', 'show the duplicates instead')
    .option('--limit <n>', 'at most this many', '50')
    .option('--offset <n>', 'skip this many', '0')
    .option('--json', 'machine-readable output')
    .action((reference: string, opts: { duplicates?: boolean; limit: string; offset: string; json?: boolean }) =>
      withDatabase(async (database) => {
        const version = await resolveVersion(database, reference);
        const kind = opts.duplicates ? 'duplicate' : 'invalid';
        const limit = parseCount(opts.limit, '--limit');
        const offset = parseCount(opts.offset, '--offset');
        const rows = await listQuarantinedRows(database.db, version.id, { kind, limit, offset });
        const total = opts.duplicates ? version.duplicateCount : version.quarantinedCount;
        printResult(
          opts.json,
          {
            version: version.id,
            name: version.name,
            kind,
            total,
            offset,
            rows: rows.map(({ source, recordNumber, reasons, raw }) => ({ source, sourceRecord: recordNumber + 1, reasons, raw })),
          },
          () =>
            [
              `${total} ${opts.duplicates ? 'duplicate' : 'quarantined'} record${total === 1 ? '' : 's'} in version ${version.id} (${version.name})${rows.length < total ? `, showing ${offset + 1}-${offset + rows.length}` : ''}`,
              ...rows.flatMap((r) => [
                `${r.source} record ${r.recordNumber + 1}: ${(r.reasons as string[]).join('; ')}`,
                `    ${clip(JSON.stringify(r.raw), 160)}`,
              ]),
            ].join('\n'),
        );
      }),
    );

  command.addCommand(dataRowsCommand(withDatabase));

  return command;
}

// ---------------------------------------------------------------------------------------------

export const dataConfigSchema = strictObject({
  $schema: jsonSchemaReference,
  dataset: datasetSpecSchema,
  rules: datasetRulesSchema.optional(),
});

/**
 * Reads a data config: `{ "dataset": ..., "rules": ... }`, a project config (its pipeline's dataset
 * and rules), or a bare dataset spec. Relative file paths of sources are read from the config's
 * directory.
 */
export async function loadDataConfig(path: string): Promise<{ dataset: DatasetSpec; rules?: DatasetRules }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InvalidInputError(
      `cannot read config ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`config ${path} is not JSON: ${(error as Error).message}`);
  }
  const object = (json ?? {}) as Record<string, unknown>;
  const candidate = 'dataset' in object ? object : 'pipeline' in object ? pick(object.pipeline) : { dataset: object };
  const parsed = parseOrThrow(dataConfigSchema, candidate, `data config ${path}`, (message) => new InvalidInputError(message));
  return { dataset: withPathsFrom(dirname(resolve(path)), parsed.dataset), rules: parsed.rules };
}

function pick(pipeline: unknown): Record<string, unknown> {
  const { dataset, rules } = (pipeline ?? {}) as Record<string, unknown>;
  return { dataset, rules };
}

function withPathsFrom(dir: string, spec: DatasetSpec): DatasetSpec {
  const fix = (path: string) => (path.includes(':') || isAbsolute(path) ? path : resolve(dir, path));
  if (spec.recipe === 'flights') return { ...spec, source: { ...spec.source, path: fix(spec.source.path) } };
  return {
    ...spec,
    sources: spec.sources.map((source) =>
      'path' in source ? { ...source, path: fix(source.path), name: source.name ?? source.path } : source,
    ),
  };
}

function datasetName(spec: DatasetSpec): string {
  return spec.name;
}

async function resolveVersion(database: Database, reference: string): Promise<DatasetVersion> {
  const matches = await findDatasetVersions(database.db, reference);
  if (matches.length === 0) throw new InvalidInputError(`no dataset version matches "${reference}" (keel data versions lists them)`);
  if (matches.length > 1) {
    throw new InvalidInputError(
      `"${reference}" matches ${matches.length} versions (${matches.map((m) => m.id.slice(0, 12)).join(', ')}): give more characters`,
    );
  }
  return matches[0];
}

function summary(v: DatasetVersion) {
  return {
    id: v.id,
    name: v.name,
    contentHash: v.contentHash,
    rowsRead: v.rowsRead,
    rowCount: v.rowCount,
    quarantinedCount: v.quarantinedCount,
    duplicateCount: v.duplicateCount,
    createdAt: v.createdAt.toISOString(),
  };
}

function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidInputError(`${flag} must be a whole number >= 0 (got ${JSON.stringify(text)})`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Text output
// ---------------------------------------------------------------------------------------------

function accountingLine(report: IngestReport): string {
  return `read ${report.read} = ${report.accepted} accepted + ${report.quarantined} quarantined + ${report.duplicates} duplicates${report.limited ? ' (stopped at the limit)' : ''}`;
}

function reportTable(report: IngestReport): string[] {
  if (report.sources.length === 0) return [];
  return table(
    ['SOURCE', 'SCANNED', 'FILTERED', 'READ', 'ACCEPTED', 'QUARANTINED', 'DUPLICATES'],
    report.sources.map((s) => [
      s.name,
      String(s.scanned),
      String(s.filtered),
      String(s.read),
      String(s.accepted),
      String(s.quarantined),
      String(s.duplicates),
    ]),
  );
}

function showText(version: DatasetVersion): string {
  const profile = (version.profile ?? {}) as DatasetProfile;
  const columns = version.columns as { name: string; type: string }[];
  const report = version.report as IngestReport | null;
  const lines = [
    `version ${version.id}  dataset ${version.name}  created ${version.createdAt.toISOString().slice(0, 19).replace('T', ' ')}`,
    `content hash ${version.contentHash}`,
    `rows ${version.rowCount}  (${report ? accountingLine(report) : `read ${version.rowsRead}, quarantined ${version.quarantinedCount}, duplicates ${version.duplicateCount}`})`,
  ];
  if (report) lines.push(...reportTable(report).map((line) => `  ${line}`));
  lines.push('', 'columns');
  lines.push(
    ...table(
      ['NAME', 'TYPE', 'NULLS', 'PROFILE'],
      columns.map((c) => {
        const p = profile[c.name];
        return [
          c.name,
          c.type,
          p ? formatFraction(p.count + p.nulls ? p.nulls / (p.count + p.nulls) : 0) : '-',
          p ? describeColumn(p) : '(no profile)',
        ];
      }),
    ).map((line) => `  ${line}`),
  );
  return lines.join('\n');
}

function describeColumn(p: ColumnProfile): string {
  switch (p.type) {
    case 'number': {
      if (p.count === 0) return 'no values';
      const q = (at: number) => p.quantiles?.find((x) => x.q === at)?.value;
      const spark = p.histogram ? ` ${sparkline(p.histogram.counts)}` : '';
      return `min ${num(p.min)}  p25 ${num(q(0.25))}  median ${num(q(0.5))}  p75 ${num(q(0.75))}  max ${num(p.max)}  mean ${num(p.mean)}  std ${num(p.std)}${spark}${p.sampled ? `  (quantiles from ${p.sampled} sampled rows)` : ''}`;
    }
    case 'string':
      return `${p.distinct}${p.distinctCapped ? '+' : ''} distinct: ${p.top
        .slice(0, 5)
        .map((t) => `${t.value} ${t.count}`)
        .join(', ')}${p.distinct > 5 ? ', ...' : ''}`;
    case 'boolean':
      return `true ${p.trueCount}, false ${p.count - p.trueCount}`;
    case 'date':
    case 'datetime':
      return p.count ? `${p.min} … ${p.max}` : 'no values';
  }
}

function num(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

function sparkline(counts: number[]): string {
  const bars = '▁▂▃▄▅▆▇█';
  const max = Math.max(...counts);
  return counts.map((c) => (max === 0 ? bars[0] : bars[Math.min(7, Math.floor((c / max) * 7.999))])).join('');
}

/** A progress bar on stderr: overall share of the sources, and the running accounting. */
function progressBar() {
  const bar = new SingleBar(
    {
      format:
        '{bar} {percentage}% | {phase} {source} | {read} read: {accepted} ok, {quarantined} quarantined, {duplicates} dup | {rate} rec/s',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 24,
    },
    { barCompleteChar: '█', barIncompleteChar: '░', format: '' },
  );
  const started = performance.now();
  let running = false;
  return {
    update(p: IngestProgress) {
      const fraction = p.phase === 'reading' ? (p.sourceIndex + (p.sourceFraction ?? 0)) / Math.max(1, p.sources) : 1;
      const payload = {
        phase: p.phase,
        source: p.source,
        read: p.read,
        accepted: p.accepted,
        quarantined: p.quarantined,
        duplicates: p.duplicates,
        rate: Math.round(p.scanned / Math.max(0.001, (performance.now() - started) / 1000)),
      };
      if (!running) {
        bar.start(100, 0, payload);
        running = true;
      }
      bar.update(Math.round(fraction * 1000) / 10, payload);
    },
    stop() {
      if (running) bar.stop();
    },
  };
}
