import { and, eq, or } from 'drizzle-orm';
import { getDatasetVersion } from '../data/dataset-store';
import type { DatasetProfile } from '../data/profile';
import type { Db } from '../db/database';
import { aliasHistory } from '../db/schema';
import type { ArtifactStore } from './artifact-store';
import type { AliasMove } from './aliases';
import { getAliases, type ModelVersion } from './model-registry';
import { versionEvents, type VersionEvent } from './version-lifecycle';
import { readLearningCurve } from '../ml/trained-model';
import { findTrainingRun } from './training-runs';

/**
 * Lineage of a version in one object: what it is (contract, params, metrics, feature pipeline),
 * what it was made from (dataset version with its profile, code version), by what (the workflow
 * run, with a link to it in the Temporal UI), and what happened to it (alias moves, events).
 */
export interface VersionLineage {
  model: string;
  version: number;
  status: string;
  source: string;
  creator: string;
  createdAt: Date;
  description: string;
  tags: Record<string, string>;
  aliases: string[];
  artifact: { sha256: string; bytes: number; location: string; check: string };
  contract: unknown;
  params: unknown;
  metrics: unknown;
  featurePipeline: FeaturePipelineSummary | null;
  dataset: DatasetSummary | null;
  trainingRun: {
    id: string;
    trainSeconds: number;
    iterations: number;
    modelArtifactSha256: string;
    createdAt: Date;
    /** The run's HTML report the pipeline stored (`keel report run <model>@<version> --stored`); null for runs before reports were stored. */
    report: { sha256: string; location: string } | null;
  } | null;
  code: { gitCommit: string | null; gitDirty: boolean | null };
  run: { workflowId: string; runId: string; url: string } | null;
  aliasMoves: AliasMove[];
  events: VersionEvent[];
}

interface DatasetSummary {
  id: string;
  name?: string;
  contentHash: string;
  rowCount?: number;
  rowsRead?: number;
  quarantinedCount?: number;
  createdAt?: Date;
  /** Column → short statistics; null when the version has no profile. */
  profile: Record<string, ColumnSummary> | null;
  /** Set when the recorded dataset version is not in the database any more. */
  missing?: true;
}

/** A column's type and counts, then its range, or (text) its distinct count and top values. */
interface ColumnSummary {
  type: string;
  count: number;
  nulls: number;
  min?: number | string | null;
  max?: number | string | null;
  mean?: number | null;
  std?: number | null;
  distinct?: number;
  /** "value (count)", most frequent first. */
  top?: string[];
}

export interface FeaturePipelineSummary {
  modelArtifactSha256?: string;
  features: (
    | { name: string; kind: 'numeric'; mean?: number; std?: number }
    | { name: string; kind: 'categorical'; categories: number; top: string[]; encoding?: string }
    | { name: string; kind: 'boolean'; share?: number }
    | { name: string; kind: 'datetime'; parts: { part: string; encoding?: string; values?: number }[] }
  )[];
}

export interface LineageOptions {
  /** Base URL of the Temporal web UI (KEEL_TEMPORAL_UI). */
  temporalUi: string;
  namespace: string;
  /** When given, the artifact is read and its sha256 verified. */
  artifacts?: ArtifactStore;
}

export function temporalRunUrl(ui: string, namespace: string, workflowId: string, runId: string): string {
  const base = ui.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
}

