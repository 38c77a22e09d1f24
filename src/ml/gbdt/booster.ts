import { createHash } from 'node:crypto';
import type { FeatureColumn } from '../feature-columns';
import { allocate } from './allocate';
import { binColumns, fitBinMapper, transposeBins, type BinMapper } from './binning';
import { fitCategoryBinMapper, nativeCategoricalColumns } from './categorical-split';
import { SerialExecutor, type Executor, type GradientScales, type TrainingArrays } from './executor';
import { WasmArena } from './wasm-kernels';
import { growTree, type BinnedLayout, type GradientUnits, type TreeConstraints } from './grow';
import { BIN_STRIDE, histogramIndex, quantisationBits } from './kernels';
import type { GbdtModel } from './model';
import { baseScores, checkLabels, lossSum, metricFromLoss, metricOf, type GbdtMetric } from './objective';
import { parseGbdtParams, type GbdtObjective, type GbdtParamsInput } from './params';
import { resolveGbdtParams, type ResolvedGbdtParams } from './small-data';
import { Prng } from './prng';
import { addTreeToScores, packTree, type GbdtTree } from './tree';
import { columnLength } from '../feature-columns';
import { encodeTreeColumns, fitTreePipeline, type TreeFeaturePipeline } from './tree-pipeline';

/**
 * A training request in columnar form (see feature-columns.ts): the form in which training data
 * crosses into a worker thread. `labels` are the target values (numbers; NaN or null = missing,
 * which is an error).
 */
export interface GbdtTable {
  target: string;
  params: GbdtParamsInput;
  columns: FeatureColumn[];
  labels: ArrayLike<unknown>;
  /** Rows for early stopping and the validation learning curve. */
  validation?: { columns: FeatureColumn[]; labels: ArrayLike<unknown> };
}

/** Reported after every boosting iteration. */
export interface GbdtProgress {
  /** Iterations done (1-based). */
  iteration: number;
  totalIterations: number;
  metric: GbdtMetric;
  trainMetric: number;
  validationMetric: number | null;
  /** Present every `checkpointEvery` iterations and at the last one. */
  checkpoint?: GbdtCheckpoint;
}

/**
 * Everything needed to continue training after `iteration` iterations exactly as an
 * uninterrupted run would: the trees so far and the PRNG state (scores are recomputed from the
 * trees). Plain JSON; valid only for the same data and parameters (`dataDigest`).
 */
export interface GbdtCheckpoint {
  format: 'keel-gbdt-checkpoint/1';
  dataDigest: string;
  iteration: number;
  trees: GbdtTree[];
  prngState: number[];
  trainCurve: number[];
  validationCurve: number[] | null;
  bestIteration: number;
  /** null before any validation metric (JSON has no Infinity). */
  bestMetric: number | null;
}

export interface GbdtFitOptions {
  onProgress?: (progress: GbdtProgress) => void;
  /** Attach a checkpoint to the progress of every n-th iteration (and of the last one). */
  checkpointEvery?: number;
  /** Continue from a checkpoint of a run with the same data and parameters. */
  resumeFrom?: GbdtCheckpoint;
}

/** A table after label checks, pipeline fit and binning: what the boosting loop runs on. */
export interface PreparedGbdt {
  target: string;
  params: ResolvedGbdtParams;
  objective: GbdtObjective;
  /** 2 for binary, K for multiclass, 1 for regression. */
  classes: number;
  /** multiclass: the class names (the model's `classes`). */
  classNames?: string[];
  outputs: number;
  pipeline: TreeFeaturePipeline;
  mappers: BinMapper[];
  train: BinnedRows;
  validation: BinnedRows | null;
  dataDigest: string;
}

interface BinnedRows {
  rowCount: number;
  /** Row-major bin codes (rowCount × features). */
  bins: Uint8Array;
  /** Column-major bin codes (features × rowCount). */
  columnBins: Uint8Array;
  labels: Float64Array;
}

/**
 * Checks labels and parameters, fits the tree pipeline and the bins on the training rows, and bins
 * both sets. With `shared`, the training bins live on a SharedArrayBuffer (for helper threads).
 */
