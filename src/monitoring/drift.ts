import { readCategory, readNumber } from '../ml/row';
import {
  chiSquareTest,
  histogramSorted,
  ksAndWasserstein,
  jensenShannonDistance,
  lowerBound,
  sturgesEdges,
  sumOf,
  twoProportionZTest,
  upperBound,
} from './distances';
import {
  defaultDriftThresholds,
  driftConfigSchema,
  pValueMethods,
  type ColumnDriftOverride,
  type DriftConfig,
  type DriftConfigInput,
  type DriftMethod,
} from '../shared/monitoring';
import { applicableMethods } from './drift-config';
import type { BinnedSide, DriftWindow } from './drift-window';
import { ksPValue } from './kolmogorov';
import { psiFromCounts, type PsiResult } from './psi';
import { SketchComputer } from './sketch-computer';
import { sortFloat64 } from './sort';
import {
  ReferenceSchemaError,
  type CategoricalDriftReference,
  type ColumnKind,
  type DriftReference,
  type DriftReferenceSet,
  type NumericDriftReference,
  sortedSample,
  VALUE_BINNING_MAX_DISTINCT,
} from './reference';

/**
 * Data and prediction drift of a window of live values against drift references, per column,
 * with the statistic chosen as Evidently chooses it (see drift-config.ts), and dataset-level
 * drift from the share of drifting columns. Pure and synchronous: the monitor activity reads the
 * window and the reference, calls evaluateDrift, stores the result and raises alerts.
 *
 * Missing values (null, undefined, NaN, '') are left out of KS, chi-squared, z, Jensen–Shannon
 * and Wasserstein, as Evidently drops them; PSI has a bin for them, and every result reports the
 * reference and current missing shares (config.maxMissingShareIncrease turns a rise into drift).
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

interface KsStatistics {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymp';
}

interface ColumnStatistics {
  ks?: KsStatistics;
  wasserstein?: { distance: number; normed: number };
  jensenshannon?: number;
  chisquare?: { statistic: number; pValue: number; df: number };
  z?: { z: number; pValue: number };
  psi?: number;
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

interface Computed {
  statistics: ColumnStatistics;
  /** PSI's bins with both shares (psi only). */
  bins?: PsiResult['bins'];
  exact: boolean;
  approximation?: string;
  /** Bound on |score − exact score| (distances from a profile). */
  bound?: number;
}

interface Computer {
  /** Distinct present values over reference and window, counted up to `cap` (null: unknown). */
  uniqueUpTo(cap: number): number | null;
  applicable(): DriftMethod[];
  compute(method: DriftMethod): Computed;
}

// --- current values ----------------------------------------------------------------------------

interface NumericSide {
  kind: 'numeric';
  /** Present values, sorted ascending. */
  sorted: Float64Array;
  present: number;
  missing: number;
}

interface CategoricalSide {
  kind: 'categorical';
  counts: Map<string, number>;
  present: number;
  missing: number;
}

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

// --- categorical columns ------------------------------------------------------------------------

/** Reference and current counts on a common list of bins. */
interface AlignedCounts {
  labels: string[];
  reference: Float64Array;
  current: Float64Array;
  /** False when new current categories were lumped into the reference's "other" bin. */
  exact: boolean;
}

/**
 * Aligns reference counts (`labels`/`counts`, plus `other` for categories beyond the list) with
 * current counts: every reference category, then either one "other" bin (when the reference has
 * one: unseen current categories go there) or one bin per unseen current category (reference 0).
 */
function align(labels: readonly string[], counts: ArrayLike<number>, other: number, current: Map<string, number>): AlignedCounts {
  const index = new Map<string, number>();
  labels.forEach((label, i) => index.set(label, i));
  const outLabels = [...labels];
  const reference: number[] = Array.from(counts);
  const currentCounts = new Array<number>(labels.length).fill(0);
  let otherIndex = -1;
  if (other > 0) {
    otherIndex = outLabels.length;
    outLabels.push('(other)');
    reference.push(other);
    currentCounts.push(0);
  }
  let exact = true;
  for (const [label, n] of current) {
    const i = index.get(label);
    if (i !== undefined) currentCounts[i] += n;
    else if (otherIndex >= 0) {
      currentCounts[otherIndex] += n;
      exact = false;
    } else {
      index.set(label, outLabels.length);
      outLabels.push(label);
      reference.push(0);
      currentCounts.push(n);
    }
  }
  return { labels: outLabels, reference: Float64Array.from(reference), current: Float64Array.from(currentCounts), exact };
}

