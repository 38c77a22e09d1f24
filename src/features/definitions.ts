import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ColumnDef } from '../data/columns';
import { InvalidInputError } from '../shared/errors';
import { featureStoreDefinitionsSchema, viewJoinKeys, type FeatureStoreDefinitions, type FeatureViewDef } from '../shared/feature-store';
import { intervalMs } from '../shared/interval';
import { parseOrThrow } from '../shared/validation';
import type { PitFeature } from './point-in-time';

/** Feature store definitions as `keel.config.json` holds them: inline, or `{ "file": "features.json" }`. */
export async function loadFeatureDefinitions(value: unknown, configPath: string): Promise<FeatureStoreDefinitions> {
  if (value && typeof value === 'object' && 'file' in value && typeof value.file === 'string') {
    const path = resolve(dirname(configPath), (value as { file: string }).file);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new InvalidInputError(`featureStore.file: cannot read ${path}: ${(error as Error).message}`);
    }
    return parseOrThrow(featureStoreDefinitionsSchema, json, `feature store file ${path}`, (message) => new InvalidInputError(message));
  }
  return parseOrThrow(featureStoreDefinitionsSchema, value ?? {}, 'featureStore', (message) => new InvalidInputError(message));
}

const numericTypes = new Set(['number', 'integer', 'boolean']);
/** Aggregations that read a column's values as numbers (count and distinct_count take any type). */
const numericAggregations = new Set(['sum', 'mean', 'min', 'max', 'rate', 'last']);

export interface DefinitionIssue {
  path: string;
  message: string;
}

/**
 * Checks each view against the columns of its source: the join keys, the timestamp and every
 * feature's column must exist, a timestamp must be a date or a number, and an aggregate other than
 * count/distinct_count must read a number. `columnsOf` gives a dataset's columns (undefined: no
 * version yet). A view over a view sees that view's join keys, timestamp and features.
 */
export function checkViewColumns(
  defs: FeatureStoreDefinitions,
  columnsOf: (dataset: string) => readonly ColumnDef[] | undefined,
): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  defs.views.forEach((view, v) => {
    const columns = sourceColumns(defs, view, columnsOf);
    if (!columns) {
      if ('dataset' in view.source)
        issues.push({ path: `views.${v}.source.dataset`, message: `no version of dataset "${view.source.dataset}" exists yet` });
      return;
    }
    const types = new Map(columns.map((c) => [c.name, c.type]));
    const known = () => [...types.keys()].join(', ');
    const need = (column: string, path: string, check?: (type: string) => string | undefined) => {
      const type = types.get(column);
      if (type === undefined) issues.push({ path, message: `unknown column "${column}" (columns: ${known()})` });
      else {
        const problem = check?.(type);
        if (problem) issues.push({ path, message: problem });
      }
    };
    const keys = viewJoinKeys(defs, view);
    keys.forEach((key) => need(key, `views.${v}.entities`));
    if (view.timestamp) {
      need(view.timestamp, `views.${v}.timestamp`, (type) =>
        ['date', 'datetime', 'number', 'integer'].includes(type)
          ? undefined
          : `the timestamp column "${view.timestamp}" is ${type}, needs date, datetime or a number`,
      );
    }
    view.features.forEach((feature, f) => {
      if (feature.column === undefined) return;
      need(feature.column, `views.${v}.features.${f}.column`, (type) => {
        const numeric = feature.aggregation === undefined || numericAggregations.has(feature.aggregation);
        if (numeric && !numericTypes.has(type)) {
          return feature.aggregation
            ? `aggregate "${feature.aggregation}" of the ${type} column "${feature.column}": it needs a number (count and distinct_count take any column)`
            : `the ${type} column "${feature.column}" as a feature: features are numbers (use distinct_count or count for text)`;
        }
        return undefined;
      });
    });
  });
  return issues;
}

function sourceColumns(
  defs: FeatureStoreDefinitions,
  view: FeatureViewDef,
  columnsOf: (dataset: string) => readonly ColumnDef[] | undefined,
): readonly ColumnDef[] | undefined {
  if ('dataset' in view.source) return columnsOf(view.source.dataset);
  const parent = defs.views.find((other) => 'view' in view.source && other.name === view.source.view);
  if (!parent) return undefined;
  return [
    ...viewJoinKeys(defs, parent).map((name) => ({ name, type: 'string' as const })),
    ...(parent.timestamp ? [{ name: parent.timestamp, type: 'datetime' as const }] : []),
    ...parent.features.map((feature) => ({ name: feature.name, type: 'number' as const })),
  ];
}

/** The definition a view version stands for: the view and the join keys of its entities. */
export function viewDefinition(defs: FeatureStoreDefinitions, view: FeatureViewDef): { view: FeatureViewDef; joinKeys: string[] } {
  return { view, joinKeys: viewJoinKeys(defs, view) };
}

/** A view's version: sha256 of its canonical definition. Any change to it is a new version. */
export function viewVersion(definition: { view: FeatureViewDef; joinKeys: string[] }): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The columns a view reads from its source, and its features in the point-in-time engine's terms. */
export function pitPlan(view: FeatureViewDef): { valueColumns: string[]; features: PitFeature[]; lagMs: number } {
  const valueColumns: string[] = [];
  const features = view.features.map((feature): PitFeature => {
    let valueIndex = -1;
    if (feature.column !== undefined && feature.aggregation !== 'count') {
      valueIndex = valueColumns.indexOf(feature.column);
      if (valueIndex < 0) valueIndex = valueColumns.push(feature.column) - 1;
    }
    return {
      name: feature.name,
      aggregation: feature.aggregation,
      valueIndex,
      windowMs: feature.window ? intervalMs(feature.window) : undefined,
      threshold: feature.threshold,
      ttlMs: view.ttl && feature.aggregation === undefined ? intervalMs(view.ttl) : undefined,
    };
  });
  return { valueColumns, features, lagMs: intervalMs(view.availabilityLag) };
}
