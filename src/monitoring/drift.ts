import { readCategory, readNumber } from '../ml/row';
import { CategoricalComputer } from './categorical-computer';
import {
  defaultDriftThresholds,
  driftConfigSchema,
  pValueMethods,
  type ColumnDriftOverride,
  type DriftConfig,
  type DriftConfigInput,
  type DriftMethod,
} from '../shared/monitoring';
import type { CategoricalSide, ColumnStatistics, Computed, Computer, NumericSide } from './drift-computer';
import type { BinnedSide, DriftWindow } from './drift-window';
import { NumericComputer } from './numeric-computer';
import { SketchComputer } from './sketch-computer';
import { sortFloat64 } from './sort';
import { ReferenceSchemaError, type ColumnKind, type DriftReference, type DriftReferenceSet } from './reference';

/**
 * Data and prediction drift of a window of live values against drift references, per column,
 * with the statistic chosen as Evidently chooses it (see drift-config.ts), and dataset-level
 * drift from the share of drifting columns. Pure and synchronous: the monitor activity reads the
 * window and the reference, calls evaluateDrift, stores the result and raises alerts.
 *
 * Missing values (null, undefined, NaN, '') are left out of KS, chi-squared, z, Jensen–Shannon
 * and Wasserstein, as Evidently drops them; PSI has a bin for them, and every result reports the
 * reference and current missing shares (config.maxMissingShareIncrease turns a rise into drift).
 *
 * The statistics are computed in numeric-computer.ts, categorical-computer.ts and
 * sketch-computer.ts. Over 300 lines because planning a column, reading its window side and
 * choosing and judging its statistic are one pass, and the result types here are the public API.
 */

export interface ColumnSpec {
  name: string;
  /** The kind the model declares (informative; config `kind` overrides how it is compared). */
  kind?: ColumnKind;
  /**
   * Why the column cannot be compared in this window (e.g. a date part whose cycle the window's
   * timestamps do not cover): reported as `ignored` with this reason, never an alarm.
   */
  skip?: string;
}

/**
 * The window: row objects (logged prediction inputs), columns of equal length, or a DriftWindow
 * that was fed in chunks (bounded memory against sketched references).
 */
type CurrentData =
  | { rows: readonly Readonly<Record<string, unknown>>[] }
  | { columns: Readonly<Record<string, ArrayLike<unknown>>>; rowCount: number }
  | { window: DriftWindow };

export interface DriftInput {
  reference: DriftReferenceSet;
  current: CurrentData;
  features: readonly (string | ColumnSpec)[];
  /** The prediction column (a key of the rows or columns), compared with its own reference. */
  prediction?: string | ColumnSpec;
  config?: DriftConfigInput;
}

export interface ColumnDrift {
  column: string;
  role: 'feature' | 'prediction';
  /** How the column was compared. */
  kind: ColumnKind;
  /**
   * ok / drift: compared; absent: the key is in no current row (reported, never a crash);
   * empty: only missing values in the window; ignored: left out by config.
   */
  status: 'ok' | 'drift' | 'absent' | 'empty' | 'ignored';
  /** The statistic that decides drift. */
  method: DriftMethod;
  /** Why that statistic ("auto: …" or "config"). */
  choice: string;
  /** The deciding value: a p-value for ks/chisquare/z (drift below the threshold), else a distance (drift at or above). */
  score: number | null;
  threshold: number;
  drifted: boolean;
  /** True when `score` equals what SciPy computes on the raw reference and window. */
  exact: boolean;
  /** How an inexact score was approximated. */
  approximation?: string;
  /**
   * For an approximate distance: the exact score lies within ±errorBound, and drift is declared
   * only when score − errorBound reaches the threshold (an approximation never raises an alarm).
   */
  errorBound?: number;
  /** The missing share rose by more than config.maxMissingShareIncrease. */
  missingDrift?: boolean;
  statistics: ColumnStatistics;
  /** When PSI was computed: each PSI bin's share of the reference and of the window (missing last), for drawing both. */
  bins?: { label: string; reference: number; current: number }[];
  reference: { rows: number; present: number; missingShare: number };
  current: { rows: number; present: number; missingShare: number };
}

