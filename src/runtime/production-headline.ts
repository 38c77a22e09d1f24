import type { ModelVersion } from '../registry/model-registry';
import { binaryMetricsOf, type ModelMetrics } from '../shared/model-metrics';

/**
 * The `Model` line `npm start` prints for the flights model in production. The README quotes it,
 * and the flights scenario test checks the quote against a fresh training of the same pipeline.
 */
export function productionHeadline(version: Pick<ModelVersion, 'modelName' | 'version' | 'metrics'>): string {
  const m = binaryMetricsOf(version.metrics as ModelMetrics);
  return `${version.modelName} v${version.version} (production): ROC AUC ${m.rocAuc.toFixed(4)}, accuracy ${m.accuracy.toFixed(4)}, F1 ${m.f1.toFixed(4)} on ${m.n} test flights`;
}
