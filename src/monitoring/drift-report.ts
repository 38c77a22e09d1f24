import { populationStabilityIndex, psiSeverity, type FeatureReference } from './psi';
import { ReferenceSchemaError } from './reference';

interface FeatureDrift {
  feature: string;
  psi: number;
  severity: ReturnType<typeof psiSeverity>;
  drifted: boolean;
  /** Logged rows that carried this feature (the others are counted as missing). */
  n: number;
}

export interface DriftReport {
  status: 'ok' | 'drift' | 'insufficient_data';
  rowCount: number;
  features: FeatureDrift[];
  message: string;
}

/**
 * Compares logged prediction inputs with the training reference, feature by feature, with the
 * Population Stability Index. Too few rows give an "insufficient data" report, never an alarm;
 * features without a reference throw a ReferenceSchemaError naming all of them.
 *
 * The PSI-only report the foundation's monitor activity uses; evaluateDrift (./drift) is the full
 * check (KS, chi², Jensen–Shannon, Wasserstein, PSI, chosen per column).
 */
export function computeDriftReport(options: {
  references: Record<string, FeatureReference>;
  features: string[];
  inputs: Record<string, unknown>[];
  minRows: number;
  psiThreshold: number;
}): DriftReport {
  const { references, features, inputs, minRows, psiThreshold } = options;
  const unreferenced = features.filter((feature) => !references[feature]);
  if (unreferenced.length) throw new ReferenceSchemaError(unreferenced, {});
  if (inputs.length < minRows) {
    return {
      status: 'insufficient_data',
      rowCount: inputs.length,
      features: [],
      message: `not enough data: ${inputs.length} logged predictions in the window, ${minRows} needed`,
    };
  }
  const results = features.map((feature): FeatureDrift => {
    const reference = references[feature];
    const values = inputs.map((row) => toReferenceValue(reference, row[feature]));
    const { psi, n } = populationStabilityIndex(reference, values);
    return { feature, psi, severity: psiSeverity(psi), drifted: psi >= psiThreshold, n };
  });
  const drifted = results.filter((r) => r.drifted).map((r) => r.feature);
  return {
    status: drifted.length ? 'drift' : 'ok',
    rowCount: inputs.length,
    features: results,
    message: drifted.length ? `drift in ${drifted.join(', ')} (PSI >= ${psiThreshold})` : `no feature reached PSI ${psiThreshold}`,
  };
}

function toReferenceValue(reference: FeatureReference, value: unknown): number | string | null {
  if (value === null || value === undefined || value === '') return null;
  if (reference.kind === 'numeric') {
    const number = typeof value === 'number' ? value : Number(value);
    return Number.isFinite(number) ? number : null;
  }
  return String(value);
}