export interface DriftEvaluation {
  status: 'ok' | 'drift' | 'insufficient_data';
  rowCount: number;
  minRows: number;
  message: string;
  /** One entry per feature, in the order given (empty when there is not enough data). */
  columns: ColumnDrift[];
  prediction: ColumnDrift | null;
  dataset: {
    drifted: boolean;
    /** Drifting compared features / compared features (0 when none was compared). */
    share: number;
    threshold: number;
    driftedColumns: string[];
    comparedColumns: number;
  };
  /** Features with no key in any current row, and features with only missing values. */
  problems: { absent: string[]; empty: string[] };
}

/**
 * Compares `current` with `reference` for every feature (and the prediction column, when given).
 * Throws a ReferenceSchemaError naming every column the reference lacks or cannot compare; returns
 * status 'insufficient_data' (no column compared, no alarm) when the window has fewer than
 * config.minRows rows.
 */
export function evaluateDrift(input: DriftInput): DriftEvaluation {
  const config = driftConfigSchema.parse(input.config ?? {});
  const features = input.features.map((f) => (typeof f === 'string' ? { name: f } : f));
  const prediction =
    input.prediction === undefined ? undefined : typeof input.prediction === 'string' ? { name: input.prediction } : input.prediction;
  const plan = planColumns(input.reference, features, prediction, config);
  const rowCount =
    'rows' in input.current
      ? input.current.rows.length
      : 'window' in input.current
        ? input.current.window.rowCount
        : input.current.rowCount;
  const dataset = { drifted: false, share: 0, threshold: config.datasetDriftShare, driftedColumns: [] as string[], comparedColumns: 0 };
  if (rowCount < config.minRows) {
    return {
      status: 'insufficient_data',
      rowCount,
      minRows: config.minRows,
      message: `not enough data: ${rowCount} rows in the window, ${config.minRows} needed`,
      columns: [],
      prediction: null,
      dataset,
      problems: { absent: [], empty: [] },
    };
  }
  const columns = plan.features.map((p) => evaluateColumn(p, input.current, rowCount, config));
  const predictionResult = plan.prediction ? evaluateColumn(plan.prediction, input.current, rowCount, config) : null;

  const compared = columns.filter((c) => c.status === 'ok' || c.status === 'drift');
  dataset.comparedColumns = compared.length;
  dataset.driftedColumns = compared.filter((c) => c.drifted).map((c) => c.column);
  dataset.share = compared.length ? dataset.driftedColumns.length / compared.length : 0;
  dataset.drifted = compared.length > 0 && dataset.share >= config.datasetDriftShare;
  const problems = {
    absent: columns.filter((c) => c.status === 'absent').map((c) => c.column),
    empty: columns.filter((c) => c.current.present === 0 && c.status !== 'absent' && c.status !== 'ignored').map((c) => c.column),
  };
  const predictionCompared = predictionResult !== null && (predictionResult.status === 'ok' || predictionResult.status === 'drift');
  const predictionDrift = predictionResult?.drifted ?? false;
  const status = compared.length === 0 && !predictionCompared ? 'insufficient_data' : dataset.drifted || predictionDrift ? 'drift' : 'ok';
  return {
    status,
    rowCount,
    minRows: config.minRows,
    message: summaryMessage(status, dataset, predictionResult, problems),
    columns,
    prediction: predictionResult,
    dataset,
    problems,
  };
}

