import type { OutputValues } from '../ml/batch-score';
import type { ModelContract } from '../shared/model-contract';

/** A column of a scored chunk, in the type every writer maps to its own (parquet, SQL, CSV). */
export type ScoredColumn =
  | { name: string; type: 'double'; values: (number | null)[] }
  | { name: string; type: 'integer'; values: number[] }
  | { name: string; type: 'text'; values: (string | null)[] };

/** What one chunk produced: `job_id` and `row_index` first, then the model's outputs. */
export interface ScoredChunk {
  rowCount: number;
  columns: ScoredColumn[];
}

/** The ONNX outputs a task's answer is made of. */
export function answerOutputs(contract: ModelContract): string[] {
  const task = taskOf(contract);
  return task === 'binary' ? ['probability', 'label'] : task === 'regression' ? ['prediction'] : ['probabilities', 'label'];
}

/** A contract without a task is binary (stored before tasks existed, and binary GBDT contracts). */
function taskOf(contract: ModelContract) {
  return contract.task ?? 'binary';
}

/**
 * The model's outputs as the model server answers them (src/serving/task-outputs.ts): binary
 * `probability` and `label` (0/1), regression `prediction`, multiclass `label` (the class) and
 * `probabilities` (JSON object class → probability). Numbers are the float32 values ORT returns,
 * read as JavaScript numbers, so they equal the server's to the bit; NaN becomes null as in JSON.
 */
export function scoredChunk(
  contract: ModelContract,
  outputs: Record<string, OutputValues>,
  rows: { jobId: string; start: number; count: number },
): ScoredChunk {
  const { count } = rows;
  const columns: ScoredColumn[] = [
    { name: 'job_id', type: 'text', values: new Array<string>(count).fill(rows.jobId) },
    { name: 'row_index', type: 'integer', values: Array.from({ length: count }, (_, i) => rows.start + i) },
  ];
  const number = (value: number) => (Number.isFinite(value) ? value : null);
  switch (taskOf(contract)) {
    case 'binary': {
      const probability = outputs.probability as Float32Array;
      const label = outputs.label as BigInt64Array;
      columns.push({ name: 'probability', type: 'double', values: Array.from(probability, number) });
      columns.push({ name: 'label', type: 'integer', values: Array.from(label, Number) });
      break;
    }
    case 'regression':
      columns.push({ name: 'prediction', type: 'double', values: Array.from(outputs.prediction as Float32Array, number) });
      break;
    case 'multiclass': {
      const classes = contract.classes ?? [];
      const k = classes.length;
      const p = outputs.probabilities as Float32Array;
      const label = outputs.label as BigInt64Array;
      columns.push({ name: 'label', type: 'text', values: Array.from(label, (index) => classes[Number(index)] ?? null) });
      columns.push({
        name: 'probabilities',
        type: 'text',
        values: Array.from({ length: count }, (_, i) =>
          JSON.stringify(Object.fromEntries(classes.map((c, j) => [c, number(p[i * k + j])]))),
        ),
      });
      break;
    }
  }
  return { rowCount: count, columns };
}
