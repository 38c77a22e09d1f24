import type { ColumnSpec, FieldMapping, FieldMappingObject, FilterSpec, UnitId } from '../shared/dataset-spec';
import { enumToken } from '../shared/category-spellings';
import { InvalidInputError } from '../shared/errors';
import type { Row } from './columns';
import { compileDateFormat, datePart, isoDateOf, naiveIso, parseDateWithFormats, parseIsoDate } from './dates';
import { compileRowRules, type RowRules } from './row-rules';
import { convertUnit, findUnit, units } from './units';

/**
 * Mapping: how a record of one source becomes a canonical row. Each canonical column takes a
 * value from the record (a field path, a template over several fields, or a constant), runs it
 * through the configured transforms (missing-value spellings, number formats, units, date formats,
 * date parts, enum spellings, scale, round, flag) and is coerced to the column's type. Coercion
 * never guesses: a value that cannot become the type is a reason to quarantine the record, named
 * with the column, the source field and the value. The row rules (zod) run on the result.
 *
 * Everything is compiled once per source, so a record costs a few closures per column.
 *
 * Over 300 lines on purpose: compiling a column's source, transforms and coercion is one pipeline
 * per record, and its error messages name all three.
 */

/** What became of one record. */
type MapOutcome =
  | { kind: 'row'; row: Row }
  /** The filter column's value lies outside the filter: not part of this dataset, not counted. */
  | { kind: 'outside' }
  | { kind: 'invalid'; reasons: string[] };

/** A failed step; carries the message. A class (not an exception) keeps the hot path cheap. */
class Failure {
  constructor(readonly message: string) {}
}

type Step = (value: unknown) => unknown;

interface CompiledColumn {
  name: string;
  /** The source field(s) it reads, for messages ("price", "{address.street}, ..."). */
  label: string;
  /** Field paths read, for checking the mapping against the source's fields. */
  paths: string[][];
  read: (record: Record<string, unknown>) => unknown;
  steps: Step[];
  /** Whether any record so far had a value at each path (for sources without a declared schema). */
  seen: boolean[];
}

export interface SourceMapper {
  map(record: Record<string, unknown>): MapOutcome;
  /** Throws when a mapped field is not among the source's declared fields. */
  checkFields(fields: string[], where: string): void;
  /** Fields mapped but never present in any record read so far (for schemaless sources). */
  unseenFields(): { column: string; field: string }[];
  /**
   * For row-group pruning: the canonical filter value of a raw field value, when the filter
   * column reads one top-level field without transforms (a monotonic identity); else undefined.
   */
  filterField?: { field: string; canonical(value: unknown): unknown; outside(min: unknown, max: unknown): boolean };
}

export interface MapperOptions {
  columns: readonly ColumnSpec[];
  mapping: Record<string, FieldMapping> | undefined;
  filter?: FilterSpec;
  rules?: RowRules;
}