function summaryMessage(
  status: DriftEvaluation['status'],
  dataset: DriftEvaluation['dataset'],
  prediction: ColumnDrift | null,
  problems: DriftEvaluation['problems'],
): string {
  const parts: string[] = [];
  if (status === 'insufficient_data') parts.push('no monitored column had values to compare');
  else if (dataset.drifted) {
    parts.push(
      `dataset drift: ${dataset.driftedColumns.length} of ${dataset.comparedColumns} features drifted (${dataset.driftedColumns.join(', ')}; share ${round(dataset.share)} >= ${dataset.threshold})`,
    );
  } else if (dataset.driftedColumns.length) {
    parts.push(
      `no dataset drift: ${dataset.driftedColumns.length} of ${dataset.comparedColumns} features drifted (${dataset.driftedColumns.join(', ')}; share ${round(dataset.share)} < ${dataset.threshold})`,
    );
  } else {
    parts.push(`no drift in ${dataset.comparedColumns} features`);
  }
  if (prediction?.drifted) parts.push(`prediction drift (${prediction.method} ${round(prediction.score ?? Number.NaN)})`);
  if (problems.absent.length) parts.push(`absent from the window: ${problems.absent.join(', ')}`);
  if (problems.empty.length) parts.push(`only missing values: ${problems.empty.join(', ')}`);
  return parts.join('; ');
}

// ---------------------------------------------------------------------------------------------
// Planning: which reference and kind per column; schema errors up front
// ---------------------------------------------------------------------------------------------

interface ColumnPlan {
  name: string;
  role: 'feature' | 'prediction';
  reference: DriftReference;
  kind: ColumnKind;
  override: ColumnDriftOverride;
  skip?: string;
}

function planColumns(
  references: DriftReferenceSet,
  features: ColumnSpec[],
  prediction: ColumnSpec | undefined,
  config: DriftConfig,
): { features: ColumnPlan[]; prediction: ColumnPlan | null } {
  const missing: string[] = [];
  const incompatible: Record<string, string> = {};
  const plan = (spec: ColumnSpec, role: ColumnPlan['role']): ColumnPlan | null => {
    const override = (role === 'prediction' ? config.prediction : config.columns[spec.name]) ?? {};
    const reference = Object.hasOwn(references, spec.name) ? references[spec.name] : undefined;
    if (!reference) {
      missing.push(spec.name);
      return null;
    }
    const wanted = override.kind ?? (spec.kind === 'numeric' ? 'numeric' : undefined);
    if (wanted === 'numeric' && reference.kind === 'categorical') {
      incompatible[spec.name] = 'is numeric in the monitored columns but categorical (text) in the reference';
      return null;
    }
    // A numeric reference compares numerically unless config asks for categories; a declared
    // categorical kind (an encoding choice of the model) does not change that.
    const kind: ColumnKind = reference.kind === 'categorical' ? 'categorical' : override.kind === 'categorical' ? 'categorical' : 'numeric';
    if (override.method && override.method !== 'auto') {
      const allowed = methodsFor(kind);
      if (!allowed.includes(override.method))
        incompatible[spec.name] = `cannot use ${override.method} as a ${kind} column (allowed: ${allowed.join(', ')})`;
    }
    return { name: spec.name, role, reference, kind, override, ...(spec.skip ? { skip: spec.skip } : {}) };
  };
  const featurePlans = features.map((f) => plan(f, 'feature'));
  const predictionPlan = prediction ? plan(prediction, 'prediction') : null;
  if (missing.length || Object.keys(incompatible).length) throw new ReferenceSchemaError(missing, incompatible);
  return { features: featurePlans as ColumnPlan[], prediction: predictionPlan };
}

function methodsFor(kind: ColumnKind): DriftMethod[] {
  return kind === 'numeric' ? ['ks', 'wasserstein', 'jensenshannon', 'psi', 'chisquare', 'z'] : ['chisquare', 'z', 'jensenshannon', 'psi'];
}

function currentValues(current: Exclude<CurrentData, { window: DriftWindow }>, name: string): ArrayLike<unknown> | null {
  if ('columns' in current) return Object.hasOwn(current.columns, name) ? current.columns[name] : null;
  const rows = current.rows;
  let seen = false;
  for (let i = 0; i < rows.length && !seen; i++) seen = Object.hasOwn(rows[i], name);
  if (!seen) return null;
  const values = new Array<unknown>(rows.length);
  for (let i = 0; i < rows.length; i++) values[i] = rows[i][name];
  return values;
}

// ---------------------------------------------------------------------------------------------
// One column
// ---------------------------------------------------------------------------------------------

