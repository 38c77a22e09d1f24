import { z } from 'zod';
import { strictObject } from './strict';
import type { DatasetSpec } from './dataset-spec';
import type { FeatureSpec } from './feature-spec';

/**
 * How ingest canonicalised a categorical column's text, so serving can do the same: strings are
 * trimmed, and a column with an `enum` or a mapping's `values` maps every spelling whose
 * `enumToken` matches to its canonical value (ingest's mapping, src/data/mapping.ts, uses the
 * same `enumToken`). Pure, so the workflow derives it from the dataset spec.
 */

/** Lower case; runs of spaces, dashes and underscores as one `_`: "Heat-Pump" = "heat pump" = "heat_pump". */
export function enumToken(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '_');
}

export const canonicalCategoriesSchema = z
  .record(
    z.string(),
    strictObject({
      tokens: z
        .record(z.string(), z.string())
        .describe('enumToken of a spelling → its canonical value; empty: the column is only trimmed.'),
      unknown: z
        .enum(['reject', 'nearest'])
        .optional()
        .describe("The feature's policy for unknown categories at serving (absent: bucket)."),
    }),
  )
  .describe('Per categorical feature read from a text column: how ingest canonicalised its values (trim, and the enum spellings).');
/** Per categorical feature: its spelling table (absent feature: taken as it comes). */
export type CanonicalCategories = z.infer<typeof canonicalCategoriesSchema>;

/**
 * The canonicalisation of every categorical feature that reads a declared text column of a mapped
 * dataset (the flights recipe declares none: its values are taken as they come), with the
 * feature's unknown-category policy when it is not the default bucket. Spelling tables
 * are the union over the sources' `values` in source order (the first canonical value of a token
 * wins) plus the column's own `enum` values.
 */
export function canonicalCategoriesOf(dataset: DatasetSpec, features: readonly FeatureSpec[]): CanonicalCategories {
  const result: CanonicalCategories = {};
  for (const feature of features) {
    if (feature.kind !== 'categorical') continue;
    const unknown = feature.unknown === 'reject' || feature.unknown === 'nearest' ? { unknown: feature.unknown } : {};
    const column = 'columns' in dataset ? dataset.columns.find((c) => c.name === feature.name) : undefined;
    if (!('columns' in dataset) || !column || column.type !== 'string') {
      // Not declared text (the flights recipe): nothing to canonicalise, but a policy to keep.
      if (feature.unknown === 'reject' || feature.unknown === 'nearest') result[feature.name] = { tokens: {}, ...unknown };
      continue;
    }
    const tokens = new Map<string, string>();
    for (const canonical of column.enum ?? []) tokens.set(enumToken(canonical), canonical);
    for (const source of dataset.sources) {
      const mapping = source.mapping?.[column.name];
      const values = mapping && typeof mapping === 'object' && 'values' in mapping ? mapping.values : undefined;
      for (const [spelling, canonical] of Object.entries(values ?? {}))
        if (!tokens.has(enumToken(spelling))) tokens.set(enumToken(spelling), canonical);
    }
    result[feature.name] = { tokens: Object.fromEntries([...tokens].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), ...unknown };
  }
  return result;
}

/** A raw value as ingest would have stored it: its canonical spelling when it has one, else trimmed. */
export function canonicalCategory(raw: string, entry: Pick<CanonicalCategories[string], 'tokens'> | undefined): string {
  if (!entry) return raw;
  return entry.tokens[enumToken(raw)] ?? raw.trim();
}