/** Compiles the mapping of one source. Mapping errors (a bad date format) are InvalidInputErrors. */
export function compileMapper(options: MapperOptions, sourceLabel: string): SourceMapper {
  const rules = options.rules ?? compileRowRules(options.columns);
  const compiled = options.columns.map((column) => {
    const mapping = options.mapping && column.name in options.mapping ? options.mapping[column.name]! : column.name;
    try {
      return compileColumn(column, mapping);
    } catch (error) {
      throw new InvalidInputError(
        `source "${sourceLabel}": the mapping of column "${column.name}" is invalid: ${(error as Error).message}`,
      );
    }
  });
  const filter = options.filter;
  const filterIndex = filter ? compiled.findIndex((c) => c.name === filter.column) : -1;
  const inFilter = filter ? (value: unknown) => value === null || inRange(value, filter) : () => true;
  const names = compiled.map((c) => c.name);
  const count = compiled.length;

  /** The fast path: no allocation beyond the row; a record that fails is explained by `explain`. */
  function map(record: Record<string, unknown>): MapOutcome {
    // The filter column first: a record outside the filter is not part of the dataset, whatever
    // else is wrong with it; one whose filter value cannot be read is validated (and quarantined).
    let filterValue: unknown;
    if (filterIndex >= 0) {
      filterValue = mapColumn(compiled[filterIndex], record);
      if (!(filterValue instanceof Failure) && !inFilter(filterValue)) return OUTSIDE;
    }
    let failed = false;
    const row: Row = {};
    for (let i = 0; i < count; i++) {
      const value = i === filterIndex ? filterValue : mapColumn(compiled[i], record);
      if (value instanceof Failure) {
        failed = true;
        row[names[i]] = null;
      } else {
        row[names[i]] = value as Row[string];
      }
    }
    if (!failed && rules.check(row) === undefined) return { kind: 'row', row };
    return { kind: 'invalid', reasons: explain(record) };
  }

  /** Every reason a record fails, in column order, each naming the column, the source field and the value. */
  function explain(record: Record<string, unknown>): string[] {
    const raws: unknown[] = new Array(count);
    let failures: { index: number; reason: string }[] | undefined;
    let failedLabels: Set<string> | undefined;
    const row: Row = {};
    for (let i = 0; i < count; i++) {
      const column = compiled[i];
      raws[i] = column.read(record);
      const value = mapColumn(column, record);
      if (value instanceof Failure) {
        // One reason per bad source field: hour and weekday read from a bad date add nothing.
        if (!failedLabels?.has(column.label)) {
          (failures ??= []).push({
            index: i,
            reason: `${column.name}: ${value.message} (got ${formatValue(raws[i])}${fromLabel(column)})`,
          });
          if (column.label !== '') (failedLabels ??= new Set()).add(column.label);
        }
        row[names[i]] = null;
      } else {
        row[names[i]] = value as Row[string];
      }
    }
    for (const { column, message } of rules.check(row) ?? []) {
      const i = names.indexOf(column);
      const label = compiled[i].label;
      // A null from a source field already reported (a failed mapping, or a missing address
      // that city and state are extracted from too) adds nothing.
      if (row[column] === null && (failures?.some((f) => f.index === i) || failedLabels?.has(label))) continue;
      (failures ??= []).push({ index: i, reason: `${column}: ${message} (got ${formatValue(raws[i])}${fromLabel(compiled[i])})` });
      if (row[column] === null && label !== '') (failedLabels ??= new Set()).add(label);
    }
    return (failures ?? []).sort((a, b) => a.index - b.index).map((f) => f.reason);
  }

  const filterColumn = filterIndex >= 0 ? compiled[filterIndex] : undefined;
  const filterMapping = filter && options.mapping && filter.column in options.mapping ? options.mapping[filter.column] : filter?.column;
  const identity =
    typeof filterMapping === 'string' ||
    (filterMapping !== null &&
      typeof filterMapping === 'object' &&
      Object.keys(filterMapping).length === 1 &&
      filterMapping.from !== undefined);
  let filterField: SourceMapper['filterField'];
  if (filter && filterColumn && identity && filterColumn.paths.length === 1 && filterColumn.paths[0].length === 1) {
    const canonical = (value: unknown) => {
      let v: unknown = value;
      for (const step of filterColumn.steps) {
        v = step(v);
        if (v instanceof Failure) return undefined;
      }
      return v;
    };
    filterField = {
      field: filterColumn.paths[0][0],
      canonical,
      outside(min, max) {
        const lo = canonical(min);
        const hi = canonical(max);
        if (lo === undefined || lo === null || hi === undefined || hi === null) return false;
        if (filter.to !== undefined && compare(lo, filter.to) >= 0) return true;
        if (filter.from !== undefined && compare(hi, filter.from) < 0) return true;
        return false;
      },
    };
  }

  return {
    map,
    filterField,
    checkFields(fields, where) {
      const known = new Set(fields);
      for (const column of compiled) {
        for (const path of column.paths) {
          if (!known.has(path[0]) && !known.has(path.join('.'))) {
            throw new InvalidInputError(
              `${where}: the mapping of column "${column.name}" reads field "${path.join('.')}", which the source does not have ` +
                `(its fields: ${fields.join(', ')}); map the column to another field, or to null if this source lacks it`,
            );
          }
        }
      }
    },
    unseenFields() {
      const unseen: { column: string; field: string }[] = [];
      for (const column of compiled) {
        column.paths.forEach((path, i) => {
          if (!column.seen[i]) unseen.push({ column: column.name, field: path.join('.') });
        });
      }
      return unseen;
    },
  };
}