export function prepareGbdt(table: GbdtTable, { shared = false }: { shared?: boolean } = {}): PreparedGbdt {
  const given = parseGbdtParams(table.params);
  if (table.columns.some((column) => column.name === table.target)) {
    throw new Error(`the target "${table.target}" is also listed as a feature`);
  }
  const what = `target "${table.target}"`;
  const { labels, classes, classNames } = checkLabels(given.objective, table.labels, what);
  const rowCount = labels.length;
  for (const column of table.columns) {
    const length = columnLength(column);
    if (length !== rowCount) throw new Error(`feature "${column.name}" has ${length} rows, the target ${rowCount}`);
  }
  if (given.earlyStoppingRounds && !table.validation) {
    throw new Error('earlyStoppingRounds needs a validation set');
  }
  const params = resolveGbdtParams(given, rowCount, table.validation !== undefined);
  const pipeline = fitTreePipeline(table.columns, params.maxCategories);
  const encoded = encodeTreeColumns(pipeline, table.columns);
  const native = nativeCategoricalColumns(pipeline, params);
  const mappers = encoded.map((values, f) =>
    native[f] ? fitCategoryBinMapper(values, params.maxBins) : fitBinMapper(values, params.maxBins),
  );
  const train = binned(encoded, mappers, labels, shared);

  let validation: BinnedRows | null = null;
  if (table.validation) {
    const checked = checkLabels(params.objective, table.validation.labels, `${what} (validation)`, classNames);
    validation = binned(encodeTreeColumns(pipeline, table.validation.columns), mappers, checked.labels, false);
  }

  const digest = createHash('sha256');
  // Class names only for multiclass: binary and regression digests stay what they were.
  digest.update(JSON.stringify({ target: table.target, params, pipeline, mappers, ...(classNames && { classes: classNames }) }));
  for (const part of [train, validation]) {
    if (!part) continue;
    digest.update(part.bins);
    digest.update(new Uint8Array(part.labels.buffer, part.labels.byteOffset, part.labels.byteLength));
  }
  return {
    target: table.target,
    params,
    objective: params.objective,
    classes,
    ...(classNames && { classNames }),
    outputs: params.objective === 'multiclass' ? classes : 1,
    pipeline,
    mappers,
    train,
    validation,
    dataDigest: digest.digest('hex'),
  };
}

function binned(columns: Float32Array[], mappers: BinMapper[], labels: Float64Array, shared: boolean): BinnedRows {
  const rowCount = labels.length;
  const columnBins = allocate(Uint8Array, rowCount * columns.length, shared);
  binColumns(columns, mappers, columnBins);
  const bins = allocate(Uint8Array, rowCount * columns.length, shared);
  transposeBins(columnBins, columns.length, bins);
  return { rowCount, bins, columnBins, labels: shared ? copyShared(labels) : labels };
}

function copyShared(values: Float64Array): Float64Array {
  const copy = allocate(Float64Array, values.length, true);
  copy.set(values);
  return copy;
}