/** The column's window side, or null when no row has it. */
function currentSide(plan: ColumnPlan, data: CurrentData): NumericSide | CategoricalSide | BinnedSide | null {
  const { reference, kind } = plan;
  const asNumbers = kind === 'numeric' || (reference.kind === 'numeric' && !reference.values);
  let values: ArrayLike<unknown> | null;
  if ('window' in data) {
    const side = data.window.side(
      plan.name,
      asNumbers ? 'numeric' : 'categorical',
      reference.kind === 'numeric' && reference.values !== undefined,
    );
    if (side === null || side.kind !== 'values') return side;
    values = side.values;
  } else {
    values = currentValues(data, plan.name);
  }
  if (values === null) return null;
  return asNumbers ? numericSide(values) : categoricalSide(values);
}

function evaluateColumn(plan: ColumnPlan, data: CurrentData, rowCount: number, config: DriftConfig): ColumnDrift {
  const { reference, kind, override } = plan;
  const referencePresent = reference.rows - reference.missing;
  const base = {
    column: plan.name,
    role: plan.role,
    kind,
    reference: { rows: reference.rows, present: referencePresent, missingShare: reference.missing / reference.rows },
  };
  const skipped = (status: 'absent' | 'empty' | 'ignored', current: ColumnDrift['current'], missingDrift = false): ColumnDrift => {
    const method = override.method && override.method !== 'auto' ? override.method : kind === 'numeric' ? 'wasserstein' : 'jensenshannon';
    return {
      ...base,
      status: missingDrift ? 'drift' : status,
      method,
      choice: plan.skip ? `not compared: ${plan.skip}` : status === 'ignored' ? 'config: ignored' : `not compared (${status})`,
      score: null,
      threshold: override.threshold ?? config.thresholds[method] ?? defaultDriftThresholds[method],
      drifted: missingDrift,
      exact: true,
      ...(missingDrift ? { missingDrift } : {}),
      statistics: {},
      current,
    };
  };
  if (override.ignore || plan.skip) return skipped('ignored', { rows: rowCount, present: 0, missingShare: 0 });
  const side = currentSide(plan, data);
  if (side === null) return skipped('absent', { rows: rowCount, present: 0, missingShare: 1 });

  const current = { rows: rowCount, present: side.present, missingShare: rowCount ? (rowCount - side.present) / rowCount : 0 };
  const missingDrift =
    config.maxMissingShareIncrease !== undefined && current.missingShare - base.reference.missingShare > config.maxMissingShareIncrease;
  if (side.present === 0) return skipped('empty', current, missingDrift);

  const computer =
    reference.kind === 'categorical'
      ? new CategoricalComputer(reference, side as CategoricalSide)
      : side.kind === 'binned'
        ? new SketchComputer(reference, side, kind)
        : new NumericComputer(reference, side, kind);
  const { method, choice } = chooseMethod(plan, computer, referencePresent, config);
  const threshold = override.threshold ?? config.thresholds[method] ?? defaultDriftThresholds[method];
  const wanted = new Set<DriftMethod>(config.statistics === 'all' ? computer.applicable() : []);
  wanted.add(method);
  const statistics: ColumnStatistics = {};
  const notes: Partial<Record<DriftMethod, string>> = {};
  const exactness: Partial<Record<DriftMethod, boolean>> = {};
  const bounds: Partial<Record<DriftMethod, number>> = {};
  let bins: Computed['bins'];
  for (const m of wanted) {
    const result = computer.compute(m);
    Object.assign(statistics, result.statistics);
    bins ??= result.bins;
    exactness[m] = result.exact;
    if (result.approximation) notes[m] = result.approximation;
    if (result.bound !== undefined) bounds[m] = result.bound;
  }
  const score = scoreOf(method, statistics);
  const errorBound = bounds[method];
  const drifted = pValueMethods.includes(method) ? score < threshold : score - (errorBound ?? 0) >= threshold;
  const columnDrifted = drifted || missingDrift;
  return {
    ...base,
    status: columnDrifted ? 'drift' : 'ok',
    method,
    choice,
    score,
    threshold,
    drifted: columnDrifted,
    exact: exactness[method] ?? true,
    ...(notes[method] ? { approximation: notes[method] } : {}),
    ...(errorBound !== undefined ? { errorBound } : {}),
    ...(missingDrift ? { missingDrift } : {}),
    statistics,
    ...(bins ? { bins: bins.map((b) => ({ label: b.label, reference: b.expected, current: b.actual })) } : {}),
    current,
  };
}

