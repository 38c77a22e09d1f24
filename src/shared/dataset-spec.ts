import { redactUrl } from './redact';
import { z } from 'zod';
import { boundedName } from './names';
import { strictObject } from './strict';

/**
 * How a dataset is declared: its sources, how each source's records map onto one canonical schema,
 * the row rules that schema carries, deduplication, and the dataset-level rules checked after
 * ingest. Pure zod (bundled into the workflow sandbox): the workflow, the CLI and the ingest code
 * validate with these same schemas. docs/data.md explains every field with examples.
 *
 * Over 300 lines on purpose: one zod schema for the whole dataset declaration, which the workflow,
 * the CLI and ingest all validate with.
 */

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD');

export const datasetNameSchema = boundedName(
  63,
  /^[a-z0-9][a-z0-9._-]*$/,
  'must be lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit',
).describe('Dataset versions are grouped under this name: lowercase letters, digits, dots, dashes or underscores, at most 63 characters.');

const columnNameSchema = boundedName(63, /^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a letter or _ followed by letters, digits or _');

const sourceNameSchema = boundedName(
  63,
  /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
  'must be letters, digits, dots, dashes or underscores, starting with a letter or digit',
);

// ---------------------------------------------------------------------------------------------
// Canonical columns and their row rules
// ---------------------------------------------------------------------------------------------

export const columnTypes = ['number', 'integer', 'string', 'boolean', 'date', 'datetime'] as const;
export type ColumnType = (typeof columnTypes)[number];

function validRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/**
 * One canonical column: its type (values are coerced to it, or the row is quarantined with the
 * reason) and its row rules (required, ranges, enum, pattern), turned into a zod schema per row.
 */
export const columnSpecSchema = strictObject({
  name: columnNameSchema.describe('The canonical column name: a letter or _, then letters, digits or _ (at most 63).'),
  type: z.enum(columnTypes).describe('Values are coerced to this type, or the row is quarantined with the reason.'),
  required: z.boolean().optional().describe('A missing value (null) quarantines the row. Default false.'),
  min: z.number().optional().describe('Inclusive lower bound (number and integer columns).'),
  max: z.number().optional().describe('Inclusive upper bound (number and integer columns).'),
  gt: z.number().optional().describe('Exclusive lower bound (number and integer columns).'),
  lt: z.number().optional().describe('Exclusive upper bound (number and integer columns).'),
  enum: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe("The allowed values of a string column (after the mapping's `values` translation)."),
  pattern: z
    .string()
    .refine(validRegex, 'must be a valid regular expression')
    .optional()
    .describe('A regular expression a string value must match (whole value: anchor it yourself).'),
  patternDescription: z.string().min(1).optional().describe('How a pattern failure reads: "must be <patternDescription>".'),
  description: z.string().optional().describe('What the column holds, for people.'),
}).superRefine((column, ctx) => {
  const numeric = column.type === 'number' || column.type === 'integer';
  for (const key of ['min', 'max', 'gt', 'lt'] as const) {
    if (column[key] !== undefined && !numeric) {
      ctx.addIssue({ code: 'custom', path: [key], message: `only number and integer columns have ${key} (this one is ${column.type})` });
    }
  }
  for (const key of ['enum', 'pattern'] as const) {
    if (column[key] !== undefined && column.type !== 'string') {
      ctx.addIssue({ code: 'custom', path: [key], message: `only string columns have ${key} (this one is ${column.type})` });
    }
  }
});
export type ColumnSpec = z.infer<typeof columnSpecSchema>;

// ---------------------------------------------------------------------------------------------
// Mapping: how one source field becomes one canonical value
// ---------------------------------------------------------------------------------------------

/** Canonical unit ids; `src/data/units.ts` knows their factors and spellings (ft², "sq ft", m²...). */
export const unitIds = ['sqft', 'm2', 'acre', 'ha', 'in', 'ft', 'yd', 'mi', 'mm', 'cm', 'm', 'km', 'g', 'kg', 'lb', 'oz'] as const;
export type UnitId = (typeof unitIds)[number];

export const dateParts = ['year', 'month', 'day', 'hour', 'minute', 'weekday'] as const;

/** A field of a source record: `address.city` (dots separate levels), or the levels as an array. */
const fieldPathSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const flagSchema = strictObject({
  gt: z.number().describe('1 when the value is greater than this.'),
  gte: z.number().describe('1 when the value is at least this.'),
  lt: z.number().describe('1 when the value is less than this.'),
  lte: z.number().describe('1 when the value is at most this.'),
  eq: z.union([z.number(), z.string()]).describe('1 when the value equals this.'),
})
  .partial()
  .refine((f) => Object.keys(f).length === 1, 'needs exactly one of gt, gte, lt, lte, eq');

export const fieldMappingObjectSchema = strictObject({
  from: fieldPathSchema.optional().describe('The source field (`address.city`; a key that is itself dotted: `["a.b"]`).'),
  template: z.string().min(1).optional().describe('Several fields in one string: `"{address.street}, {address.city}"`.'),
  const: z.union([z.string(), z.number(), z.boolean()]).optional().describe('A constant value for every record of this source.'),
  nullIf: z
    .array(z.union([z.string(), z.number()]))
    .optional()
    .describe('Source values meaning "missing" (compared after trimming strings), e.g. ["", "N/A"].'),
  extract: z
    .string()
    .refine(validRegex, 'must be a valid regular expression')
    .refine((p) => validRegex(p) && new RegExp(`${p}|`).exec('')!.length > 1, 'needs a capture group ( )')
    .optional()
    .describe(
      'Keep the first capture group of this regular expression: the city of "15 Star Thistle, Irvine, CA 92604" is `^[^,]+,\\\\s*([^,]+),`.',
    ),
  number: strictObject({
    thousands: z.enum([',', '.', ' ', "'", '_']).optional().describe('The thousands separator, dropped.'),
    decimal: z.enum(['.', ',']).optional().describe('The decimal separator (default ".").'),
  })
    .optional()
    .describe('Read formatted numbers: "$130,000" with thousands ",", "1.200,5" with thousands "." and decimal ",".'),
  unit: strictObject({
    to: z.enum(unitIds).describe('The unit values are converted to.'),
    default: z.enum(unitIds).optional().describe('The unit of a number written without one.'),
  })
    .optional()
    .describe('A quantity with a unit ("130 m2", "1,200 sqft"), converted to `to`; `default` for bare numbers.'),
  date: strictObject({ formats: z.array(z.string().min(1)).min(1).describe('The formats tried, in order.') })
    .optional()
    .describe('Dates in any of these formats (`YYYY-MM`, `YYYY MMM`, `MM/DD/YYYY`, `YYYY-MM-DDTHH:mm:ss`...).'),
  part: z.enum(dateParts).optional().describe('Take one part of a date or datetime value (weekday: 0 = Sunday).'),
  values: z
    .record(z.string(), z.string())
    .optional()
    .describe('Spellings of enum values: source spelling → canonical value (matched ignoring case, spaces, - and _).'),
  scale: z.number().optional().describe('Multiply a number by this.'),
  round: z.number().int().min(0).max(12).optional().describe('Round a number to this many decimals.'),
  flag: flagSchema.optional().describe('1 when the number compares true, else 0 (e.g. delayed = delay > 15).'),
}).superRefine((m, ctx) => {
  const origins = (['from', 'template', 'const'] as const).filter((key) => m[key] !== undefined);
  if (origins.length !== 1) {
    ctx.addIssue({ code: 'custom', message: `needs exactly one of from, template, const (got ${origins.join(', ') || 'none'})` });
  }
  const parsers = (['number', 'unit', 'date'] as const).filter((key) => m[key] !== undefined);
  if (parsers.length > 1) ctx.addIssue({ code: 'custom', message: `number, unit and date exclude each other (got ${parsers.join(', ')})` });
});

/**
 * A canonical column's value in one source: a field path (string), null (this source does not
 * provide the column), or a mapping object with transforms.
 */
export const fieldMappingSchema = z.union([z.string().min(1), z.null(), fieldMappingObjectSchema]).meta({
  id: 'FieldMapping',
  description:
    "The column's value in this source: a field path (`address.city`), null (this source does not have it), or an object that reads one field (or a template or constant) and transforms it.",
});
export type FieldMapping = z.infer<typeof fieldMappingSchema>;
export type FieldMappingObject = z.infer<typeof fieldMappingObjectSchema>;

// ---------------------------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------------------------

/** Text encodings of file sources. UTF-16 files with a byte order mark are recognised by themselves. */
export const textEncodings = ['utf-8', 'utf-16le', 'utf-16be', 'latin1', 'windows-1252'] as const;

const sourceCommon = {
  name: sourceNameSchema.optional().describe('Names the source in quarantine rows, reports and errors (default: the path or URL).'),
  mapping: z
    .record(z.string(), fieldMappingSchema)
    .optional()
    .describe(
      'Canonical column → field mapping. A column not listed maps from the field of the same name; map it to null when this source does not have it.',
    ),
  priority: z
    .number()
    .int()
    .optional()
    .describe('Lower wins deduplication conflicts under `keep: "source-priority"` (default: position in `sources`).'),
};

const pathSchema = z
  .string()
  .min(1)
  .describe('A file path (relative to the config file), or `vega-datasets:<file>` for a file of the vega-datasets package.');
const encodingSchema = z
  .enum(textEncodings)
  .describe('Text encoding (default utf-8; UTF-16 files with a byte order mark are recognised by themselves).');

export const csvSourceSchema = strictObject({
  format: z.literal('csv'),
  path: pathSchema,
  encoding: encodingSchema.optional(),
  delimiter: z.string().length(1).optional().describe('Field separator (default ",").'),
  header: z.boolean().optional().describe('Whether the first line names the fields (default true); otherwise `columns` does.'),
  columns: z.array(z.string().min(1)).min(1).optional().describe('Field names, in order, for a file without a header line.'),
  nullValues: z.array(z.string()).optional().describe('Field values read as missing (default [""]).'),
  ...sourceCommon,
})
  .refine((s) => s.header !== false || s.columns !== undefined, {
    message: 'a CSV source without a header needs columns',
    path: ['columns'],
  })
  .describe('a CSV file');

export const jsonSourceSchema = strictObject({
  format: z.literal('json'),
  path: pathSchema,
  encoding: encodingSchema.optional(),
  recordsPath: z.string().min(1).optional().describe('Where the array of records is (`data.items`); default: the top level is the array.'),
  ...sourceCommon,
}).describe('a JSON file holding an array of records');

export const jsonlSourceSchema = strictObject({
  format: z.literal('jsonl'),
  path: pathSchema,
  encoding: encodingSchema.optional(),
  ...sourceCommon,
}).describe('a file of one JSON record per line');

export const parquetSourceSchema = strictObject({ format: z.literal('parquet'), path: pathSchema, ...sourceCommon }).describe(
  'a Parquet file (snappy, gzip, zstd, brotli, lz4)',
);

export const postgresSourceSchema = strictObject({
  format: z.literal('postgres'),
  query: z.string().min(1).describe('One SELECT; `$1`.. placeholders take `params`. Rows stream through a cursor.'),
  params: z
    .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
    .optional()
    .describe('Values of the `$1`.. placeholders.'),
  connection: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/, 'must be a connection alias (lowercase letters, digits, _ and -)')
    .optional()
    .describe(
      "The operator's name for the database (an alias of KEEL_POSTGRES_SOURCES on the worker, e.g. `warehouse`); the URL stays in the worker's environment (docs/security.md).",
    ),
  urlEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name')
    .optional()
    .describe(
      'Deprecated, use `connection`: the environment variable holding the connection URL; a worker accepts it only when a KEEL_POSTGRES_SOURCES alias names that variable.',
    ),
  batchSize: z.number().int().min(1).max(1_000_000).optional().describe('Rows per cursor fetch (default 5000).'),
  ...sourceCommon,
}).describe('a PostgreSQL query');

