import { z } from 'zod';
import { strictObject } from './strict';
import { intervalSchema } from './interval';

/**
 * Feature store definitions, in the vocabulary Feast users know: entities, feature views over a
 * source with a timestamp column, entity keys, features (a column, or an aggregate over a time
 * window), an availability lag and a TTL. They live in `keel.config.json` under `featureStore`
 * or in a file of their own (`featureStore.file`). Checks that need no data (cycles, shared
 * names, windows without a timestamp) are here; checks against the source's columns are in
 * src/features/definitions.ts. Pure module: bundled into workflows.
 */

const nameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be 1-63 lowercase letters, digits or underscores, starting with a letter');

export const entitySchema = strictObject({
  name: nameSchema.describe('The entity, e.g. `origin` or `route`.'),
  joinKeys: z
    .array(z.string().min(1))
    .min(1)
    .describe('The columns that identify one entity, in the source and in requests (a route: `["origin", "destination"]`).'),
  description: z.string().optional().describe('What the entity is, for people.'),
}).describe('Something features describe, identified by its join keys.');
export type EntityDef = z.infer<typeof entitySchema>;

export const aggregations = ['count', 'sum', 'mean', 'min', 'max', 'rate', 'last', 'distinct_count'] as const;
export type Aggregation = (typeof aggregations)[number];

export const featureDefSchema = strictObject({
  name: nameSchema.describe('The feature name: unique over all views, it is the column the training set and the model get.'),
  column: z.string().min(1).optional().describe('The source column it reads (`count` needs none).'),
  aggregation: z
    .enum(aggregations)
    .optional()
    .describe(
      "Without it, the feature is the column's latest value. With it, an aggregate over `window`: `count`, `sum`, `mean`, `min`, `max`, `rate` (share of events whose value is above `threshold`, or non-zero), `last`, `distinct_count`.",
    ),
  window: intervalSchema.optional().describe('The aggregation window before the as-of time, e.g. `7d` (needs `aggregation`).'),
  threshold: z
    .number()
    .optional()
    .describe('`rate` only: an event counts when its value is greater than this (default: when it is non-zero).'),
})
  .superRefine((feature, ctx) => {
    if (feature.aggregation === undefined && feature.column === undefined)
      ctx.addIssue({ code: 'custom', path: ['column'], message: 'a feature without aggregation is a column: name it' });
    if (feature.aggregation !== undefined && feature.aggregation !== 'count' && feature.column === undefined) {
      ctx.addIssue({ code: 'custom', path: ['column'], message: `aggregation "${feature.aggregation}" needs a column` });
    }
    if (feature.aggregation !== undefined && feature.window === undefined)
      ctx.addIssue({ code: 'custom', path: ['window'], message: `aggregation "${feature.aggregation}" needs a window, e.g. "7d"` });
    if (feature.aggregation === undefined && feature.window !== undefined)
      ctx.addIssue({ code: 'custom', path: ['aggregation'], message: 'a window needs an aggregation' });
    if (feature.threshold !== undefined && feature.aggregation !== 'rate')
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'threshold applies to aggregation "rate" only' });
  })
  .describe('A column of the source, or an aggregate of one over a time window.');
export type FeatureDef = z.infer<typeof featureDefSchema>;

export const missingPolicies = ['default', 'nan', 'reject'] as const;

export const viewSourceSchema = z
  .union([
    strictObject({
      dataset: z.string().min(1).describe('A dataset name: the view reads its newest version (or `version`).'),
      version: z.string().min(1).optional().describe('A dataset version id (or a prefix) to pin instead of the newest.'),
    }),
    strictObject({ view: nameSchema.describe("Another view: this view aggregates that view's features.") }),
  ])
  .describe('Where the events come from: a dataset (its versions) or another feature view.');

export const featureViewSchema = strictObject({
  name: nameSchema.describe('The view name.'),
  entities: z.array(nameSchema).min(1).describe('The entities (by name) whose join keys key the view.'),
  source: viewSourceSchema,
  timestamp: z.string().min(1).optional().describe("The source column holding each event's time (required when a feature has a window)."),
  availabilityLag: intervalSchema
    .default('0s')
    .describe(
      "How long after its timestamp an event's value is known (a flight's delay: after it departs). A value as of time t uses only events with timestamp ≤ t − lag.",
    ),
  ttl: intervalSchema.optional().describe('An online value whose newest event is older than this is stale (then `onMissing` applies).'),
  features: z.array(featureDefSchema).min(1).describe('The features the view computes.'),
  onMissing: z
    .enum(missingPolicies)
    .default('nan')
    .describe(
      "When the server finds no value (or a stale one) for an entity: `default` (each feature's `defaults` value, else 0), `nan` (missing: the model's imputer decides), `reject` (422 naming the entity and the view).",
    ),
  defaults: z
    .record(z.string(), z.number())
    .default({})
    .describe('`onMissing: "default"`: the value per feature name (0 when not listed).'),
  staleAfter: intervalSchema.optional().describe('The monitor alerts when the view was last materialised longer ago than this.'),
}).describe('Features of one or more entities computed from a source, as of any time.');
export type FeatureViewDef = z.output<typeof featureViewSchema>;

