import { FeatureContractError } from '../shared/errors';
import type { ContractInputType } from '../shared/model-contract';

/**
 * The raw model inputs a fitted feature pipeline reads: one [N,1] tensor per feature, named as
 * the feature. Every model family's contract and ONNX graph inputs come from here, so a new
 * feature kind needs one new line, not one per exporter.
 */
export function contractInputs(features: readonly { name: string; kind: string }[]): { name: string; type: ContractInputType }[] {
  return features.map(({ name, kind }) => ({ name, type: inputTypeOf(kind) }));
}

function inputTypeOf(kind: string): ContractInputType {
  switch (kind) {
    case 'numeric':
      return 'float32';
    case 'categorical':
      return 'string';
    // Booleans arrive as text ("true", "1", "yes"…, see readBoolean), which also carries "missing" ('').
    case 'boolean':
      return 'string';
    // Milliseconds since 1970 need float64: float32 would round them to about 4 minutes today.
    case 'datetime':
      return 'float64';
    default:
      throw new FeatureContractError(`no model input type for feature kind "${kind}"`);
  }
}