function scoreOf(method: DriftMethod, s: ColumnStatistics): number {
  switch (method) {
    case 'ks':
      return s.ks!.pValue;
    case 'chisquare':
      return s.chisquare!.pValue;
    case 'z':
      return s.z!.pValue;
    case 'wasserstein':
      return s.wasserstein!.normed;
    case 'jensenshannon':
      return s.jensenshannon!;
    case 'psi':
      return s.psi!;
  }
}

/** Evidently's default choice (registry._get_default_stattest), unless config names a method. */
function chooseMethod(
  plan: ColumnPlan,
  computer: Computer,
  referencePresent: number,
  config: DriftConfig,
): { method: DriftMethod; choice: string } {
  const configured = plan.override.method;
  if (configured && configured !== 'auto') return { method: configured, choice: 'config' };
  const small = referencePresent <= config.smallReferenceRows;
  const size = `reference ${referencePresent} values ${small ? '<=' : '>'} ${config.smallReferenceRows}`;
  const unique = computer.uniqueUpTo(6);
  const few = unique !== null && unique <= 5;
  const uniqueText = unique === null ? '' : unique <= 5 ? `, ${unique} distinct values` : ', more than 5 distinct values';
  if (plan.kind === 'numeric' && !few) {
    return small
      ? { method: 'ks', choice: `auto: numeric, ${size}${uniqueText}` }
      : { method: 'wasserstein', choice: `auto: numeric, ${size}${uniqueText}` };
  }
  const what = plan.kind === 'numeric' ? `numeric with few values${uniqueText}` : `categorical${uniqueText}`;
  if (!small) return { method: 'jensenshannon', choice: `auto: ${what}, ${size}` };
  const binary = unique !== null && unique <= 2;
  return { method: binary ? 'z' : 'chisquare', choice: `auto: ${what}, ${size}` };
}

// --- current values ----------------------------------------------------------------------------

function numericSide(values: ArrayLike<unknown>): NumericSide {
  const out = new Float64Array(values.length);
  let n = 0;
  if (values instanceof Float64Array || values instanceof Float32Array) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v - v === 0) out[n++] = v; // finite
    }
  } else {
    for (let i = 0; i < values.length; i++) {
      const raw = values[i];
      const v = typeof raw === 'number' ? (raw - raw === 0 ? raw : Number.NaN) : readNumber(raw);
      if (!Number.isNaN(v)) out[n++] = v;
    }
  }
  const sorted = sortFloat64(out.subarray(0, n));
  return { kind: 'numeric', sorted, present: n, missing: values.length - n };
}

function categoricalSide(values: ArrayLike<unknown>): CategoricalSide {
  // One hash lookup per value: categories map to slots of a counts array.
  const slots = new Map<string, number>();
  let tally = new Float64Array(64);
  let present = 0;
  for (let i = 0; i < values.length; i++) {
    const raw = values[i];
    const category = typeof raw === 'string' ? (raw === '' ? null : raw) : readCategory(raw);
    if (category === null) continue;
    present++;
    const slot = slots.get(category);
    if (slot !== undefined) {
      tally[slot]++;
    } else {
      if (slots.size === tally.length) {
        const grown = new Float64Array(tally.length * 2);
        grown.set(tally);
        tally = grown;
      }
      tally[slots.size] = 1;
      slots.set(category, slots.size);
    }
  }
  const counts = new Map<string, number>();
  for (const [category, slot] of slots) counts.set(category, tally[slot]);
  return { kind: 'categorical', counts, present, missing: values.length - present };
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(3)) : x;
}