/** chi², z, Jensen–Shannon on aligned counts, as Evidently computes them. */
function countStatistics(
  method: DriftMethod,
  aligned: AlignedCounts,
  referencePresent: number,
  currentPresent: number,
  sortKey: (label: string) => string | number,
): Computed | null {
  const { reference, current } = aligned;
  if (method === 'chisquare') {
    const observed: number[] = [];
    const expected: number[] = [];
    const scale = currentPresent / referencePresent;
    for (let i = 0; i < reference.length; i++) {
      if (reference[i] === 0 && current[i] === 0) continue;
      observed.push(current[i]);
      expected.push(reference[i] * scale);
    }
    if (observed.length < 2) return { statistics: { chisquare: { statistic: 0, pValue: 1, df: 0 } }, exact: aligned.exact };
    return { statistics: { chisquare: chiSquareTest(observed, expected) }, exact: aligned.exact };
  }
  if (method === 'z') {
    // Evidently codes the first category (in sort order) 0 and every other one 1.
    let first = 0;
    for (let i = 1; i < aligned.labels.length; i++)
      if (compareKeys(sortKey(aligned.labels[i]), sortKey(aligned.labels[first])) < 0) first = i;
    const refOthers = referencePresent - reference[first];
    const curOthers = currentPresent - current[first];
    return { statistics: { z: twoProportionZTest(refOthers, referencePresent, curOthers, currentPresent) }, exact: aligned.exact };
  }
  if (method === 'jensenshannon') {
    return { statistics: { jensenshannon: jensenShannonDistance(reference, current, 2) }, exact: aligned.exact };
  }
  return null;
}

