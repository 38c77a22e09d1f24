import type { MulticlassMetrics } from '../shared/model-metrics';
import { probabilityClip, rocAuc } from './metrics-common';

/**
 * Metrics of a multiclass model, as scikit-learn defines them, from the true class codes (index
 * into `classes`) and the class probabilities, row-major (K per row, in `classes` order):
 * - the predicted class is the most probable, ties going to the lowest index (numpy's argmax);
 * - per class: precision tp / predicted, recall tp / support, F1 = 2·tp / (support + predicted),
 *   each 0 when its denominator is 0 (zero_division=0);
 * - macro averages run over the classes that occur in the labels or the predictions (sklearn's
 *   default label set), so a class of the model absent from the test rows and never predicted
 *   does not pull them down; weighted averages weigh each class by its support;
 * - log loss: mean -log P(true class), probabilities clipped to [1e-15, 1 - 1e-15];
 * - ROC AUC one-vs-rest, macro: the mean over classes of the binary AUC of "this class vs the
 *   others" on that class's probability (ties count half), over the classes with both positive and
 *   negative rows (sklearn refuses a class without; NaN when no class qualifies).
 */
export function multiclassMetrics(
  codes: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  classes: readonly string[],
): MulticlassMetrics {
  const n = codes.length;
  const k = classes.length;
  if (k < 2) throw new Error(`need at least 2 classes, got ${k}`);
  if (n === 0) throw new Error('cannot compute metrics of zero predictions');
  if (probabilities.length !== n * k) throw new Error(`got ${probabilities.length} probabilities for ${n} rows of ${k} classes`);

  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  let logLossSum = 0;
  for (let i = 0; i < n; i++) {
    const code = codes[i];
    if (!(Number.isInteger(code) && code >= 0 && code < k)) throw new Error(`label ${i} must be a class index in 0..${k - 1}, got ${code}`);
    let predicted = 0;
    for (let c = 0; c < k; c++) {
      const p = probabilities[i * k + c];
      if (!(p >= 0 && p <= 1))
        throw new Error(`probability of class ${JSON.stringify(classes[c])} in row ${i} must lie in [0, 1], got ${p}`);
      if (p > probabilities[i * k + predicted]) predicted = c;
    }
    confusion[code][predicted]++;
    if (predicted === code) correct++;
    const p = Math.min(Math.max(probabilities[i * k + code], probabilityClip), 1 - probabilityClip);
    logLossSum -= Math.log(p);
  }

  const perClass = classes.map((name, c) => {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((sum, count) => sum + count, 0);
    const predicted = confusion.reduce((sum, row) => sum + row[c], 0);
    return {
      class: name,
      support,
      predicted,
      precision: predicted > 0 ? tp / predicted : 0,
      recall: support > 0 ? tp / support : 0,
      f1: support + predicted > 0 ? (2 * tp) / (support + predicted) : 0,
    };
  });
  const averaged = perClass.filter(({ support, predicted }) => support > 0 || predicted > 0);
  const macro = (metric: 'precision' | 'recall' | 'f1') => averaged.reduce((sum, c) => sum + c[metric], 0) / averaged.length;
  const weighted = (metric: 'precision' | 'recall' | 'f1') => perClass.reduce((sum, c) => sum + c[metric] * c.support, 0) / n;

  return {
    task: 'multiclass',
    n,
    classes: [...classes],
    accuracy: correct / n,
    precisionMacro: macro('precision'),
    recallMacro: macro('recall'),
    f1Macro: macro('f1'),
    precisionWeighted: weighted('precision'),
    recallWeighted: weighted('recall'),
    f1Weighted: weighted('f1'),
    logLoss: logLossSum / n,
    rocAucOvr: oneVsRestRocAuc(codes, probabilities, k),
    perClass: perClass.map(({ class: name, support, precision, recall, f1 }) => ({ class: name, support, precision, recall, f1 })),
    confusionMatrix: confusion,
  };
}

function oneVsRestRocAuc(codes: ArrayLike<number>, probabilities: ArrayLike<number>, k: number): number {
  const n = codes.length;
  const isClass = new Uint8Array(n);
  const scores = new Float64Array(n);
  let sum = 0;
  let counted = 0;
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      isClass[i] = codes[i] === c ? 1 : 0;
      scores[i] = probabilities[i * k + c];
    }
    const auc = rocAuc(isClass, scores);
    if (Number.isNaN(auc)) continue;
    sum += auc;
    counted++;
  }
  return counted > 0 ? sum / counted : Number.NaN;
}
