import { z } from 'zod';

/**
 * How a dataset is declared: its sources, how each source's records map onto one canonical schema,
 * the row rules that schema carries, deduplication, and the dataset-level rules checked after
 * ingest. Pure zod (bundled into the workflow sandbox): the workflow, the CLI and the ingest code
 * validate with these same schemas. docs/data.md explains every field with examples.
 */

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD');

export const datasetNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be lowercase letters, digits, dots, dashes or underscores');

const columnNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a letter or _ followed by letters, digits or _ (at most 63)');

const sourceNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be letters, digits, dots, dashes or underscores');

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
export const columnSpecSchema = z
  .object({
    name: columnNameSchema,
    type: z.enum(columnTypes),
    /** A missing value (null) quarantines the row. Default false. */
    required: z.boolean().optional(),
    /** Inclusive bounds (number and integer columns). */
    min: z.number().optional(),
    max: z.number().optional(),
    /** Exclusive bounds (number and integer columns). */
    gt: z.number().optional(),
    lt: z.number().optional(),
    /** The allowed values of a string column (after the mapping's `values` translation). */
    enum: z.array(z.string().min(1)).min(1).optional(),
    /** A regular expression a string value must match (whole value: anchor it yourself). */
    pattern: z.string().refine(validRegex, 'must be a valid regular expression').optional(),
    /** How a pattern failure reads: "must be <patternDescription>". */
    patternDescription: z.string().min(1).optional(),
    description: z.string().optional(),
  })
  .superRefine((column, ctx) => {
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

const flagSchema = z
  .object({ gt: z.number(), gte: z.number(), lt: z.number(), lte: z.number(), eq: z.union([z.number(), z.string()]) })
  .partial()
  .refine((f) => Object.keys(f).length === 1, 'needs exactly one of gt, gte, lt, lte, eq');

export const fieldMappingObjectSchema = z
  .object({
    /** The source field (`address.city`; a key that is itself dotted: `["a.b"]`). */
    from: fieldPathSchema.optional(),
    /** Several fields in one string: `"{address.street}, {address.city}"`. */
    template: z.string().min(1).optional(),
    /** A constant value for every record of this source. */
    const: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** Source values meaning "missing" (compared after trimming strings), e.g. ["", "N/A"]. */
    nullIf: z.array(z.union([z.string(), z.number()])).optional(),
    /** Keep the first capture group of this regular expression: the city of "15 Star Thistle, Irvine, CA 92604" is `^[^,]+,\\s*([^,]+),`. */
    extract: z
      .string()
      .refine(validRegex, 'must be a valid regular expression')
      .refine((p) => validRegex(p) && new RegExp(`${p}|`).exec('')!.length > 1, 'needs a capture group ( )')
      .optional(),
    /** Read formatted numbers: "$130,000" with thousands ",", "1.200,5" with thousands "." and decimal ",". */
    number: z
      .object({ thousands: z.enum([',', '.', ' ', "'", '_']).optional(), decimal: z.enum(['.', ',']).optional() })
      .optional(),
    /** A quantity with a unit ("130 m2", "1,200 sqft"), converted to `to`; `default` for bare numbers. */
    unit: z.object({ to: z.enum(unitIds), default: z.enum(unitIds).optional() }).optional(),
    /** Dates in any of these formats (`YYYY-MM`, `YYYY MMM`, `MM/DD/YYYY`, `YYYY-MM-DDTHH:mm:ss`...). */
    date: z.object({ formats: z.array(z.string().min(1)).min(1) }).optional(),
    /** Take one part of a date or datetime value (weekday: 0 = Sunday). */
    part: z.enum(dateParts).optional(),
    /** Spellings of enum values: source spelling → canonical value (matched ignoring case, spaces, - and _). */
    values: z.record(z.string(), z.string()).optional(),
    /** Multiply a number by this. */
    scale: z.number().optional(),
    /** Round a number to this many decimals. */
    round: z.number().int().min(0).max(12).optional(),
    /** 1 when the number compares true, else 0 (e.g. delayed = delay > 15). */
    flag: flagSchema.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
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
export const fieldMappingSchema = z.union([z.string().min(1), z.null(), fieldMappingObjectSchema]).meta({ id: 'FieldMapping' });
export type FieldMapping = z.infer<typeof fieldMappingSchema>;
export type FieldMappingObject = z.infer<typeof fieldMappingObjectSchema>;

// ---------------------------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------------------------

/** Text encodings of file sources. UTF-16 files with a byte order mark are recognised by themselves. */
export const textEncodings = ['utf-8', 'utf-16le', 'utf-16be', 'latin1', 'windows-1252'] as const;

const sourceCommon = {
  /** Names the source in quarantine rows, reports and errors (default: the path or URL). */
  name: sourceNameSchema.optional(),
  /**
   * Canonical column → field mapping. A column not listed maps from the field of the same name;
   * map it to null when this source does not have it.
   */
  mapping: z.record(z.string(), fieldMappingSchema).optional(),
  /** Lower wins deduplication conflicts under `keep: "source-priority"` (default: position in `sources`). */
  priority: z.number().int().optional(),
};

/** A file path, or `vega-datasets:<file>` for a file of the vega-datasets package. */
const pathSchema = z.string().min(1);

export const csvSourceSchema = z
  .object({
    format: z.literal('csv'),
    path: pathSchema,
    encoding: z.enum(textEncodings).optional(),
    delimiter: z.string().length(1).optional(),
    /** Whether the first line names the fields (default true); otherwise `columns` does. */
    header: z.boolean().optional(),
    columns: z.array(z.string().min(1)).min(1).optional(),
    /** Field values read as missing (default [""]). */
    nullValues: z.array(z.string()).optional(),
    ...sourceCommon,
  })
  .strict()
  .refine((s) => s.header !== false || s.columns !== undefined, { message: 'a CSV source without a header needs columns', path: ['columns'] });

export const jsonSourceSchema = z
  .object({
    format: z.literal('json'),
    path: pathSchema,
    encoding: z.enum(textEncodings).optional(),
    /** Where the array of records is (`data.items`); default: the top level is the array. */
    recordsPath: z.string().min(1).optional(),
    ...sourceCommon,
  })
  .strict();

export const jsonlSourceSchema = z
  .object({ format: z.literal('jsonl'), path: pathSchema, encoding: z.enum(textEncodings).optional(), ...sourceCommon })
  .strict();

export const parquetSourceSchema = z.object({ format: z.literal('parquet'), path: pathSchema, ...sourceCommon }).strict();

export const postgresSourceSchema = z
  .object({
    format: z.literal('postgres'),
    /** One SELECT; `$1`.. placeholders take `params`. Rows stream through a cursor. */
    query: z.string().min(1),
    params: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
    /** The environment variable holding the connection URL (default DATABASE_URL): no secret in configs. */
    urlEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').optional(),
    /** Rows per cursor fetch (default 5000). */
    batchSize: z.number().int().min(1).max(1_000_000).optional(),
    ...sourceCommon,
  })
  .strict();

const paginationSchema = z.discriminatedUnion('type', [
  /** One request. */
  z.object({ type: z.literal('none') }).strict(),
  /** `?page=1`, `?page=2`, ... until a page has no records (or fewer than `size`). */
  z
    .object({
      type: z.literal('page'),
      param: z.string().min(1).default('page'),
      start: z.number().int().min(0).default(1),
      sizeParam: z.string().min(1).optional(),
      size: z.number().int().min(1).optional(),
    })
    .strict(),
  /** The response names the next cursor at `nextPath`; sent back as `param`; stops when absent. */
  z.object({ type: z.literal('cursor'), param: z.string().min(1), nextPath: z.string().min(1) }).strict(),
  /** The response holds the next page's URL (absolute or relative) at `nextPath`. */
  z.object({ type: z.literal('next-url'), nextPath: z.string().min(1) }).strict(),
]);

export const httpSourceSchema = z
  .object({
    format: z.literal('http'),
    url: z.url({ protocol: /^https?$/ }),
    /** Request headers; a value `{ "env": "NAME" }` is read from the environment (tokens stay out of configs). */
    headers: z.record(z.string(), z.union([z.string(), z.object({ env: z.string().min(1) }).strict()])).optional(),
    /** Where a page's array of records is (`data`); default: the body is the array. */
    recordsPath: z.string().min(1).optional(),
    pagination: paginationSchema.optional(),
    /** Per request, default 10000. */
    timeoutMs: z.number().int().min(1).max(600_000).optional(),
    /** Timeouts, network errors, 408, 429 and 5xx are retried with exponential backoff. */
    retries: z
      .object({
        attempts: z.number().int().min(1).max(20).default(4),
        initialDelayMs: z.number().int().min(0).default(500),
        maxDelayMs: z.number().int().min(0).default(10_000),
      })
      .strict()
      .optional(),
    /** Safety stop (default 100000 pages). */
    maxPages: z.number().int().min(1).optional(),
    ...sourceCommon,
  })
  .strict();

export const sourceSpecSchema = z.discriminatedUnion('format', [
  csvSourceSchema,
  jsonSourceSchema,
  jsonlSourceSchema,
  parquetSourceSchema,
  postgresSourceSchema,
  httpSourceSchema,
]);
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
      return source.url;
    default:
      return source.path;
  }
}

// ---------------------------------------------------------------------------------------------
// Deduplication and filtering
// ---------------------------------------------------------------------------------------------

export const keyNormalisations = ['exact', 'text', 'address'] as const;

export const dedupSpecSchema = z
  .object({
    /**
     * The columns identifying one entity. `text` (default) compares lower-cased, with punctuation
     * and repeated spaces removed; `address` also abbreviates street words (Street → st, ...).
     */
    key: z
      .array(z.union([columnNameSchema, z.object({ column: columnNameSchema, normalize: z.enum(keyNormalisations) }).strict()]))
      .min(1),
    /** Which record of a key survives: the best source priority, or the most recent `recency` value. */
    keep: z.enum(['source-priority', 'most-recent']),
    /** A date, datetime or number column; required by `most-recent`, a tie-breaker otherwise. */
    recency: columnNameSchema.optional(),
  })
  .strict()
  .refine((d) => d.keep !== 'most-recent' || d.recency !== undefined, { message: 'keep "most-recent" needs a recency column', path: ['recency'] });
export type DedupSpec = z.infer<typeof dedupSpecSchema>;

/** Keep rows whose column lies in [from, to); others are not part of the dataset (not counted as read). */
export const filterSpecSchema = z
  .object({
    column: columnNameSchema,
    from: z.union([z.string(), z.number()]).optional(),
    to: z.union([z.string(), z.number()]).optional(),
  })
  .strict()
  .refine((f) => f.from !== undefined || f.to !== undefined, 'needs from or to');
export type FilterSpec = z.infer<typeof filterSpecSchema>;

// ---------------------------------------------------------------------------------------------
// Dataset specs
// ---------------------------------------------------------------------------------------------

/** The built-in flights recipe (vega-datasets' flights-3m.parquet), kept for its short config. */
export const flightsDatasetSpecSchema = z
  .object({
    name: datasetNameSchema,
    recipe: z.literal('flights'),
    source: z.object({
      format: z.literal('parquet'),
      /** A file path, or `vega-datasets:<file>` for a file shipped by the vega-datasets package. */
      path: z.string().min(1),
    }),
    /** Keep records whose `date` lies in [from, to). */
    period: z.object({ from: isoDate, to: isoDate }).refine((p) => p.from < p.to, { message: 'from must be before to' }),
    /** Keep at most this many records (after the period filter), in source order. */
    limit: z.number().int().positive().optional(),
  });
export type FlightsDatasetSpec = z.infer<typeof flightsDatasetSpecSchema>;

/** Sources mapped onto declared columns (`"recipe": "mapping"` may be left out). */
export const mappedDatasetSpecSchema = z
  .object({
    name: datasetNameSchema,
    recipe: z.literal('mapping').default('mapping'),
    sources: z.array(sourceSpecSchema).min(1),
    columns: z.array(columnSpecSchema).min(1),
    dedup: dedupSpecSchema.optional(),
    filter: filterSpecSchema.optional(),
    /** Read at most this many records (after the filter), over all sources in order. */
    limit: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const columns = new Map<string, ColumnSpec>();
    spec.columns.forEach((column, i) => {
      if (columns.has(column.name)) ctx.addIssue({ code: 'custom', path: ['columns', i, 'name'], message: `duplicate column "${column.name}"` });
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
          ctx.addIssue({ code: 'custom', path: ['sources', i, 'mapping', column], message: `maps unknown column "${column}" (columns: ${known()})` });
        }
        if (mapping && typeof mapping === 'object' && mapping.part !== undefined && !['number', 'integer'].includes(columns.get(column)?.type ?? 'number')) {
          ctx.addIssue({ code: 'custom', path: ['sources', i, 'mapping', column, 'part'], message: 'a date part is a number: the column must be number or integer' });
        }
      }
    });
    const checkColumn = (column: string, path: (string | number)[], types?: string[]) => {
      const def = columns.get(column);
      if (!def) ctx.addIssue({ code: 'custom', path, message: `unknown column "${column}" (columns: ${known()})` });
      else if (types && !types.includes(def.type)) ctx.addIssue({ code: 'custom', path, message: `column "${column}" is ${def.type}, needs ${types.join(' or ')}` });
    };
    spec.dedup?.key.forEach((key, i) => checkColumn(typeof key === 'string' ? key : key.column, ['dedup', 'key', i]));
    if (spec.dedup?.recency) checkColumn(spec.dedup.recency, ['dedup', 'recency'], ['date', 'datetime', 'number', 'integer']);
    if (spec.filter) checkColumn(spec.filter.column, ['filter', 'column']);
  });