const paginationSchema = z
  .discriminatedUnion('type', [
    strictObject({ type: z.literal('none') }).describe('one request'),
    strictObject({
      type: z.literal('page'),
      param: z.string().min(1).default('page').describe('The query parameter carrying the page number.'),
      start: z.number().int().min(0).default(1).describe('The first page number.'),
      sizeParam: z.string().min(1).optional().describe('The query parameter carrying the page size, if the API takes one.'),
      size: z.number().int().min(1).optional().describe('Records per page; a shorter page is the last.'),
    }).describe('`?page=1`, `?page=2`, ... until a page has no records (or fewer than `size`)'),
    strictObject({
      type: z.literal('cursor'),
      param: z.string().min(1).describe('The query parameter the cursor is sent back in.'),
      nextPath: z.string().min(1).describe("Where the response holds the next cursor (or the next page's URL)."),
    }).describe('the response names the next cursor at `nextPath`, sent back as `param`; stops when absent'),
    strictObject({
      type: z.literal('next-url'),
      nextPath: z.string().min(1).describe("Where the response holds the next cursor (or the next page's URL)."),
    }).describe("the response holds the next page's URL (absolute or relative) at `nextPath`"),
  ])
  .describe('How to fetch further pages (default: one request).');

export const httpSourceSchema = strictObject({
  format: z.literal('http'),
  url: z.url({ protocol: /^https?$/ }).describe('The http(s) URL of the first page.'),
  headers: z
    .record(
      z.string(),
      z
        .union([z.string(), strictObject({ env: z.string().min(1).describe('The environment variable holding the value.') })])
        .describe('The header value, or where to read it from.'),
    )
    .optional()
    .describe('Request headers; a value `{ "env": "NAME" }` is read from the environment (tokens stay out of configs).'),
  recordsPath: z.string().min(1).optional().describe("Where a page's array of records is (`data`); default: the body is the array."),
  pagination: paginationSchema.optional(),
  timeoutMs: z.number().int().min(1).max(600_000).optional().describe('Per request, default 10000.'),
  retries: strictObject({
    attempts: z.number().int().min(1).max(20).default(4).describe('Requests in all, the first included.'),
    initialDelayMs: z.number().int().min(0).default(500).describe('Wait before the first retry; it doubles with each retry.'),
    maxDelayMs: z.number().int().min(0).default(10_000).describe('The longest wait between retries.'),
  })
    .optional()
    .describe('Timeouts, network errors, 408, 429 and 5xx are retried with exponential backoff.'),
  maxPages: z.number().int().min(1).optional().describe('Safety stop (default 100000 pages).'),
  ...sourceCommon,
}).describe('an HTTP JSON API, paged');

