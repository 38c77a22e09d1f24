import type { ModelContract } from '../../shared/model-contract';
import { rawFeatureInputs } from './feature-nodes';
import { tensorValueInfo } from './graph-builder';
import { DataType, encodeModel, type NodeProto, type TensorProto } from './onnx-proto';

/**
 * Encodes a keel model's graph (its feature nodes plus the model's own nodes) with the inputs,
 * outputs and metadata of its contract: every exporter (linear models and GBDT) writes the same
 * envelope. Opsets ONNX 13 and ai.onnx.ml 3 (or `mlOpset`). No timestamps or producer versions: the bytes depend
 * on the model only.
 */
export function encodeKeelModel(args: {
  graphName: string;
  docString: string;
  kind: string;
  /** GBDT's objective, written as `keel.objective` (linear models have none: their kind says it). */
  objective?: string;
  target: string;
  /** Written as is into the metadata (a binary contract has no `task`, see model.ts). */
  contract: Pick<ModelContract, 'inputs'> & {
    outputs: readonly { name: string; type: 'float32' | 'int64'; shape: readonly [number, number] }[];
  };
  nodes: NodeProto[];
  initializers: TensorProto[];
  /** ai.onnx.ml opset: 3 unless a node needs a later one (5 for TreeEnsemble). */
  mlOpset?: number;
}): Uint8Array {
  const { contract } = args;
  return encodeModel({
    ir_version: 8,
    opset_import: [
      { domain: '', version: 13 },
      { domain: 'ai.onnx.ml', version: args.mlOpset ?? 3 },
    ],
    producer_name: 'keel',
    doc_string: args.docString,
    graph: {
      name: args.graphName,
      node: args.nodes,
      initializer: args.initializers,
      input: rawFeatureInputs(contract.inputs),
      output: contract.outputs.map(({ name, type, shape }) =>
        tensorValueInfo(name, type === 'float32' ? DataType.FLOAT : DataType.INT64, ['N', shape[1]]),
      ),
    },
    metadata_props: [
      { key: 'keel.model_kind', value: args.kind },
      ...(args.objective === undefined ? [] : [{ key: 'keel.objective', value: args.objective }]),
      { key: 'keel.target', value: args.target },
      { key: 'keel.contract', value: JSON.stringify(contract) },
    ],
  });
}