/** The arrays the executor works on, allocated for `prepared` (shared for helper threads). */
export function trainingArrays(prepared: PreparedGbdt, shared: boolean): TrainingArrays {
  const { rowCount, bins, columnBins, labels } = prepared.train;
  const featureCount = prepared.mappers.length;
  const histOffsets = new Int32Array(featureCount);
  let offset = 0;
  prepared.mappers.forEach((mapper, f) => {
    histOffsets[f] = offset * BIN_STRIDE;
    offset += mapper.valueBins + 1;
  });
  const histLength = offset * BIN_STRIDE;
  const narrowIndex = histLength <= 65_536;
  // One thread: the hot arrays go into the WebAssembly kernels' memory (wasm-kernels.ts).
  const arena =
    shared || !narrowIndex
      ? undefined
      : WasmArena.create(arenaBytes(rowCount, featureCount, prepared.outputs, histLength, prepared.params.maxLeaves));
  const histIndex = narrowIndex
    ? (arena?.allocate(Uint16Array, bins.length) ?? allocate(Uint16Array, bins.length, shared))
    : allocate(Uint32Array, bins.length, shared);
  histogramIndex(bins, featureCount, histOffsets, histLength, histIndex);
  const arenaColumnBins = arena?.allocate(Uint8Array, columnBins.length);
  arenaColumnBins?.set(columnBins);
  const arenaLabels = arena?.allocate(Float64Array, labels.length);
  arenaLabels?.set(labels);
  return {
    rowCount,
    featureCount,
    outputs: prepared.outputs,
    bins,
    histIndex,
    columnBins: arenaColumnBins ?? columnBins,
    labels: arenaLabels ?? labels,
    scores: arena?.allocate(Float64Array, rowCount * prepared.outputs) ?? allocate(Float64Array, rowCount * prepared.outputs, shared),
    gh: arena?.allocate(Int32Array, prepared.outputs * rowCount * 2) ?? allocate(Int32Array, prepared.outputs * rowCount * 2, shared),
    rows: arena?.allocate(Uint32Array, rowCount) ?? allocate(Uint32Array, rowCount, shared),
    scratch: arena?.allocate(Uint32Array, rowCount) ?? allocate(Uint32Array, rowCount, shared),
    histOffsets: shared ? copyInt32Shared(histOffsets) : histOffsets,
    histLength,
    arena,
  };
}

/**
 * Bytes for what the arena of trainingArrays holds: histogram index, gradients, scores, rows,
 * scratch, column bins, labels, the histogram pool, the executor's copies and features, the
 * partition table, and 64-byte alignment of each.
 */
function arenaBytes(rowCount: number, featureCount: number, outputs: number, histLength: number, maxLeaves: number): number {
  const arrays = rowCount * featureCount * 2 + outputs * rowCount * 8 * 2 + rowCount * 8 + rowCount * featureCount + rowCount * 8;
  const histograms = (histogramPoolSize(maxLeaves) + 3) * histLength * 8;
  return arrays + histograms + featureCount * 4 + 256 + 64 * (histogramPoolSize(maxLeaves) + 16);
}

/** Histograms alive at once while a tree grows: one per leaf, plus the parent being split. */
function histogramPoolSize(maxLeaves: number): number {
  return maxLeaves + 2;
}

function copyInt32Shared(values: Int32Array): Int32Array {
  const copy = allocate(Int32Array, values.length, true);
  copy.set(values);
  return copy;
}

/** Trains on this thread (single-threaded). */
export function fitGbdt(table: GbdtTable, options: GbdtFitOptions = {}): GbdtModel {
  const prepared = prepareGbdt(table);
  const arrays = trainingArrays(prepared, false);
  return boost(prepared, arrays, new SerialExecutor(arrays), options);
}

/**
 * The boosting loop. Deterministic: the model is a function of the prepared data and the
 * parameters, whatever the executor (serial or parallel) and whether the run was resumed.
 */
