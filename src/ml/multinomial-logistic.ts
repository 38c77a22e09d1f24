import { linearPredictor, type EncodedMatrix } from './encoded-matrix';
import { minimizeLbfgs } from './lbfgs';
import { checkValidation, curveRecorder, type LinearCurves, type LinearFitOptions } from './linear-curves';
import { checkLinearParams, type LinearParams } from './logistic';
import { addPenalisedGradient } from './penalised-gradient';

export interface MultinomialFit extends LinearCurves {
  /** K rows of `width` weights, row k for class k. */
  weights: number[][];
  /** One per class, centred to sum 0 (softmax is unchanged by a common shift). */
  intercepts: number[];
  iterations: number;
  converged: boolean;
  /** The objective (penalised mean cross-entropy) after each iteration. */
  lossHistory: number[];
}

/**
 * Fits multinomial (softmax) logistic regression with L2 by L-BFGS, deterministically. With
 * scores zₖ = x·wₖ + bₖ and P(k | x) = softmax(z)ₖ, the objective is
 *
 *   (1/n)·Σᵢ -log P(yᵢ | xᵢ) + (l2/2)·Σₖ ‖wₖ‖²      (intercepts not penalised)
 *
 * scikit-learn's LogisticRegression (multinomial, lbfgs) minimises C·Σᵢ -log P + ½‖W‖², the same
 * minimiser for C = 1/(n·l2). Like it, every class has its own weight vector (no reference
 * class), so the penalty treats the classes alike. The curves are the mean cross-entropy
 * (`multi_logloss`) on the training rows and (with `validation`, coded with the training classes)
 * on the validation rows.
 */
export function trainMultinomialLogistic(
  matrix: EncodedMatrix,
  codes: Int32Array,
  classCount: number,
  params: LinearParams,
  { onIteration, validation }: LinearFitOptions<Int32Array> = {},
): MultinomialFit {
  checkLinearParams(params);
  const { rowCount, width } = matrix;
  if (codes.length !== rowCount) throw new Error(`got ${codes.length} labels for ${rowCount} rows`);
  if (!Number.isInteger(classCount) || classCount < 2) throw new Error(`need at least 2 classes, got ${classCount}`);
  const counts = new Float64Array(classCount);
  for (let i = 0; i < rowCount; i++) {
    const code = codes[i];
    if (!(code >= 0 && code < classCount)) throw new Error(`label ${i} must be a class index in 0..${classCount - 1}, got ${code}`);
    counts[code]++;
  }
  checkValidation(validation, width);
  validation?.targets.forEach((code, i) => {
    if (!(code >= 0 && code < classCount))
      throw new Error(`validation label ${i} must be a class index in 0..${classCount - 1}, got ${code}`);
  });
  // Parameters: per class, its weights then its intercept. Start from the log class frequencies,
  // the optimum when every weight is zero (an absent class starts very unlikely, not at -∞).
  const stride = width + 1;
  const start = new Float64Array(classCount * stride);
  for (let k = 0; k < classCount; k++) start[k * stride + width] = Math.log(Math.max(counts[k], 0.5) / rowCount);

  const objective = softmaxObjective(matrix, codes, classCount, params.l2);
  const validationScores = validation && new Float64Array(classCount * validation.matrix.rowCount);
  const recorder = curveRecorder(
    'multi_logloss',
    objective.meanLoss,
    validation ? (parameters) => meanCrossEntropy(validation.matrix, validation.targets, classCount, parameters, validationScores!) : null,
    onIteration,
  );
  const result = minimizeLbfgs(objective.evaluate, start, {
    maxIterations: params.maxIterations,
    gradientTolerance: params.tolerance,
    onIteration: recorder.onIteration,
  });
  const rawIntercepts = Array.from({ length: classCount }, (_, k) => result.x[k * stride + width]);
  const meanIntercept = rawIntercepts.reduce((sum, b) => sum + b, 0) / classCount;
  return {
    weights: Array.from({ length: classCount }, (_, k) => Array.from(result.x.subarray(k * stride, k * stride + width))),
    intercepts: rawIntercepts.map((b) => b - meanIntercept),
    iterations: result.iterations,
    converged: result.converged,
    lossHistory: result.valueHistory,
    ...recorder.curves,
  };
}

/**
 * Mean cross-entropy -log P(yᵢ | xᵢ) over rows, for parameters laid out as the trainer's
 * ([w₀..., b₀, w₁..., b₁, …]); `scores` is class-major scratch space (K × rows).
 */
