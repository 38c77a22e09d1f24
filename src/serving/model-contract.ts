import { z } from 'zod';

/**
 * The contract a registered model version stores in `model_versions.contract`: one [N,1] input
 * per raw feature (float32 numeric, string categorical) and the `probability`/`label` outputs.
 * The server trusts neither the database row nor the artifact blindly: the contract is parsed
 * here, and checked against the ONNX graph, before a version is allowed to serve.
 */
export const modelContractSchema = z
  .object({
    inputs: z
      .array(z.object({ name: z.string().min(1), type: z.enum(['float32', 'string']) }))
      .min(1)
      .refine((inputs) => new Set(inputs.map((i) => i.name)).size === inputs.length, 'input names must be unique'),
    outputs: z.array(
      z.object({
        name: z.enum(['probability', 'label']),
        type: z.enum(['float32', 'int64']),
        shape: z.tuple([z.literal(-1), z.literal(1)]),
      }),
    ),
  })
  .refine(
    (c) =>
      c.outputs.some((o) => o.name === 'probability' && o.type === 'float32') &&
      c.outputs.some((o) => o.name === 'label' && o.type === 'int64'),
    'outputs must include probability (float32) and label (int64)',
  );
export type ModelContract = z.infer<typeof modelContractSchema>;

export function parseModelContract(value: unknown): ModelContract {
  const result = modelContractSchema.safeParse(value);
  if (result.success) return result.data;
  throw new Error(`invalid model contract: ${z.prettifyError(result.error)}`);
}

/**
 * What a loaded ONNX graph declares, as plain data: a worker thread creates the session and sends
 * this back, so the contract can be checked on the main thread.
 */
export interface GraphSignature {
  inputs: { name: string; isTensor: boolean; type?: string }[];
  outputNames: string[];
}

/**
 * Throws unless every contract input is a tensor input of the graph with the same element type,
 * the graph has no other inputs, and both outputs exist: a mismatch would otherwise surface as
 * a failed request per call instead of one refused version.
 */
export function assertSignatureMatchesContract(graph: GraphSignature, contract: ModelContract): void {
  const problems: string[] = [];
  const graphInputs = new Map(graph.inputs.map((m) => [m.name, m]));
  for (const input of contract.inputs) {
    const meta = graphInputs.get(input.name);
    if (!meta) problems.push(`graph has no input "${input.name}"`);
    else if (!meta.isTensor || meta.type !== input.type) {
      problems.push(`graph input "${input.name}" is not a ${input.type} tensor`);
    }
    graphInputs.delete(input.name);
  }
  for (const name of graphInputs.keys()) problems.push(`graph input "${name}" is not in the contract`);
  for (const output of contract.outputs) {
    if (!graph.outputNames.includes(output.name)) problems.push(`graph has no output "${output.name}"`);
  }
  if (problems.length > 0) throw new Error(`ONNX graph does not match its contract: ${problems.join('; ')}`);
}
