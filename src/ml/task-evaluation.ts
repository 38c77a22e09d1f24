import type { ModelTask } from '../shared/model-contract';
import type { ModelMetrics } from '../shared/model-metrics';
import { regressionMetrics } from './metrics-regression';
import { multiclassMetrics } from './metrics-multiclass';
import { binaryClassificationMetrics } from './metrics';
import { readCategory, readNumber } from './row';
import { contractOf, type TrainedModel } from './trained-model';
import { TargetError } from '../shared/errors';

/** What a model's scores mean, beyond its task: a binary model's threshold, a multiclass model's classes. */
export interface ScoreMeaning {
  task: ModelTask;
  /** binary: `label` is 1 when probability > threshold (default 0.5). */
  threshold?: number;
  /** multiclass: score column i is the probability of classes[i]. */
  classes?: readonly string[];
}

/** What a keel-trained model's scores mean, from its contract (and its threshold when binary). */
export function scoreMeaningOf(model: TrainedModel): ScoreMeaning {
  const { task, classes } = contractOf(model);
  return { task, classes, threshold: 'threshold' in model ? model.threshold : undefined };
}

/**
 * The metrics of a task from labels as stored in the dataset and a model's scores (row-major:
 * P(1), K class probabilities, or the prediction). Training, evaluation, production scoring and
 * bring-your-own models all go through here, so "accuracy" means one thing everywhere.
 *
 * Multiclass rows whose class the model never saw (absent from its training rows) still count:
 * they join the confusion matrix as an extra class with probability 0, so they are always wrong.
 */
export function metricsOfScores(meaning: ScoreMeaning, labels: readonly unknown[], scores: Float64Array): ModelMetrics {
  switch (meaning.task) {
    case 'binary':
      // Numbers or numeric strings (a driver may return text); binaryClassificationMetrics checks 0/1.
      return binaryClassificationMetrics(labels.map(readNumber), scores, meaning.threshold ?? 0.5);
    case 'regression': {
      const truth = Float64Array.from(labels, (value, row) => {
        const number = readNumber(value);
        if (Number.isNaN(number))
          throw new TargetError(
            `the target must be a finite number, but split row ${row + 1} has ${JSON.stringify(value) ?? String(value)}`,
          );
        return number;
      });
      return regressionMetrics(truth, scores);
    }
    case 'multiclass':
      return multiclassOfScores(meaning.classes ?? [], labels, scores);
  }
}

function multiclassOfScores(modelClasses: readonly string[], labels: readonly unknown[], scores: Float64Array): ModelMetrics {
  const k = modelClasses.length;
  if (k < 2) throw new Error('a multiclass model must name at least two classes');
  if (scores.length !== labels.length * k) throw new Error(`got ${scores.length} scores for ${labels.length} rows of ${k} classes`);
  const classes = [...modelClasses];
  const index = new Map(classes.map((name, i) => [name, i]));
  const codes = Int32Array.from(labels, (value, row) => {
    const name = readCategory(value);
    if (name === null) throw new TargetError(`the target is missing in split row ${row + 1}`);
    let code = index.get(name);
    if (code === undefined) {
      code = classes.length;
      index.set(name, code);
      classes.push(name);
    }
    return code;
  });
  if (classes.length === k) return multiclassMetrics(codes, scores, classes);
  const padded = new Float64Array(labels.length * classes.length);
  for (let row = 0; row < labels.length; row++) padded.set(scores.subarray(row * k, row * k + k), row * classes.length);
  return multiclassMetrics(codes, padded, classes);
}