function compareKeys(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const OTHER_NOTE = 'current categories outside the reference list were counted together as "other"';

class CategoricalComputer implements Computer {
  private aligned: AlignedCounts | null = null;

  constructor(
    private readonly reference: CategoricalDriftReference,
    private readonly side: CategoricalSide,
  ) {}

  private get counts(): AlignedCounts {
    this.aligned ??= align(
      this.reference.counts.map((c) => c.value),
      this.reference.counts.map((c) => c.count),
      this.reference.other,
      this.side.counts,
    );
    return this.aligned;
  }

  uniqueUpTo(cap: number): number {
    const seen = new Set<string>();
    for (const { value, count } of this.reference.counts) {
      if (count > 0) seen.add(value);
      if (seen.size >= cap) return cap;
    }
    // Categories beyond the reference list are at least one more value.
    if (this.reference.other > 0) seen.add('\u0000other');
    for (const value of this.side.counts.keys()) {
      seen.add(value);
      if (seen.size >= cap) return cap;
    }
    return Math.min(cap, seen.size);
  }

  applicable(): DriftMethod[] {
    return applicableMethods('categorical', (cap) => this.uniqueUpTo(cap));
  }

  compute(method: DriftMethod): Computed {
    const referencePresent = this.reference.rows - this.reference.missing;
    if (method === 'psi') {
      const bins = this.reference.bins;
      const index = new Map(bins.categories.map((c, i) => [c, i]));
      const counts = new Float64Array(bins.categories.length + 1);
      for (const [label, n] of this.side.counts) counts[index.get(label) ?? bins.categories.length] += n;
      const result = psiFromCounts(bins, counts, this.side.missing);
      return { statistics: { psi: result.psi }, bins: result.bins, exact: true };
    }
    const aligned = this.counts;
    const result = countStatistics(method, aligned, referencePresent, this.side.present, (label) => label);
    if (!result) throw new Error(`${method} does not apply to a categorical column`);
    if (!aligned.exact) return { ...result, approximation: OTHER_NOTE };
    if (method === 'chisquare' && this.reference.other > 0) {
      // Same statistic as one bin per category, but fewer degrees of freedom.
      return {
        ...result,
        exact: false,
        approximation: `the reference's categories beyond its ${this.reference.counts.length} listed ones form one bin`,
      };
    }
    return result;
  }
}

// --- numeric columns ------------------------------------------------------------------------------

class NumericComputer implements Computer {
  /** The reference distribution as sorted points with counts (null weights: one each), if known. */
  private readonly points: { values: Float64Array; weights: Float64Array | null; exact: boolean; note?: string } | null;

  constructor(
    private readonly reference: NumericDriftReference,
    private readonly side: NumericSide | CategoricalSide,
    private readonly kind: ColumnKind,
  ) {
    const present = reference.rows - reference.missing;
    if (reference.values) {
      this.points = {
        values: Float64Array.from(reference.values, (v) => v.value),
        weights: Float64Array.from(reference.values, (v) => v.count),
        exact: true,
      };
    } else if (reference.sample) {
      const complete = reference.sample.of === present && reference.sample.values.length === present;
      this.points = {
        values: sortedSample(reference.sample.values),
        weights: null,
        exact: complete,
        note: complete ? undefined : `against a uniform sample of ${reference.sample.values.length} of the ${present} reference values`,
      };
    } else {
      this.points = null;
    }
  }

  private merged: ReturnType<typeof ksAndWasserstein> | null = null;

  /** KS statistic and Wasserstein distance against the reference points, one merge for both. */
  private get walk(): ReturnType<typeof ksAndWasserstein> {
    this.merged ??= ksAndWasserstein(this.points!.values, this.numeric.sorted, this.points!.weights ?? undefined);
    return this.merged;
  }

  private get numeric(): NumericSide {
    if (this.side.kind !== 'numeric') throw new Error('numeric statistics need numeric current values');
    return this.side;
  }

  uniqueUpTo(cap: number): number | null {
    if (!this.reference.values) return null;
    const seen = new Set<number | string>(this.reference.values.filter((v) => v.count > 0).map((v) => v.value));
    if (this.side.kind === 'categorical') {
      for (const key of this.side.counts.keys()) {
        seen.add(Number.isNaN(Number(key)) ? key : Number(key));
        if (seen.size >= cap) return cap;
      }
      return Math.min(cap, seen.size);
    }
    const sorted = this.side.sorted;
    for (let i = 0; i < sorted.length && seen.size < cap; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) seen.add(sorted[i]);
    return Math.min(cap, seen.size);
  }

  applicable(): DriftMethod[] {
    return applicableMethods(this.kind, (cap) => this.uniqueUpTo(cap));
  }

  compute(method: DriftMethod): Computed {
    switch (method) {
      case 'ks':
        return this.ks();
      case 'wasserstein':
        return this.wasserstein();
      case 'psi':
        return this.psi();
      default:
        return this.byCounts(method);
    }
  }

  private ks(): Computed {
    const current = this.numeric.sorted;
    if (this.points) {
      const { statistic } = this.walk;
      const n1 = this.points.weights ? sumOf(this.points.weights) : this.points.values.length;
      const ks = ksPValue(statistic, n1, current.length);
      return { statistics: { ks }, exact: this.points.exact, ...(this.points.note ? { approximation: this.points.note } : {}) };
    }
    // Profile only: the reference ECDF is known at a few points; the supremum over them is a
    // lower bound of the statistic (so the p-value errs towards "no drift").
    let d = 0;
    for (const point of this.reference.cdf ?? []) {
      const f = (point.inclusive ? upperBound(current, point.value) : lowerBound(current, point.value)) / current.length;
      d = Math.max(d, Math.abs(point.share - f));
    }
    const ks = ksPValue(d, this.reference.rows - this.reference.missing, current.length);
    return {
      statistics: { ks },
      exact: false,
      approximation: `reference ECDF known at ${this.reference.cdf?.length ?? 0} points (profile): the statistic is a lower bound`,
    };
  }

  private wasserstein(): Computed {
    const current = this.numeric.sorted;
    const norm = Math.max(this.reference.std, 0.001);
    if (this.points) {
      const distance = this.walk.wasserstein;
      return {
        statistics: { wasserstein: { distance, normed: distance / norm } },
        exact: this.points.exact,
        ...(this.points.note ? { approximation: this.points.note } : {}),
      };
    }
    const { distance, bound } = interpolatedWasserstein(this.reference.quantiles ?? [], current);
    return {
      statistics: { wasserstein: { distance, normed: distance / norm } },
      exact: false,
      approximation: `reference quantile function interpolated between ${this.reference.quantiles?.length ?? 0} profile points`,
      bound: bound / norm,
    };
  }

  private psi(): Computed {
    const bins = this.reference.bins;
    const counts = new Float64Array(bins.edges.length + 1);
    let missing: number;
    if (this.side.kind === 'numeric') {
      const sorted = this.side.sorted;
      let below = 0;
      for (let i = 0; i < bins.edges.length; i++) {
        const upTo = upperBound(sorted, bins.edges[i]);
        counts[i] = upTo - below;
        below = upTo;
      }
      counts[bins.edges.length] = sorted.length - below;
      missing = this.side.missing;
    } else {
      missing = this.side.missing;
      for (const [label, n] of this.side.counts) {
        const v = readNumber(label);
        if (Number.isNaN(v)) missing += n;
        else counts[upperBound(bins.edges, v)] += n;
      }
    }
    const result = psiFromCounts(bins, counts, missing);
    return { statistics: { psi: result.psi }, bins: result.bins, exact: true };
  }

  /** chi², z and Jensen–Shannon: by value when the reference lists its values, else Sturges bins (JS) or the PSI bins. */
  private byCounts(method: DriftMethod): Computed {
    const referencePresent = this.reference.rows - this.reference.missing;
    // Categories by value; numbers by value for chi²/z, and for JS up to 20 distinct values (Evidently).
    const byValue =
      this.reference.values &&
      (this.kind === 'categorical' || method !== 'jensenshannon' || this.reference.values.length <= VALUE_BINNING_MAX_DISTINCT);
    if (byValue && this.reference.values) {
      const current = this.currentByValue();
      const aligned = align(
        this.reference.values.map((v) => String(v.value)),
        this.reference.values.map((v) => v.count),
        0,
        current,
      );
      const result = countStatistics(method, aligned, referencePresent, this.side.present, (label) => Number(label));
      if (!result) throw new Error(`${method} does not apply`);
      return result;
    }
    if (method === 'jensenshannon' && this.points && this.side.kind === 'numeric') {
      // Evidently: Sturges bins over both samples for numbers with more than 20 distinct values.
      const current = this.side.sorted;
      const edges = sturgesEdges(this.points.values, current);
      const referenceCounts = this.points.weights
        ? weightedHistogram(this.points.values, this.points.weights, edges)
        : histogramSorted(this.points.values, edges);
      const currentCounts = histogramSorted(current, edges);
      return {
        statistics: { jensenshannon: jensenShannonDistance(referenceCounts, currentCounts, 2) },
        exact: this.points.exact,
        ...(this.points.note ? { approximation: this.points.note } : {}),
      };
    }
    // The reference's PSI bins as categories (profile without values or sample).
    const bins = this.reference.bins;
    const presentShare = 1 - bins.missing;
    const labels = bins.proportions.map((_, i) => `bin ${i}`);
    const referenceCounts = bins.proportions.map((p) => (p / presentShare) * referencePresent);
    const currentCounts = new Map<string, number>();
    if (this.side.kind === 'numeric') {
      const sorted = this.side.sorted;
      let below = 0;
      for (let i = 0; i <= bins.edges.length; i++) {
        const upTo = i < bins.edges.length ? upperBound(sorted, bins.edges[i]) : sorted.length;
        if (upTo > below) currentCounts.set(labels[i], upTo - below);
        below = upTo;
      }
    } else {
      for (const [label, n] of this.side.counts) {
        const v = readNumber(label);
        if (Number.isNaN(v)) continue;
        const bin = labels[upperBound(bins.edges, v)];
        currentCounts.set(bin, (currentCounts.get(bin) ?? 0) + n);
      }
    }
    const aligned = align(labels, referenceCounts, 0, currentCounts);
    const result = countStatistics(method, aligned, referencePresent, sumMap(currentCounts), (label) => Number(label.slice(4)));
    if (!result) throw new Error(`${method} does not apply`);
    return {
      ...result,
      exact: false,
      approximation: `by the reference's ${labels.length} quantile bins (the profile has no per-value counts)`,
    };
  }

  /** Current counts keyed like the reference values (String(number)). */
  private currentByValue(): Map<string, number> {
    const counts = new Map<string, number>();
    if (this.side.kind === 'numeric') {
      const sorted = this.side.sorted;
      let i = 0;
      while (i < sorted.length) {
        let j = i + 1;
        while (j < sorted.length && sorted[j] === sorted[i]) j++;
        counts.set(String(sorted[i]), j - i);
        i = j;
      }
      return counts;
    }
    for (const [label, n] of this.side.counts) {
      const v = readNumber(label);
      const key = Number.isNaN(v) ? label : String(v);
      counts.set(key, (counts.get(key) ?? 0) + n);
    }
    return counts;
  }
}

function weightedHistogram(values: Float64Array, weights: Float64Array, edges: Float64Array): Float64Array {
  const counts = new Float64Array(edges.length - 1);
  const last = edges.length - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < edges[0] || v > edges[last]) continue;
    // numpy: bin k holds edges[k] <= v < edges[k+1], the last bin also v == edges[last].
    let k = upperBound(edges, v) - 1;
    if (k === last) k = last - 1;
    counts[k] += weights[i];
  }
  return counts;
}