export const sourceSpecSchema = z
  .discriminatedUnion('format', [
    csvSourceSchema,
    jsonSourceSchema,
    jsonlSourceSchema,
    parquetSourceSchema,
    postgresSourceSchema,
    httpSourceSchema,
  ])
  .describe('Where records come from and how their fields map onto the columns (docs/data.md).');
export type SourceSpec = z.infer<typeof sourceSpecSchema>;
export type CsvSourceSpec = z.infer<typeof csvSourceSchema>;
export type JsonSourceSpec = z.infer<typeof jsonSourceSchema>;
export type JsonlSourceSpec = z.infer<typeof jsonlSourceSchema>;
export type ParquetSourceSpec = z.infer<typeof parquetSourceSchema>;
export type PostgresSourceSpec = z.infer<typeof postgresSourceSchema>;
export type HttpSourceSpec = z.infer<typeof httpSourceSchema>;

/** The name a source goes by: its own, or its path / URL. */
export function sourceName(source: SourceSpec): string {
  if (source.name) return source.name;
  switch (source.format) {
    case 'postgres':
      return 'postgres';
    case 'http':
      // The name lands in messages, reports and quarantine rows: no credentials of the URL.
      return redactUrl(source.url);
    default:
      return source.path;
  }
}

// ---------------------------------------------------------------------------------------------
// Deduplication and filtering
// ---------------------------------------------------------------------------------------------