export function boost(prepared: PreparedGbdt, arrays: TrainingArrays, executor: Executor, options: GbdtFitOptions = {}): GbdtModel {
  const { params, objective, outputs, mappers, train, validation } = prepared;
  const { rowCount, featureCount, scores, gh, rows } = arrays;
  const checkpointEvery = options.checkpointEvery ?? 0;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 0)
    throw new Error(`checkpointEvery must be an integer >= 0, got ${checkpointEvery}`);
  const base = baseScores(objective, train.labels, prepared.classes);
  const metric = metricOf[objective];

  const resume = options.resumeFrom;
  if (resume) checkCheckpoint(resume, prepared);
  const trees: GbdtTree[] = resume ? [...resume.trees] : [];
  const prng = resume ? Prng.fromState(resume.prngState) : new Prng(params.seed);
  const trainCurve = resume ? [...resume.trainCurve] : [];
  const validationCurve = validation ? (resume?.validationCurve ? [...resume.validationCurve] : []) : null;
  let bestIteration = resume?.bestIteration ?? 0;
  let bestMetric = resume?.bestMetric ?? Number.POSITIVE_INFINITY;
  const startIteration = resume?.iteration ?? 0;

  // Scores: the base, then every tree so far in order (on resume: the same additions as training made).
  for (let r = 0; r < rowCount; r++) for (let k = 0; k < outputs; k++) scores[r * outputs + k] = base[k];
  const validScores = validation ? new Float64Array(validation.rowCount * outputs) : null;
  if (validScores) for (let r = 0; r < validation!.rowCount; r++) for (let k = 0; k < outputs; k++) validScores[r * outputs + k] = base[k];
  trees.forEach((tree, t) => {
    const packed = packTree(tree);
    executor.addTree(packed, t % outputs);
    if (validScores) addTreeToScores(packed, validation!.bins, featureCount, validScores, outputs, t % outputs, 0, validation!.rowCount);
  });

  const layout: BinnedLayout = { mappers, histOffsets: arrays.histOffsets, histLength: arrays.histLength };
  const constraints: TreeConstraints = {
    maxLeaves: params.maxLeaves,
    maxDepth: params.maxDepth,
    minSamplesLeaf: params.minSamplesLeaf,
    minHessianLeaf: params.minHessianLeaf,
    lambda: params.lambda,
    minSplitGain: params.minSplitGain,
    learningRate: params.learningRate,
    ...(params.categoricalSplits === 'native' && {
      categorical: {
        maxCatThreshold: params.maxCatThreshold,
        catSmooth: params.catSmooth,
        catL2: params.catL2,
        minDataPerGroup: params.minDataPerGroup,
        maxCatToOnehot: params.maxCatToOnehot,
      },
    }),
  };
  const bits = quantisationBits(rowCount);
  const bag = params.subsample < 1 ? new Uint32Array(rowCount) : null;
  const features = new Int32Array(featureCount);
  // With the WebAssembly kernels, the histograms live in their memory too.
  const histPool: Float64Array[] = [];
  for (let i = 0; arrays.arena && i < histogramPoolSize(params.maxLeaves); i++) {
    const hist = arrays.arena.allocate(Float64Array, arrays.histLength);
    if (hist) histPool.push(hist);
  }

  const computeGradients = (): { units: GradientUnits; loss: number } => {
    let scales: GradientScales;
    let units: GradientUnits;
    if (objective === 'regression') {
      const max = executor.maxAbsResidual();
      const scale = max > 0 ? 2 ** bits / max : 1;
      scales = { gradient: scale, hessian: 1 };
      units = { gradient: 1 / scale, hessian: 1 };
    } else {
      // |g| ≤ 1; h ≤ 1/4 (binary) or ≤ K/(K-1)/4 ≤ 1/2 (softmax): both scaled to at most 2^bits.
      const hBits = objective === 'binary' ? bits + 2 : bits + 1;
      scales = { gradient: 2 ** bits, hessian: 2 ** hBits };
      units = { gradient: 2 ** -bits, hessian: 2 ** -hBits };
    }
    return { units, loss: executor.gradients(objective, scales) };
  };

  let iteration = startIteration;
  // A checkpoint taken when early stopping triggered: nothing is left to do.
  let stoppedEarly =
    resume !== undefined &&
    params.earlyStoppingRounds !== undefined &&
    iteration - bestIteration >= params.earlyStoppingRounds &&
    iteration < params.numTrees;
  let gradients = computeGradients();
  for (;;) {
    if (iteration > startIteration) {
      const trainMetric = metricFromLoss(objective, gradients.loss, rowCount);
      trainCurve.push(trainMetric);
      let validationMetric: number | null = null;
      if (validScores) {
        validationMetric = metricFromLoss(objective, lossSum(objective, validScores, validation!.labels, outputs), validation!.rowCount);
        validationCurve!.push(validationMetric);
        if (validationMetric < bestMetric) {
          bestMetric = validationMetric;
          bestIteration = iteration;
        }
      } else {
        bestIteration = iteration;
      }
      const rounds = params.earlyStoppingRounds;
      stoppedEarly = rounds !== undefined && iteration - bestIteration >= rounds && iteration < params.numTrees;
      const last = iteration === params.numTrees || stoppedEarly;
      const progress: GbdtProgress = { iteration, totalIterations: params.numTrees, metric, trainMetric, validationMetric };
      if (checkpointEvery > 0 && (iteration % checkpointEvery === 0 || last)) {
        progress.checkpoint = {
          format: 'keel-gbdt-checkpoint/1',
          dataDigest: prepared.dataDigest,
          iteration,
          trees: [...trees],
          prngState: prng.state(),
          trainCurve: [...trainCurve],
          validationCurve: validationCurve && [...validationCurve],
          bestIteration,
          bestMetric: Number.isFinite(bestMetric) ? bestMetric : null,
        };
      }
      options.onProgress?.(progress);
      if (last) break;
    }
    if (iteration >= params.numTrees || stoppedEarly) break;

    // The iteration's bag of rows (all rows without subsampling).
    let bagSize = rowCount;
    if (bag) {
      bagSize = 0;
      for (let r = 0; r < rowCount; r++) if (prng.nextFloat() < params.subsample) bag[bagSize++] = r;
      if (bagSize === 0) bag[bagSize++] = prng.nextInt(rowCount);
    }
    for (let k = 0; k < outputs; k++) {
      if (bag) rows.set(bag.subarray(0, bagSize));
      else for (let r = 0; r < rowCount; r++) rows[r] = r;
      const activeCount = sampleFeatures(features, featureCount, params.colsample, prng);
      const grown = growTree(
        layout,
        gh,
        k * 2 * rowCount,
        gradients.units,
        rows,
        bagSize,
        features,
        activeCount,
        constraints,
        executor,
        histPool,
      );
      trees.push(grown.tree);
      const packed = packTree(grown.tree);
      if (bag) {
        executor.addTree(packed, k);
      } else {
        // Every row is in exactly one leaf's range: add that leaf's value (as addTree would).
        executor.addLeafValues(k, grown.leafStart, grown.leafEnd, grown.tree.leafValue);
      }
      if (validScores) addTreeToScores(packed, validation!.bins, featureCount, validScores, outputs, k, 0, validation!.rowCount);
    }
    iteration++;
    gradients = computeGradients();
  }

  const kept = params.earlyStoppingRounds !== undefined ? bestIteration : iteration;
  return {
    kind: 'gbdt',
    objective,
    target: prepared.target,
    outputs,
    ...(prepared.classNames && { classes: prepared.classNames }),
    pipeline: prepared.pipeline,
    params,
    baseScores: base,
    trees: trees.slice(0, kept * outputs),
    ...(objective === 'binary' && { threshold: 0.5 }),
    training: {
      iterations: iteration,
      bestIteration: kept,
      stoppedEarly,
      metric,
      trainCurve,
      validationCurve,
      rows: rowCount,
      validationRows: validation?.rowCount ?? 0,
      bins: mappers.map((mapper) => mapper.valueBins),
      dataDigest: prepared.dataDigest,
    },
  };
}

