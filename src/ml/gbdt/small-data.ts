import type { GbdtParams } from './params';

/** Parameters with the data-dependent defaults filled in: what training uses and the model records. */
export type ResolvedGbdtParams = GbdtParams & { minSamplesLeaf: number; minHessianLeaf: number };

/** Validation iterations without improvement before training stops, when the config does not say. */
const defaultEarlyStoppingRounds = 20;

/**
 * Fills in the defaults that depend on the data (evidence: `npm run bench:small`, docs/features.md):
 * - `minSamplesLeaf`: LightGBM's 20, which also measured best on tables of 150–570 rows (a
 *   fiftieth of the rows overfitted cars and wine); below 200 training rows a tenth of them, so
 *   a tree can still grow a few leaves;
 * - `minHessianLeaf`: LightGBM's 1e-3 per leaf, raised to 1e-2 per row of the smallest leaf for
 *   classification: a leaf whose rows are all predicted at p ≈ 0 or 1 (no hessian left) stops
 *   splitting, which keeps small-data probabilities away from 0/1;
 * - `earlyStoppingRounds`: on (20) whenever there are validation rows; 0 turns it off.
 */
export function resolveGbdtParams(params: GbdtParams, trainRows: number, hasValidation: boolean): ResolvedGbdtParams {
  const minSamplesLeaf = params.minSamplesLeaf ?? Math.min(20, Math.max(1, Math.floor(trainRows / 10)));
  const minHessianLeaf = params.minHessianLeaf ?? (params.objective === 'regression' ? 1e-3 : Math.max(1e-3, 1e-2 * minSamplesLeaf));
  const rounds = params.earlyStoppingRounds ?? (hasValidation ? defaultEarlyStoppingRounds : 0);
  const { earlyStoppingRounds: _given, ...rest } = params;
  return { ...rest, minSamplesLeaf, minHessianLeaf, ...(rounds > 0 && hasValidation && { earlyStoppingRounds: rounds }) };
}
