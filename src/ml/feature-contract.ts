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
    default:
      throw new Error(`no model input type for feature kind "${kind}"`);
  }
}