/** Draws the tree's features (all when colsample is 1); returns how many, sorted ascending. */
function sampleFeatures(features: Int32Array, featureCount: number, colsample: number, prng: Prng): number {
  for (let f = 0; f < featureCount; f++) features[f] = f;
  if (colsample >= 1) return featureCount;
  const count = Math.max(1, Math.round(colsample * featureCount));
  for (let i = 0; i < count; i++) {
    const j = i + prng.nextInt(featureCount - i);
    const t = features[i];
    features[i] = features[j];
    features[j] = t;
  }
  features.subarray(0, count).sort();
  return count;
}

function checkCheckpoint(checkpoint: GbdtCheckpoint, prepared: PreparedGbdt): void {
  if (checkpoint.format !== 'keel-gbdt-checkpoint/1')
    throw new Error(`not a GBDT checkpoint (format ${JSON.stringify(checkpoint.format)})`);
  if (checkpoint.dataDigest !== prepared.dataDigest) {
    throw new Error('the checkpoint was made with other training data or parameters (data digest differs); cannot resume from it');
  }
  if (checkpoint.trees.length !== checkpoint.iteration * prepared.outputs || checkpoint.iteration > prepared.params.numTrees) {
    throw new Error(`inconsistent checkpoint: ${checkpoint.trees.length} trees after ${checkpoint.iteration} iterations`);
  }
}