function fromLabel(column: CompiledColumn): string {
  return column.label === column.name || column.label === '' ? '' : ` from ${column.label}`;
}

const OUTSIDE: MapOutcome = Object.freeze({ kind: 'outside' });

function mapColumn(column: CompiledColumn, record: Record<string, unknown>): unknown {
  let value = column.read(record);
  if (value instanceof Failure) return value;
  const steps = column.steps;
  for (let s = 0; s < steps.length; s++) {
    value = steps[s](value);
    if (value instanceof Failure) return value;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Reading fields
// ---------------------------------------------------------------------------------------------

function splitPath(path: string | string[]): string[] {
  return Array.isArray(path) ? path : path.split('.');
}

/** A reader for one path: a flat key named like the whole path wins (CSV headers such as "a.b"). */
function pathReader(path: string[], seen: boolean[], index: number): (record: Record<string, unknown>) => unknown {
  if (path.length === 1) {
    const key = path[0];
    return (record) => {
      const value = record[key];
      if (value !== undefined) seen[index] = true;
      return value;
    };
  }
  const joined = path.join('.');
  return (record) => {
    let value: unknown = record[joined];
    if (value === undefined) {
      value = record;
      for (const key of path) {
        if (value === null || typeof value !== 'object') {
          value = undefined;
          break;
        }
        value = (value as Record<string, unknown>)[key];
      }
    }
    if (value !== undefined) seen[index] = true;
    return value;
  };
}

const TEMPLATE_FIELD = /\{([^{}]+)\}/g;

function compileColumn(column: ColumnSpec, mapping: FieldMapping): CompiledColumn {
  if (mapping === null) {
    return { name: column.name, label: '', paths: [], read: () => null, steps: [coerceStep(column)], seen: [] };
  }
  const m: FieldMappingObject = typeof mapping === 'string' ? { from: mapping } : mapping;
  const seen: boolean[] = [];
  let read: CompiledColumn['read'];
  let label: string;
  let paths: string[][];
  if (m.from !== undefined) {
    const path = splitPath(m.from);
    paths = [path];
    label = path.join('.');
    read = pathReader(path, seen, 0);
  } else if (m.template !== undefined) {
    const template = m.template;
    const parts: (string | ((record: Record<string, unknown>) => unknown))[] = [];
    paths = [];
    let last = 0;
    for (const match of template.matchAll(TEMPLATE_FIELD)) {
      parts.push(template.slice(last, match.index));
      const path = splitPath(match[1].trim());
      parts.push(pathReader(path, seen, paths.length));
      paths.push(path);
      last = match.index + match[0].length;
    }
    parts.push(template.slice(last));
    if (paths.length === 0) throw new Error(`template ${JSON.stringify(template)} names no {field}`);
    label = template;
    read = (record) => {
      let text = '';
      for (const part of parts) {
        if (typeof part === 'string') text += part;
        else {
          const value = part(record);
          if (value === null || value === undefined || value === '') return null;
          if (typeof value === 'object') return new Failure('a template field holds an object, not text');
          text += String(value).trim();
        }
      }
      return text;
    };
  } else {
    const constant = m.const;
    paths = [];
    label = '';
    read = () => constant;
  }
  seen.length = paths.length;
  seen.fill(false);
  return { name: column.name, label, paths, read, steps: [...transformSteps(m, column), coerceStep(column, m)], seen };
}

// ---------------------------------------------------------------------------------------------
// Transforms
// ---------------------------------------------------------------------------------------------

function transformSteps(m: FieldMappingObject, column: ColumnSpec): Step[] {
  const steps: Step[] = [];
  if (m.nullIf) {
    const nulls = new Set(m.nullIf.map((v) => (typeof v === 'string' ? v.trim() : v)));
    steps.push((value) => (nulls.has(typeof value === 'string' ? value.trim() : (value as number)) ? null : value));
  }
  if (m.extract !== undefined) {
    const pattern = new RegExp(m.extract);
    steps.push((value) => {
      if (value === null || value === undefined) return value;
      const match = pattern.exec(String(value));
      if (!match) return new Failure(`does not match /${m.extract}/`);
      return match[1] ?? null;
    });
  }
  if (m.number) {
    const parse = numberParser(m.number.thousands, m.number.decimal ?? '.');
    steps.push((value) => (typeof value === 'string' ? parse(value) : value));
  }
  if (m.unit) {
    const { to, default: fallback } = m.unit;
    steps.push((value) => readQuantity(value, to, fallback));
  }
  if (m.date) {
    const formats = m.date.formats.map(compileDateFormat);
    steps.push((value) => {
      if (value === null || value === undefined || value instanceof Date) return value;
      if (typeof value !== 'string') return new Failure(`expected a date as text, got ${typeof value}`);
      const date = parseDateWithFormats(value, formats);
      return typeof date === 'string' ? new Failure(date) : date;
    });
  }
  if (m.part) {
    const part = m.part;
    steps.push((value) => {
      if (value === null || value === undefined) return value;
      const date = toDate(value);
      return date instanceof Failure ? date : datePart(date, part);
    });
  }
  if (m.values || column.enum) {
    const table = new Map<string, string>();
    for (const canonical of column.enum ?? []) table.set(enumToken(canonical), canonical);
    for (const [spelling, canonical] of Object.entries(m.values ?? {})) table.set(enumToken(spelling), canonical);
    steps.push((value) => {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return value;
      return table.get(enumToken(String(value))) ?? value;
    });
  }
  if (m.scale !== undefined || m.round !== undefined) {
    const scale = m.scale ?? 1;
    const factor = m.round !== undefined ? 10 ** m.round : undefined;
    steps.push((value) => {
      if (value === null || value === undefined) return value;
      const n = toNumber(value);
      if (n instanceof Failure) return n;
      const scaled = n * scale;
      return factor === undefined ? scaled : Math.round(scaled * factor) / factor;
    });
  }
  if (m.flag) {
    const [op, operand] = Object.entries(m.flag)[0];
    steps.push((value) => {
      if (value === null || value === undefined) return value;
      if (op === 'eq') return String(value) === String(operand) ? 1 : 0;
      const n = toNumber(value);
      if (n instanceof Failure) return n;
      const b = operand as number;
      return (op === 'gt' ? n > b : op === 'gte' ? n >= b : op === 'lt' ? n < b : n <= b) ? 1 : 0;
    });
  }
  return steps;
}

// Serving applies the same tokens (src/shared/category-spellings.ts, and the ONNX graph).
const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function numberParser(thousands: string | undefined, decimal: string): (text: string) => number | Failure {
  return (text) => {
    let t = text.trim().replace(/^[$€£¥]\s*|\s*[$€£¥]$/g, '');
    if (thousands) t = t.split(thousands).join('');
    if (decimal === ',') t = t.replace(',', '.');
    if (!PLAIN_NUMBER.test(t)) return new Failure('must be a number');
    return Number(t);
  };
}

const QUANTITY = /^([+-]?[\d.,' _]*\d[\d.,' _]*)\s*(.*)$/;

function readQuantity(value: unknown, to: UnitId, fallback: UnitId | undefined): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (!fallback) return new Failure(`a bare number has no unit; set unit.default or write the unit (e.g. "${String(value)} ${to}")`);
    return convertUnit(Number(value), fallback, to);
  }
  if (typeof value !== 'string') return new Failure(`expected a quantity such as "130 ${to}", got ${typeof value}`);
  const match = QUANTITY.exec(value.trim());
  if (!match) return new Failure(`cannot read a quantity such as "130 ${to}" from "${value}"`);
  const numberText = match[1].replace(/[,' _]/g, '');
  if (!PLAIN_NUMBER.test(numberText)) return new Failure(`cannot read a number from "${value}"`);
  const spelling = match[2].trim();
  const unit = spelling === '' ? fallback : findUnit(spelling);
  if (!unit) {
    return new Failure(
      spelling === ''
        ? `"${value}" has no unit; set unit.default or write the unit`
        : `unknown unit "${spelling}" (known for ${to}: ${units[to].spellings.slice(0, 3).join(', ')}, ...)`,
    );
  }
  try {
    return convertUnit(Number(numberText), unit, to);
  } catch (error) {
    return new Failure((error as Error).message);
  }
}

// ---------------------------------------------------------------------------------------------
// Coercion to the column type
// ---------------------------------------------------------------------------------------------

function coerceStep(column: ColumnSpec, mapping?: FieldMappingObject): Step {
  const trim = true;
  switch (column.type) {
    case 'number':
      return (value) => (value === null || value === undefined ? null : toNumber(value));
    case 'integer':
      // Whole numbers are checked by the row rules, after the bounds, so every reason is reported.
      return (value) => (value === null || value === undefined ? null : toNumber(value));
    case 'string':
      return (value) => {
        if (value === null || value === undefined) return null;
        if (typeof value === 'string') {
          const text = trim ? value.trim() : value;
          return text === '' ? null : text;
        }
        if (typeof value === 'number') return Number.isFinite(value) ? String(value) : new Failure('must be a finite number or text');
        if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
        if (value instanceof Date) return Number.isNaN(value.getTime()) ? new Failure('must be a valid timestamp') : naiveIso(value);
        return new Failure(`must be text, got ${Array.isArray(value) ? 'an array' : 'an object'}`);
      };
    case 'boolean':
      return (value) => {
        if (value === null || value === undefined) return null;
        if (typeof value === 'boolean') return value ? 1 : 0;
        if (value === 1 || value === 0) return value;
        if (typeof value === 'string') {
          const b = BOOLEANS.get(value.trim().toLowerCase());
          if (b !== undefined) return b ? 1 : 0;
        }
        return new Failure('must be a boolean (true/false, yes/no, 1/0)');
      };
    case 'date':
    case 'datetime': {
      const format = column.type === 'date' ? isoDateOf : naiveIso;
      const invalid = new Failure(column.type === 'date' ? 'must be a valid date' : 'must be a valid timestamp');
      const parsed = mapping?.date !== undefined;
      return (value) => {
        if (value === null || value === undefined) return null;
        const date = value instanceof Date ? value : typeof value === 'string' && !parsed ? parseIsoDate(value) : invalid;
        if (typeof date === 'string') return new Failure(`${invalid.message}: ${date}`);
        if (date instanceof Failure) return date;
        if (Number.isNaN(date.getTime())) return invalid;
        return format(date);
      };
    }
  }
}

const BOOLEANS = new Map<string, boolean>([
  ['true', true],
  ['false', false],
  ['yes', true],
  ['no', false],
  ['y', true],
  ['n', false],
  ['1', true],
  ['0', false],
]);

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function toNumber(value: unknown): number | Failure {
  if (typeof value === 'number') return Number.isFinite(value) ? value : new Failure('must be a finite number');
  if (typeof value === 'bigint') return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : new Failure('must be a safe integer');
  if (typeof value === 'string') {
    const t = value.trim();
    return PLAIN_NUMBER.test(t) ? Number(t) : new Failure('must be a number');
  }
  if (typeof value === 'boolean') return new Failure('must be a number, got a boolean');
  return new Failure(`must be a number, got ${value instanceof Date ? 'a date' : typeof value}`);
}

function toDate(value: unknown): Date | Failure {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? new Failure('must be a valid timestamp') : value;
  if (typeof value === 'string') {
    const date = parseIsoDate(value);
    return typeof date === 'string' ? new Failure(date) : date;
  }
  return new Failure('must be a date');
}

// ---------------------------------------------------------------------------------------------
// Filter, formatting
// ---------------------------------------------------------------------------------------------

function inRange(value: unknown, filter: FilterSpec): boolean {
  if (filter.from !== undefined && compare(value, filter.from) < 0) return false;
  if (filter.to !== undefined && compare(value, filter.to) >= 0) return false;
  return true;
}

/** Numbers numerically; anything else as strings (ISO dates and datetimes order as strings). */
function compare(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A raw value for a reason: `-5`, `"sf"`, `nothing`. */
function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : naiveIso(value);
  if (typeof value === 'number') return String(value);
  let text: string;
  try {
    text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
