import { z } from 'zod';
import { type ContractOutput, contractOutputs, type ModelContract, modelContractSchema } from '../shared/model-contract';

export function parseModelContract(value: unknown): ModelContract {
  const result = modelContractSchema.safeParse(value);
  if (result.success) return result.data;
  throw new Error(`invalid model contract: ${z.prettifyError(result.error)}`);
}

/** One input or output of a loaded graph, as onnxruntime describes it. */
interface GraphValue {
  name: string;
  isTensor: boolean;
  /** onnxruntime's element type (`float32`, `float64`, `string`, `int64`…) for a tensor. */
  type?: string;
  /** Declared dimensions; symbolic ones are strings, unknown ones absent. */
  shape?: readonly (number | string)[];
}

/**
 * What a loaded ONNX graph declares, as plain data: a worker thread creates the session and sends
 * this back, so the contract can be checked on the main thread.
 */
export interface GraphSignature {
  inputs: GraphValue[];
  outputs: GraphValue[];
}

/**
 * The outputs the server reads from a session and answers with: exactly those the model's task
 * defines (the schema guarantees the contract lists them), with their widths (K for multiclass
 * probabilities, else 1). Other outputs a contract may list are not fetched.
 */
export function servedOutputs(contract: ModelContract): ContractOutput[] {
  return contractOutputs(contract.task, contract.classes?.length);
}

/**
 * Throws unless every contract input is a tensor input of the graph with the same element type
 * (float32, string, or float64 for timestamps), the graph has no other inputs, and every
 * contract output is a tensor output of the graph with the contract's element type and, where
 * the graph declares it, the contract's width: a mismatch would otherwise surface as a failed
 * request per call instead of one refused version.
 */
export function assertSignatureMatchesContract(graph: GraphSignature, contract: ModelContract): void {
  const problems: string[] = [];
  const graphInputs = new Map(graph.inputs.map((m) => [m.name, m]));
  for (const input of contract.inputs) {
    const meta = graphInputs.get(input.name);
    if (!meta) problems.push(`graph has no input "${input.name}"`);
    else if (!meta.isTensor || meta.type !== input.type) {
      problems.push(`graph input "${input.name}" is not a ${input.type} tensor${meta.type ? ` (it is ${meta.type})` : ''}`);
    }
    graphInputs.delete(input.name);
  }
  for (const name of graphInputs.keys()) problems.push(`graph input "${name}" is not in the contract`);
  const graphOutputs = new Map(graph.outputs.map((m) => [m.name, m]));
  for (const output of servedOutputs(contract)) {
    const meta = graphOutputs.get(output.name);
    if (!meta) {
      problems.push(`graph has no output "${output.name}"`);
      continue;
    }
    if (!meta.isTensor || meta.type !== output.type) {
      problems.push(`graph output "${output.name}" is not a ${output.type} tensor${meta.type ? ` (it is ${meta.type})` : ''}`);
      continue;
    }
    const width = meta.shape?.[1];
    if (meta.shape && meta.shape.length !== 2 && meta.shape.length !== 0) {
      problems.push(`graph output "${output.name}" has ${meta.shape.length} dimensions, the contract says [N, ${output.shape[1]}]`);
    } else if (typeof width === 'number' && width !== output.shape[1]) {
      problems.push(`graph output "${output.name}" has width ${width}, the contract says ${output.shape[1]}`);
    }
  }
  if (problems.length > 0) throw new Error(`ONNX graph does not match its contract: ${problems.join('; ')}`);
}
