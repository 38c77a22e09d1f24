import type { GateSpec } from './pipeline-input';
import type { BinaryMetrics } from './pipeline-result';

export interface GateDecision {
  passed: boolean;
  /** Every failed check, or why it passed; recorded with the training run. */
  reasons: string[];
}

/**
 * The Evaluator's blessing: absolute thresholds, plus "not worse than production by more than X"
 * when a production version was scored on the same test split. Pure: runs in the workflow.
 */
export function decideGate(
  gate: GateSpec,
  candidate: Pick<BinaryMetrics, 'rocAuc'>,
  production?: { version: number; metrics: Pick<BinaryMetrics, 'rocAuc'> },
): GateDecision {
  const failures: string[] = [];
  const auc = candidate.rocAuc;
  if (!(auc >= gate.minRocAuc)) failures.push(`ROC AUC ${fmt(auc)} is below the minimum ${gate.minRocAuc}`);
  if (production && Number.isFinite(production.metrics.rocAuc)) {
    const floor = production.metrics.rocAuc - gate.maxDropVsProduction;
    if (!(auc >= floor)) {
      failures.push(
        `ROC AUC ${fmt(auc)} trails production v${production.version} (${fmt(production.metrics.rocAuc)}) by more than ${gate.maxDropVsProduction}`,
      );
    }
  }
  if (failures.length) return { passed: false, reasons: failures };
  return {
    passed: true,
    reasons: [
      `ROC AUC ${fmt(auc)} ≥ ${gate.minRocAuc}` +
        (production ? `, within ${gate.maxDropVsProduction} of production v${production.version} (${fmt(production.metrics.rocAuc)})` : ', no production version to compare with'),
    ],
  };
}

function fmt(value: number): string {
  return Number.isFinite(value) ? value.toFixed(4) : String(value);
}