function sumMap(map: Map<string, number>): number {
  let sum = 0;
  for (const n of map.values()) sum += n;
  return sum;
}

/**
 * W1 = ∫₀¹ |Q_ref(u) − Q_cur(u)| du with Q_ref linear between the given (q, value) points and
 * Q_cur the current empirical quantile function; `bound` = Σ Δq·ΔQ/2 bounds the error of the
 * interpolation for any monotone reference between the points.
 */
export function interpolatedWasserstein(
  knots: readonly { q: number; value: number }[],
  current: Float64Array,
): { distance: number; bound: number } {
  if (knots.length < 2 || knots[0].q !== 0 || knots[knots.length - 1].q !== 1) {
    throw new Error('interpolatedWasserstein needs quantile points from q = 0 to q = 1');
  }
  const m = current.length;
  let bound = 0;
  for (let k = 0; k + 1 < knots.length; k++) bound += ((knots[k + 1].q - knots[k].q) * (knots[k + 1].value - knots[k].value)) / 2;
  let area = 0;
  let k = 0;
  let j = 0;
  let u = 0;
  while (j < m) {
    while (k < knots.length - 2 && knots[k + 1].q <= u) k++;
    const stepEnd = (j + 1) / m;
    const knotEnd = knots[k + 1].q;
    const end = Math.min(stepEnd, knotEnd);
    if (end > u) {
      const a = knots[k];
      const b = knots[k + 1];
      const width = b.q - a.q;
      const at = (x: number) => (width > 0 ? a.value + ((b.value - a.value) * (x - a.q)) / width : b.value);
      const f0 = at(u) - current[j];
      const f1 = at(end) - current[j];
      const w = end - u;
      area += f0 * f1 >= 0 ? (w * (Math.abs(f0) + Math.abs(f1))) / 2 : (w * (f0 * f0 + f1 * f1)) / (2 * (Math.abs(f0) + Math.abs(f1)));
    }
    u = end;
    if (stepEnd <= knotEnd) j++;
    if (knotEnd <= stepEnd && k < knots.length - 2) k++;
  }
  return { distance: area, bound };
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(3)) : x;
}