export const keyNormalisations = ['exact', 'text', 'address'] as const;

export const dedupSpecSchema = strictObject({
  key: z
    .array(
      z.union([
        columnNameSchema,
        strictObject({
          column: columnNameSchema.describe('A key column.'),
          normalize: z.enum(keyNormalisations).describe('How its values are compared.'),
        }),
      ]),
    )
    .min(1)
    .describe(
      'The columns identifying one entity. `text` (default) compares lower-cased, with punctuation and repeated spaces removed; `address` also abbreviates street words (Street → st, ...).',
    ),
  keep: z
    .enum(['source-priority', 'most-recent'])
    .describe('Which record of a key survives: the best source priority, or the most recent `recency` value.'),
  recency: columnNameSchema.optional().describe('A date, datetime or number column; required by `most-recent`, a tie-breaker otherwise.'),
})
  .refine((d) => d.keep !== 'most-recent' || d.recency !== undefined, {
    message: 'keep "most-recent" needs a recency column',
    path: ['recency'],
  })
  .describe('Deduplication: records with the same key are one entity, and one of them survives.');
export type DedupSpec = z.infer<typeof dedupSpecSchema>;

/** Keep rows whose column lies in [from, to); others are not part of the dataset (not counted as read). */
export const filterSpecSchema = strictObject({
  column: columnNameSchema.describe('The column compared.'),
  from: z.union([z.string(), z.number()]).optional().describe('Lowest value kept (inclusive).'),
  to: z.union([z.string(), z.number()]).optional().describe('Values from this one on are left out (exclusive).'),
})
  .refine((f) => f.from !== undefined || f.to !== undefined, 'needs from or to')
  .describe('Keep rows whose column lies in [from, to); others are not part of the dataset (not counted as read).');