export const featureStoreDefinitionsSchema = strictObject({
  entities: z.array(entitySchema).default([]).describe('The entities.'),
  views: z.array(featureViewSchema).default([]).describe('The feature views.'),
  materializeEvery: intervalSchema
    .optional()
    .describe(
      'With it, `keel features apply` creates the Temporal Schedule `keel/features/materialize` that runs `materializeFeatures` over every view at this interval.',
    ),
})
  .superRefine((defs, ctx) => {
    const entities = new Set(defs.entities.map((e) => e.name));
    const owner = new Map<string, number>();
    const viewIndex = new Map<string, number>();
    defs.views.forEach((view, v) => {
      if (viewIndex.has(view.name)) ctx.addIssue({ code: 'custom', path: ['views', v, 'name'], message: `duplicate view "${view.name}"` });
      viewIndex.set(view.name, v);
      view.entities.forEach((entity, e) => {
        if (!entities.has(entity))
          ctx.addIssue({
            code: 'custom',
            path: ['views', v, 'entities', e],
            message: `unknown entity "${entity}" (entities: ${[...entities].join(', ') || 'none'})`,
          });
      });
      view.features.forEach((feature, f) => {
        const other = owner.get(feature.name);
        if (other !== undefined && other !== v) {
          ctx.addIssue({
            code: 'custom',
            path: ['views', v, 'features', f, 'name'],
            message: `feature "${feature.name}" is also defined by view "${defs.views[other].name}": feature names are unique over all views`,
          });
        }
        owner.set(feature.name, v);
        if (feature.window !== undefined && view.timestamp === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['views', v, 'features', f, 'window'],
            message: `a window needs the view's timestamp column: set views.${v}.timestamp`,
          });
        }
      });
      for (const name of Object.keys(view.defaults)) {
        if (!view.features.some((f) => f.name === name))
          ctx.addIssue({ code: 'custom', path: ['views', v, 'defaults', name], message: `no feature "${name}" in view "${view.name}"` });
      }
    });
    defs.views.forEach((view, v) => {
      if (!('view' in view.source)) return;
      if (!viewIndex.has(view.source.view)) {
        ctx.addIssue({ code: 'custom', path: ['views', v, 'source', 'view'], message: `unknown view "${view.source.view}"` });
        return;
      }
      const chain = [view.name];
      let next: string | undefined = view.source.view;
      while (next !== undefined) {
        chain.push(next);
        if (next === view.name) {
          ctx.addIssue({ code: 'custom', path: ['views', v, 'source', 'view'], message: `cycle between views: ${chain.join(' → ')}` });
          return;
        }
        const source: FeatureViewDef['source'] | undefined = defs.views[viewIndex.get(next) ?? -1]?.source;
        next = source && 'view' in source ? source.view : undefined;
        if (chain.length > defs.views.length + 1) return;
      }
    });
  })
  .describe('The feature store: entities and feature views (docs/features.md, "Feature store").');
export type FeatureStoreDefinitions = z.output<typeof featureStoreDefinitionsSchema>;

/** A view's features as the join keys and values a training set or a request gets. */
export function viewJoinKeys(defs: FeatureStoreDefinitions, view: FeatureViewDef): string[] {
  return view.entities.flatMap((name) => defs.entities.find((e) => e.name === name)?.joinKeys ?? []);
}

/** The `materializeFeatures` workflow's input. */
export const materializeFeaturesInputSchema = strictObject({
  views: z.array(nameSchema).min(1).describe('The views to materialise, in order.'),
  asOf: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("Values as of this time (ISO 8601); default: the run's start (a schedule's firing time)."),
  backfill: z.boolean().default(false).describe('Recompute every entity from all events instead of only those touched since the last run.'),
}).describe('Writes the latest feature values per entity into the online store.');
export type MaterializeFeaturesInput = z.input<typeof materializeFeaturesInputSchema>;