export async function describeVersion(db: Db, row: ModelVersion, options: LineageOptions): Promise<VersionLineage> {
  const [aliases, dataset, run, moves, events, check] = await Promise.all([
    getAliases(db, row.modelName),
    row.datasetVersionId ? getDatasetVersion(db, row.datasetVersionId) : Promise.resolve(undefined),
    row.trainingRunId ? findTrainingRun(db, row.trainingRunId) : Promise.resolve(undefined),
    db
      .select()
      .from(aliasHistory)
      .where(
        and(
          eq(aliasHistory.modelName, row.modelName),
          or(eq(aliasHistory.toVersion, row.version), eq(aliasHistory.fromVersion, row.version)),
        ),
      )
      .orderBy(aliasHistory.at, aliasHistory.id),
    versionEvents(db, row.modelName, row.version),
    options.artifacts
      ? options.artifacts.get(row.artifactSha256).then(
          () => 'ok',
          (error: unknown) => (error as Error).message,
        )
      : Promise.resolve('not checked'),
  ]);
  return {
    model: row.modelName,
    version: row.version,
    status: row.status,
    source: row.source,
    creator: row.creator,
    createdAt: row.createdAt,
    description: row.description,
    tags: row.tags,
    aliases: Object.entries(aliases)
      .filter(([, v]) => v === row.version)
      .map(([a]) => a),
    artifact: {
      sha256: row.artifactSha256,
      bytes: row.artifactBytes,
      location: options.artifacts?.pathOf(row.artifactSha256) ?? row.artifactSha256,
      check,
    },
    contract: row.contract,
    params: row.params,
    metrics: row.metrics,
    featurePipeline: summarizeFeaturePipeline(row.featurePipeline, treeCategoricalEncoding(row.params)),
    dataset: row.datasetVersionId
      ? dataset
        ? {
            id: dataset.id,
            name: dataset.name,
            contentHash: dataset.contentHash,
            rowCount: dataset.rowCount,
            rowsRead: dataset.rowsRead,
            quarantinedCount: dataset.quarantinedCount,
            createdAt: dataset.createdAt,
            profile: summarizeProfile(dataset.profile),
          }
        : { id: row.datasetVersionId, contentHash: row.datasetHash, profile: null, missing: true }
      : null,
    trainingRun: run
      ? {
          id: run.id,
          trainSeconds: run.trainSeconds,
          iterations: readLearningCurve(run.learningCurve).train.length,
          modelArtifactSha256: run.modelArtifactSha256,
          createdAt: run.createdAt,
          report: run.reportArtifactSha256
            ? {
                sha256: run.reportArtifactSha256,
                location: options.artifacts?.pathOf(run.reportArtifactSha256) ?? run.reportArtifactSha256,
              }
            : null,
        }
      : null,
    code: { gitCommit: row.gitCommit, gitDirty: row.gitDirty },
    run: row.workflowId
      ? {
          workflowId: row.workflowId,
          runId: row.runId,
          url: temporalRunUrl(options.temporalUi, options.namespace, row.workflowId, row.runId),
        }
      : null,
    aliasMoves: moves,
    events,
  };
}

/** Per column: count and nulls, then min/max/mean/std (numbers), distinct and top values (strings), or the range (datetimes). */
function summarizeProfile(profile: unknown): Record<string, ColumnSummary> | null {
  if (!profile || typeof profile !== 'object') return null;
  const summary: Record<string, ColumnSummary> = {};
  for (const [column, raw] of Object.entries(profile as DatasetProfile)) {
    const base = { type: raw.type, count: raw.count, nulls: raw.nulls };
    if (raw.type === 'number') summary[column] = { ...base, min: raw.min, max: raw.max, mean: raw.mean, std: raw.std };
    else if (raw.type === 'string') {
      const top = Array.isArray(raw.top) ? raw.top.slice(0, 3) : [];
      summary[column] = { ...base, distinct: raw.distinct, top: top.map((t) => `${t.value} (${t.count})`) };
    } else if (raw.type === 'boolean') summary[column] = base;
    else summary[column] = { ...base, min: raw.min, max: raw.max };
  }
  return summary;
}

/**
 * How a tree model reads its categorical features when the pipeline does not say: as sets of
 * category codes (native splits), or as the frequency-rank code split like a number (ordinal;
 * every GBDT recorded before native splits existed). Undefined for linear models (one-hot).
 */
function treeCategoricalEncoding(params: unknown): string | undefined {
  const trainer = (params as { trainer?: { kind?: string; params?: { categoricalSplits?: string } } } | null)?.trainer;
  if (trainer?.kind !== 'gbdt') return undefined;
  return trainer.params?.categoricalSplits === 'native' ? 'native splits on category sets' : 'ordinal rank code';
}

function summarizeFeaturePipeline(value: unknown, treeEncoding?: string): FeaturePipelineSummary | null {
  if (!value || typeof value !== 'object') return null;
  const pipeline = value as { modelArtifactSha256?: string; features?: Record<string, unknown>[] };
  return {
    modelArtifactSha256: pipeline.modelArtifactSha256,
    features: (pipeline.features ?? []).map((f): FeaturePipelineSummary['features'][number] => {
      const name = String(f.name);
      switch (f.kind) {
        case 'numeric':
          // A tree pipeline's numeric feature has no mean: the trees take the raw value.
          return typeof f.mean === 'number' ? { name, kind: 'numeric', mean: f.mean, std: Number(f.std) } : { name, kind: 'numeric' };
        case 'boolean':
          return typeof f.share === 'number' ? { name, kind: 'boolean', share: f.share } : { name, kind: 'boolean' };
        case 'datetime':
          // Linear pipelines fit each part ({part, encoding, values}); tree pipelines list part names.
          return {
            name,
            kind: 'datetime',
            parts: (Array.isArray(f.parts) ? f.parts : []).map((p: unknown) =>
              typeof p === 'string'
                ? { part: p }
                : {
                    part: String((p as { part: unknown }).part),
                    encoding: String((p as { encoding: unknown }).encoding),
                    ...(Array.isArray((p as { values?: unknown }).values) ? { values: (p as { values: unknown[] }).values.length } : {}),
                  },
            ),
          };
        default:
          return {
            name,
            kind: 'categorical',
            categories: Array.isArray(f.categories) ? f.categories.length : 0,
            top: Array.isArray(f.categories) ? (f.categories as string[]).slice(0, 5) : [],
            ...(typeof f.encoding === 'string' ? { encoding: f.encoding } : treeEncoding ? { encoding: treeEncoding } : {}),
          };
      }
    }),
  };
}