export type FilterSpec = z.infer<typeof filterSpecSchema>;

// ---------------------------------------------------------------------------------------------
// Dataset specs
// ---------------------------------------------------------------------------------------------

/** The built-in flights recipe (vega-datasets' flights-3m.parquet), kept for its short config. */
export const flightsDatasetSpecSchema = strictObject({
  name: datasetNameSchema,
  recipe: z.literal('flights'),
  source: strictObject({
    format: z.literal('parquet').describe('The source format.'),
    path: z.string().min(1).describe('A file path, or `vega-datasets:<file>` for a file shipped by the vega-datasets package.'),
  }).describe("The flights file (vega-datasets' flights-3m.parquet or one of its shape)."),
  period: strictObject({
    from: isoDate.describe('The first day kept, YYYY-MM-DD.'),
    to: isoDate.describe('The first day left out, YYYY-MM-DD.'),
  })
    .refine((p) => p.from < p.to, { message: 'from must be before to' })
    .describe('Keep records whose `date` lies in [from, to).'),
  limit: z.number().int().positive().optional().describe('Keep at most this many records (after the period filter), in source order.'),
}).describe("the built-in flights recipe (vega-datasets' flights-3m.parquet), kept for its short config");
export type FlightsDatasetSpec = z.infer<typeof flightsDatasetSpecSchema>;

