import { describe, expect, it } from 'vitest';
import { regressionMetrics } from '../../src/ml/metrics-regression';
import { multiclassMetrics } from '../../src/ml/metrics-multiclass';
import { binaryClassificationMetrics } from '../../src/ml/metrics';
import { sklearnReference } from './support/sklearn';
import { seededNormal, seededRandom } from './support/synthetic';

/** keel's metrics and scikit-learn's on identical predictions agree to 1e-9 (issue #4). */
const tolerance = 1e-9;

function expectAgree(keel: number, sklearn: number, what: string): void {
  expect(Math.abs(keel - sklearn), `${what}: keel ${keel}, sklearn ${sklearn}`).toBeLessThanOrEqual(
    tolerance * Math.max(1, Math.abs(sklearn)),
  );
}

describe('metrics agree with scikit-learn', () => {
  it('regression: RMSE, MAE, R²', () => {
    const normal = seededNormal(41);
    const cases = [7, 500, 5_000].map((n) => {
      const yTrue = Array.from({ length: n }, () => 250_000 + 80_000 * normal());
      return { yTrue, yPred: yTrue.map((y) => y + 30_000 * normal() + 5_000) };
    });
    const answers = sklearnReference<{ rmse: number; mae: number; r2: number }>(
      cases.map(({ yTrue, yPred }) => ({ kind: 'regression', y_true: yTrue, y_pred: yPred })),
    );
    cases.forEach(({ yTrue, yPred }, c) => {
      const keel = regressionMetrics(yTrue, yPred);
      const sklearn = answers[c];
      const at = `n=${yTrue.length}`;
      expectAgree(keel.rmse, sklearn.rmse, `rmse ${at}`);
      expectAgree(keel.mae, sklearn.mae, `mae ${at}`);
      expectAgree(keel.r2, sklearn.r2, `r2 ${at}`);
    });
  });

  it('multiclass: accuracy, macro and weighted precision/recall/F1, log loss, OvR ROC AUC, confusion matrix', () => {
    const random = seededRandom(43);
    const cases = (
      [
        [60, 3],
        [2_000, 5],
        [300, 2],
        [40, 6],
      ] as const
    ).map(([n, k]) => {
      // Coarse probabilities (whole eighths before normalising): ties occur in argmax and in the AUC ranks.
      const proba: number[] = [];
      const codes: number[] = [];
      for (let i = 0; i < n; i++) {
        const raw = Array.from({ length: k }, () => Math.floor(random() * 8) + 1);
        const sum = raw.reduce((a, b) => a + b, 0);
        proba.push(...raw.map((r) => r / sum));
        // Every class once, then labels that follow the probabilities half of the time.
        const likely = raw.indexOf(Math.max(...raw));
        codes.push(i < k ? i : random() < 0.5 ? likely : Math.floor(random() * k));
      }
      return { n, k, codes, proba };
    });
    const answers = sklearnReference<{
      accuracy: number;
      macro: number[];
      weighted: number[];
      per_class: number[][];
      support: number[];
      log_loss: number;
      roc_auc_ovr: number;
      confusion: number[][];
    }>(
      cases.map(({ n, k, codes, proba }) => ({
        kind: 'multiclass',
        codes,
        proba: Array.from({ length: n }, (_, i) => proba.slice(i * k, i * k + k)),
        k,
      })),
    );
    cases.forEach(({ n, k, codes, proba }, index) => {
      const keel = multiclassMetrics(
        codes,
        proba,
        Array.from({ length: k }, (_, c) => `class ${c}`),
      );
      const sklearn = answers[index];
      const at = `n=${n} k=${k}`;
      expectAgree(keel.accuracy, sklearn.accuracy, `accuracy ${at}`);
      expectAgree(keel.precisionMacro, sklearn.macro[0], `precision macro ${at}`);
      expectAgree(keel.recallMacro, sklearn.macro[1], `recall macro ${at}`);
      expectAgree(keel.f1Macro, sklearn.macro[2], `f1 macro ${at}`);
      expectAgree(keel.precisionWeighted, sklearn.weighted[0], `precision weighted ${at}`);
      expectAgree(keel.recallWeighted, sklearn.weighted[1], `recall weighted ${at}`);
      expectAgree(keel.f1Weighted, sklearn.weighted[2], `f1 weighted ${at}`);
      expectAgree(keel.logLoss, sklearn.log_loss, `log loss ${at}`);
      expectAgree(keel.rocAucOvr, sklearn.roc_auc_ovr, `roc auc ovr ${at}`);
      keel.perClass.forEach((c, i) => {
        expectAgree(c.precision, sklearn.per_class[0][i], `precision of ${c.class} ${at}`);
        expectAgree(c.recall, sklearn.per_class[1][i], `recall of ${c.class} ${at}`);
        expectAgree(c.f1, sklearn.per_class[2][i], `f1 of ${c.class} ${at}`);
        expect(c.support).toBe(sklearn.support[i]);
      });
      expect(keel.confusionMatrix).toEqual(sklearn.confusion);
    });
  });

  it('binary: accuracy, precision, recall, F1, ROC AUC, log loss', () => {
    const random = seededRandom(47);
    const n = 1_000;
    // Two decimals: many tied scores.
    const proba = Array.from({ length: n }, () => Math.min(Math.max(Math.round(random() * 100) / 100, 0.001), 0.999));
    const yTrue = proba.map((p) => (random() < 0.3 + 0.4 * p ? 1 : 0));
    const thresholds = [0.5, 0.37];
    const answers = sklearnReference<Record<string, number>>(
      thresholds.map((threshold) => ({ kind: 'binary', y_true: yTrue, proba, threshold })),
    );
    thresholds.forEach((threshold, index) => {
      const keel = binaryClassificationMetrics(yTrue, proba, threshold);
      const pairs = [
        ['accuracy', 'accuracy'],
        ['precision', 'precision'],
        ['recall', 'recall'],
        ['f1', 'f1'],
        ['rocAuc', 'roc_auc'],
        ['logLoss', 'log_loss'],
      ] as const;
      for (const [name, key] of pairs) expectAgree(keel[name], answers[index][key], `${name} at threshold ${threshold}`);
    });
  });
});