// --- diff ----------------------------------------------------------------------------------------

export interface VersionDiff {
  a: string;
  b: string;
  params: { path: string; a: unknown; b: unknown }[];
  metrics: { name: string; a: number | null; b: number | null; delta: number | null }[];
  data: { same: boolean; a: DatasetBrief | null; b: DatasetBrief | null };
  code: {
    same: boolean;
    a: { gitCommit: string | null; gitDirty: boolean | null };
    b: { gitCommit: string | null; gitDirty: boolean | null };
  };
  artifact: { same: boolean; a: string; b: string };
  contract: { path: string; a: unknown; b: unknown }[];
  featurePipeline: { path: string; a: unknown; b: unknown }[];
}

interface DatasetBrief {
  id: string;
  name?: string;
  contentHash: string;
  rowCount?: number;
}

/** What differs between two versions: params, metrics (with deltas b − a), data, code, artifact, contract. */
export function diffVersions(a: VersionLineage, b: VersionLineage): VersionDiff {
  const metricsA = flatten(a.metrics);
  const metricsB = flatten(b.metrics);
  const metricNames = [...new Set([...Object.keys(metricsA), ...Object.keys(metricsB)])].sort();
  const brief = (d: DatasetSummary | null): DatasetBrief | null =>
    d && { id: d.id, name: d.name, contentHash: d.contentHash, rowCount: d.rowCount };
  return {
    a: `${a.model}@${a.version}`,
    b: `${b.model}@${b.version}`,
    params: changes(a.params, b.params),
    metrics: metricNames.map((name) => {
      const x = typeof metricsA[name] === 'number' ? metricsA[name] : null;
      const y = typeof metricsB[name] === 'number' ? metricsB[name] : null;
      return { name, a: x, b: y, delta: x !== null && y !== null ? y - x : null };
    }),
    data: { same: a.dataset?.id === b.dataset?.id, a: brief(a.dataset), b: brief(b.dataset) },
    code: {
      same: a.code.gitCommit === b.code.gitCommit && a.code.gitDirty === b.code.gitDirty,
      a: a.code,
      b: b.code,
    },
    artifact: { same: a.artifact.sha256 === b.artifact.sha256, a: a.artifact.sha256, b: b.artifact.sha256 },
    contract: changes(a.contract, b.contract),
    featurePipeline: changes(a.featurePipeline?.features.map(comparable), b.featurePipeline?.features.map(comparable)),
  };
}

/** A fitted feature as diffed: a categorical feature by its category count, not its top categories. */
function comparable(feature: FeaturePipelineSummary['features'][number]): unknown {
  if (feature.kind !== 'categorical') return feature;
  const { top: _top, ...rest } = feature;
  return rest;
}

/** Leaf paths whose values differ. Arrays of objects with a `name` are keyed by name. */
function changes(a: unknown, b: unknown): { path: string; a: unknown; b: unknown }[] {
  const x = flatten(a);
  const y = flatten(b);
  return [...new Set([...Object.keys(x), ...Object.keys(y)])]
    .sort()
    .filter((path) => JSON.stringify(x[path]) !== JSON.stringify(y[path]))
    .map((path) => ({ path, a: x[path] ?? null, b: y[path] ?? null }));
}

function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (Array.isArray(value)) {
    const named = value.every((v) => v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string');
    if (value.length > 0 && named) {
      for (const item of value as { name: string }[]) flatten(item, `${prefix}[${item.name}]`, out);
    } else if (value.every((v) => v === null || typeof v !== 'object')) {
      out[prefix] = value;
    } else value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) out[prefix] = value;
  return out;
}