/** Sources mapped onto declared columns (`"recipe": "mapping"` may be left out). */
export const mappedDatasetSpecSchema = strictObject({
  name: datasetNameSchema,
  recipe: z.literal('mapping').default('mapping'),
  sources: z.array(sourceSpecSchema).min(1).describe('The sources, read in order.'),
  columns: z
    .array(columnSpecSchema)
    .min(1)
    .describe(
      'The canonical columns every source maps onto, with their types and row rules; a row that breaks one is quarantined with the reason.',
    ),
  dedup: dedupSpecSchema.optional(),
  filter: filterSpecSchema.optional(),
  limit: z.number().int().positive().optional().describe('Read at most this many records (after the filter), over all sources in order.'),
})
  .superRefine((spec, ctx) => {
    const columns = new Map<string, ColumnSpec>();
    spec.columns.forEach((column, i) => {
      if (columns.has(column.name))
        ctx.addIssue({ code: 'custom', path: ['columns', i, 'name'], message: `duplicate column "${column.name}"` });
      columns.set(column.name, column);
    });
    const known = () => [...columns.keys()].join(', ');
    const names = new Set<string>();
    spec.sources.forEach((source, i) => {
      const name = sourceName(source);
      if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name "${name}"` });
      names.add(name);
      for (const [column, mapping] of Object.entries(source.mapping ?? {})) {
        if (!columns.has(column)) {
          ctx.addIssue({
            code: 'custom',
            path: ['sources', i, 'mapping', column],
            message: `maps unknown column "${column}" (columns: ${known()})`,
          });
        }
        if (
          mapping &&
          typeof mapping === 'object' &&
          mapping.part !== undefined &&
          !['number', 'integer'].includes(columns.get(column)?.type ?? 'number')
        ) {
          ctx.addIssue({
            code: 'custom',
            path: ['sources', i, 'mapping', column, 'part'],
            message: 'a date part is a number: the column must be number or integer',
          });
        }
      }
    });
    const checkColumn = (column: string, path: (string | number)[], types?: string[]) => {
      const def = columns.get(column);
      if (!def) ctx.addIssue({ code: 'custom', path, message: `unknown column "${column}" (columns: ${known()})` });
      else if (types && !types.includes(def.type))
        ctx.addIssue({ code: 'custom', path, message: `column "${column}" is ${def.type}, needs ${types.join(' or ')}` });
    };
    spec.dedup?.key.forEach((key, i) => checkColumn(typeof key === 'string' ? key : key.column, ['dedup', 'key', i]));
    if (spec.dedup?.recency) checkColumn(spec.dedup.recency, ['dedup', 'recency'], ['date', 'datetime', 'number', 'integer']);
    if (spec.filter) checkColumn(spec.filter.column, ['filter', 'column']);
  })
  .describe('sources mapped onto declared columns (the default: `recipe` may be left out)');
export type MappedDatasetSpec = z.infer<typeof mappedDatasetSpecSchema>;

/** A dataset: the flights recipe, or mapped sources. A spec without `recipe` is a mapping. */
export const datasetSpecSchema = z
  .discriminatedUnion('recipe', [flightsDatasetSpecSchema, mappedDatasetSpecSchema])
  .describe(
    'What the model learns from: sources mapped onto declared columns, or the flights recipe. Each ingest with new content is a new dataset version (docs/data.md).',
  );
export type DatasetSpec = z.infer<typeof datasetSpecSchema>;

// ---------------------------------------------------------------------------------------------
// Dataset rules (ExampleValidator)
// ---------------------------------------------------------------------------------------------

const fraction = z.number().min(0).max(1);

export const datasetRulesSchema = strictObject({
  minRows: z.number().int().min(1).default(1).describe('Fewer accepted rows than this fails the pipeline (default 1: not empty).'),
  maxNullFraction: fraction
    .default(1)
    .describe('A column with a larger share of nulls fails the pipeline (default 1: no limit; features impute).'),
  maxNullFractionByColumn: z.record(z.string(), fraction).optional().describe('Per-column overrides of maxNullFraction.'),
  unique: z
    .array(z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]))
    .optional()
    .describe('Column sets whose values must be unique over the rows: ["id"], [["city", "street"]].'),
  maxChange: strictObject({
    rowCount: z.number().min(0).optional().describe('Largest |rows − previous rows| / previous rows.'),
    meanShift: z.number().min(0).optional().describe('Largest |mean − previous mean| / previous std, per number column.'),
    nullFraction: fraction.optional().describe('Largest |null fraction − previous null fraction|, per column.'),
  })
    .optional()
    .describe('Against the previous version of the same dataset name (skipped for the first version).'),
}).describe(
  'Checks on the accepted rows of a dataset version (the ExampleValidator): a version that fails one fails the pipeline with a DataValidationError naming the rule and the value found.',
);
export type DatasetRules = z.infer<typeof datasetRulesSchema>;