export type MappedDatasetSpec = z.infer<typeof mappedDatasetSpecSchema>;

/** A dataset: the flights recipe, or mapped sources. A spec without `recipe` is a mapping. */
export const datasetSpecSchema = z.discriminatedUnion('recipe', [flightsDatasetSpecSchema, mappedDatasetSpecSchema]);
export type DatasetSpec = z.infer<typeof datasetSpecSchema>;

// ---------------------------------------------------------------------------------------------
// Dataset rules (ExampleValidator)
// ---------------------------------------------------------------------------------------------

const fraction = z.number().min(0).max(1);

export const datasetRulesSchema = z
  .object({
    /** Fewer accepted rows than this fails the pipeline with a DataValidationError. */
    minRows: z.number().int().min(1).default(1),
    /** A column with a larger share of nulls fails the pipeline (default 1: no limit; features impute). */
    maxNullFraction: fraction.default(1),
    /** Per-column overrides of maxNullFraction. */
    maxNullFractionByColumn: z.record(z.string(), fraction).optional(),
    /** Column sets whose values must be unique over the rows: ["id"], [["city", "street"]]. */
    unique: z.array(z.union([z.string().min(1), z.array(z.string().min(1)).min(1)])).optional(),
    /** Against the previous version of the same dataset name (skipped for the first version). */
    maxChange: z
      .object({
        /** |rows - previous rows| / previous rows. */
        rowCount: z.number().min(0).optional(),
        /** |mean - previous mean| / previous std, per number column. */
        meanShift: z.number().min(0).optional(),
        /** |null fraction - previous null fraction|, per column. */
        nullFraction: fraction.optional(),
      })
      .strict()
      .optional(),
  });
export type DatasetRules = z.infer<typeof datasetRulesSchema>;