function meanCrossEntropy(
  matrix: EncodedMatrix,
  codes: Int32Array,
  classCount: number,
  parameters: Float64Array,
  scores: Float64Array,
): number {
  const { rowCount } = matrix;
  classScores(matrix, classCount, parameters, scores);
  let lossSum = 0;
  for (let i = 0; i < rowCount; i++) {
    const max = rowMaximum(scores, rowCount, classCount, i);
    let sum = 0;
    for (let k = 0; k < classCount; k++) sum += Math.exp(scores[k * rowCount + i] - max);
    lossSum += Math.log(sum) - (scores[codes[i] * rowCount + i] - max);
  }
  return lossSum / rowCount;
}

/**
 * Every class's scores zₖ = X·wₖ + bₖ, for parameters laid out [w₀..., b₀, w₁..., b₁, …], into
 * class-major `scores` (scores[k·n + i] = zₖ of row i: one contiguous block per class, what
 * linearPredictor fills).
 */
function classScores(matrix: EncodedMatrix, classCount: number, parameters: Float64Array, scores: Float64Array): void {
  const { rowCount, width } = matrix;
  const stride = width + 1;
  for (let k = 0; k < classCount; k++) {
    const block = parameters.subarray(k * stride, (k + 1) * stride);
    linearPredictor(matrix, block, block[width], scores.subarray(k * rowCount, (k + 1) * rowCount));
  }
}

/** The largest class score of row i in class-major scores: subtracted before exponentiating, so none overflows. */
function rowMaximum(scores: Float64Array, rowCount: number, classCount: number, i: number): number {
  let max = -Infinity;
  for (let k = 0; k < classCount; k++) max = Math.max(max, scores[k * rowCount + i]);
  return max;
}

/**
 * Class probabilities from class-major scores (scores[k·n + i] = zₖ of row i), written row-major
 * (K per row) into `out`: softmax with the maximum subtracted, so no exponential overflows.
 */
export function softmaxRows(scores: Float64Array, rowCount: number, classCount: number, out: Float64Array): Float64Array {
  for (let i = 0; i < rowCount; i++) {
    const max = rowMaximum(scores, rowCount, classCount, i);
    let sum = 0;
    for (let k = 0; k < classCount; k++) sum += out[i * classCount + k] = Math.exp(scores[k * rowCount + i] - max);
    for (let k = 0; k < classCount; k++) out[i * classCount + k] /= sum;
  }
  return out;
}

/**
 * Mean cross-entropy + λ/2·Σ‖wₖ‖² and its gradient, over parameters [w₀..., b₀, w₁..., b₁, …];
 * `meanLoss` is the unpenalised mean cross-entropy of the latest evaluation.
 */
function softmaxObjective(matrix: EncodedMatrix, codes: Int32Array, classCount: number, l2: number) {
  const { rowCount, width } = matrix;
  const stride = width + 1;
  // Class-major: one contiguous block of rowCount scores per class (what linearPredictor fills).
  const scores = new Float64Array(classCount * rowCount);
  const residuals = new Float64Array(classCount * rowCount);
  let meanLoss = Number.NaN;
  const evaluate = (parameters: Float64Array, gradient: Float64Array): number => {
    classScores(matrix, classCount, parameters, scores);
    let lossSum = 0;
    for (let i = 0; i < rowCount; i++) {
      const max = rowMaximum(scores, rowCount, classCount, i);
      let sum = 0;
      for (let k = 0; k < classCount; k++) {
        const e = Math.exp(scores[k * rowCount + i] - max);
        residuals[k * rowCount + i] = e;
        sum += e;
      }
      const label = codes[i];
      // -log softmax(z)_y = log Σ e^(z - max) - (z_y - max)
      lossSum += Math.log(sum) - (scores[label * rowCount + i] - max);
      for (let k = 0; k < classCount; k++) {
        const residual = residuals[k * rowCount + i] / sum - (k === label ? 1 : 0);
        residuals[k * rowCount + i] = residual / rowCount;
      }
    }
    gradient.fill(0);
    let squaredNorm = 0;
    for (let k = 0; k < classCount; k++) {
      const classResiduals = residuals.subarray(k * rowCount, (k + 1) * rowCount);
      let residualSum = 0;
      for (let i = 0; i < rowCount; i++) residualSum += classResiduals[i];
      const classGradient = gradient.subarray(k * stride, (k + 1) * stride);
      squaredNorm = addPenalisedGradient(
        matrix,
        classResiduals,
        residualSum,
        parameters.subarray(k * stride, k * stride + width),
        l2,
        classGradient,
        squaredNorm,
      );
    }
    meanLoss = lossSum / rowCount;
    return meanLoss + (l2 / 2) * squaredNorm;
  };
  return { evaluate, meanLoss: () => meanLoss };
}
