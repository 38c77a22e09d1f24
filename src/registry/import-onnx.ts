import { InferenceSession, Tensor } from 'onnxruntime-node';
import { getDatasetVersion, sampleDatasetRows } from '../data/dataset-store';
import type { Db } from '../db/database';
import { parseModelContract, type ModelContract } from '../serving/model-contract';
import type { ArtifactStore } from './artifact-store';
import { findVersionByIdempotencyKey, type ModelVersion, registerModelVersion } from './model-registry';
import { RegistryError, validateModelName } from './names';

/** A feature of an imported model's contract: one [N,1] input tensor. */
export interface DeclaredFeature {
  name: string;
  type: 'float32' | 'string';
}

export interface ImportRequest {
  model: string;
  bytes: Uint8Array;
  /** For messages and the recorded provenance. */
  fileName: string;
  features: DeclaredFeature[];
  creator: string;
  description?: string;
  tags?: Record<string, string>;
  /** A keel dataset version the model was trained on (lineage, and the sample batch comes from it). */
  datasetVersionId?: string;
  /** Anything known about how it was made (framework, hyperparameters). */
  params?: Record<string, unknown>;
  metrics?: Record<string, number>;
}

export interface ImportResult {
  version: ModelVersion;
  /** false when the same bytes were already imported under this name (the import is idempotent). */
  created: boolean;
  sample: { rows: number; source: 'dataset' | 'synthetic'; probabilities: number[]; labels: number[] };
}

/**
 * Registers an externally produced ONNX model (e.g. exported from scikit-learn) under keel's
 * serving contract: one [N,1] input per declared feature (float32 numeric, string categorical)
 * and the outputs `probability` (float32) and `label` (int64). Before anything is stored the file
 * is loaded in onnxruntime, its graph is checked against the declared contract, and a sample
 * batch (rows of the given dataset version, else synthetic rows) must produce probabilities in
 * [0, 1] and 0/1 labels. Importing the same bytes under the same name again returns the version
 * made the first time.
 */
export async function importOnnxModel(db: Db, artifacts: ArtifactStore, request: ImportRequest): Promise<ImportResult> {
  validateModelName(request.model);
  const contract = declaredContract(request.features);
  const session = await loadOnnx(request.bytes, request.fileName);
  try {
    checkGraph(session, contract, request.fileName);
    const dataset = request.datasetVersionId ? await getDatasetVersion(db, request.datasetVersionId) : undefined;
    if (request.datasetVersionId && !dataset) throw new RegistryError(`dataset version ${request.datasetVersionId} does not exist`);
    const rows = dataset ? await datasetSample(db, dataset.id, dataset.columns, contract) : syntheticSample(contract);
    const outputs = await runSample(session, contract, rows, request.fileName);

    const sha = await artifacts.put(request.bytes);
    const idempotencyKey = `import/${request.model}/${sha}`;
    const earlier = await findVersionByIdempotencyKey(db, idempotencyKey);
    const version = await registerModelVersion(db, {
      modelName: request.model,
      idempotencyKey,
      artifactSha256: sha,
      artifactBytes: request.bytes.byteLength,
      contract,
      params: { imported: { file: request.fileName }, ...request.params },
      metrics: request.metrics ?? {},
      datasetVersionId: dataset?.id ?? '',
      datasetHash: dataset?.contentHash ?? '',
      trainingRunId: '',
      gitCommit: null,
      gitDirty: null,
      workflowId: '',
      runId: '',
      creator: request.creator,
      description: request.description ?? '',
      tags: request.tags ?? {},
      featurePipeline: null,
      source: 'import',
    });
    return {
      version,
      created: !earlier,
      sample: { rows: rows.length, source: dataset ? 'dataset' : 'synthetic', probabilities: outputs.probabilities, labels: outputs.labels },
    };
  } finally {
    await session.release();
  }
}

/** Parses `distance:float32,origin:string` (also `numeric`/`categorical` for the types). */
export function parseFeatureList(text: string): DeclaredFeature[] {
  const features = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [name, kind] = part.split(':').map((s) => s.trim());
      const type = { float32: 'float32', numeric: 'float32', float: 'float32', string: 'string', categorical: 'string' }[kind ?? ''];
      if (!name || !type) {
        throw new RegistryError(`invalid feature "${part}": write name:float32 (numeric) or name:string (categorical)`);
      }
      return { name, type } as DeclaredFeature;
    });
  if (features.length === 0) throw new RegistryError('declare at least one feature (name:float32 or name:string)');
  return features;
}

function declaredContract(features: DeclaredFeature[]): ModelContract {
  try {
    return parseModelContract({
      inputs: features,
      outputs: [
        { name: 'probability', type: 'float32', shape: [-1, 1] },
        { name: 'label', type: 'int64', shape: [-1, 1] },
      ],
    });
  } catch (error) {
    throw new RegistryError(`invalid feature contract: ${(error as Error).message}`);
  }
}

async function loadOnnx(bytes: Uint8Array, fileName: string): Promise<InferenceSession> {
  const hint = sniff(bytes);
  if (bytes.byteLength === 0) throw new RegistryError(`"${fileName}" is empty, not an ONNX model`);
  if (hint) throw new RegistryError(`"${fileName}" is not an ONNX model: it ${hint}`);
  try {
    return await InferenceSession.create(bytes);
  } catch (error) {
    const reason = ((error as Error).message ?? String(error)).split('\n')[0];
    throw new RegistryError(`"${fileName}" is not a valid ONNX model: onnxruntime could not load it (${reason})`);
  }
}

/** Recognises files people mistake for ONNX models, to say what they are. */
function sniff(bytes: Uint8Array): string | undefined {
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 64));
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    return 'is a zip archive (a PyTorch checkpoint or a Keras file?); export the model to ONNX first';
  }
  if (bytes[0] === 0x80 && bytes[1] !== undefined && bytes[1] >= 2 && bytes[1] <= 5) {
    return 'is a Python pickle (a scikit-learn .pkl or joblib file?); convert it with skl2onnx first';
  }
  if (bytes[0] === 0x89 && head.slice(1, 4) === 'HDF') return 'is an HDF5 file (a Keras .h5 model?); convert it with tf2onnx first';
  if (/^\s*[{[]/.test(head)) return 'is JSON text';
  if (/^(PAR1)/.test(head)) return 'is a Parquet file';
  if (bytes.byteLength > 0 && /^[\x09\x0a\x0d\x20-\x7e]+$/.test(head) && head.length >= Math.min(16, bytes.byteLength)) return 'is plain text';
  return undefined;
}

function checkGraph(session: InferenceSession, contract: ModelContract, fileName: string): void {
  const problems: string[] = [];
  const graphInputs = new Map(session.inputMetadata.map((m) => [m.name, m]));
  for (const input of contract.inputs) {
    const meta = graphInputs.get(input.name);
    if (!meta) problems.push(`the graph has no input "${input.name}"`);
    else if (!meta.isTensor || meta.type !== input.type) {
      const actual = meta.isTensor ? `a ${meta.type} tensor` : 'not a tensor';
      problems.push(`input "${input.name}" is ${actual}, declared ${input.type}`);
    }
    graphInputs.delete(input.name);
  }
  for (const name of graphInputs.keys()) problems.push(`graph input "${name}" is not declared`);
  for (const output of contract.outputs) {
    if (!session.outputNames.includes(output.name)) problems.push(`the graph has no output "${output.name}" (${output.type} [N,1])`);
  }
  if (problems.length > 0) {
    const inputs = session.inputMetadata.map((m) => `${m.name}:${m.isTensor ? m.type : '?'}`).join(', ');
    throw new RegistryError(
      `"${fileName}" does not match the declared contract: ${problems.join('; ')} (graph inputs: ${inputs}; outputs: ${session.outputNames.join(', ')})`,
    );
  }
}

type SampleRow = Record<string, unknown>;

async function datasetSample(db: Db, datasetVersionId: string, columns: unknown, contract: ModelContract): Promise<SampleRow[]> {
  const names = new Set((columns as { name: string }[]).map((c) => c.name));
  const missing = contract.inputs.filter((i) => !names.has(i.name)).map((i) => i.name);
  if (missing.length > 0) throw new RegistryError(`dataset version ${datasetVersionId} has no column ${missing.map((m) => `"${m}"`).join(', ')}`);
  const rows = await sampleDatasetRows(db, datasetVersionId, 32);
  if (rows.length === 0) throw new RegistryError(`dataset version ${datasetVersionId} has no rows to test the model on`);
  return rows;
}

/** A few rows covering typical, extreme and missing values. */
function syntheticSample(contract: ModelContract): SampleRow[] {
  const numbers = [0, 1, -1, 1000, null];
  const strings = ['a', 'B', '0', 'unknown', null];
  return numbers.map((_, i) =>
    Object.fromEntries(contract.inputs.map(({ name, type }) => [name, type === 'float32' ? numbers[i] : strings[i]])),
  );
}

async function runSample(
  session: InferenceSession,
  contract: ModelContract,
  rows: SampleRow[],
  fileName: string,
): Promise<{ probabilities: number[]; labels: number[] }> {
  const n = rows.length;
  const feeds: Record<string, Tensor> = {};
  for (const { name, type } of contract.inputs) {
    if (type === 'float32') {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const value = rows[i][name];
        data[i] = typeof value === 'number' ? value : Number.NaN;
      }
      feeds[name] = new Tensor('float32', data, [n, 1]);
    } else {
      feeds[name] = new Tensor('string', rows.map((row) => (row[name] === null || row[name] === undefined ? '' : String(row[name]))), [n, 1]);
    }
  }
  let results: InferenceSession.OnnxValueMapType;
  try {
    results = await session.run(feeds);
  } catch (error) {
    throw new RegistryError(`"${fileName}" failed on a sample batch of ${n} rows: ${(error as Error).message.split('\n')[0]}`);
  }
  const probability = results.probability;
  const label = results.label;
  const problems: string[] = [];
  if (!(probability?.data instanceof Float32Array)) problems.push('output "probability" is not float32');
  else if (probability.data.length !== n) problems.push(`output "probability" has ${probability.data.length} values for ${n} rows (expected shape [N,1])`);
  else if (!Array.from(probability.data).every((p) => Number.isFinite(p) && p >= 0 && p <= 1)) {
    problems.push('output "probability" has values outside [0, 1]');
  }
  if (!(label?.data instanceof BigInt64Array)) problems.push('output "label" is not int64');
  else if (label.data.length !== n) problems.push(`output "label" has ${label.data.length} values for ${n} rows (expected shape [N,1])`);
  else if (!Array.from(label.data).every((l) => l === 0n || l === 1n)) problems.push('output "label" has values other than 0 and 1');
  if (problems.length > 0) throw new RegistryError(`"${fileName}" failed the sample batch: ${problems.join('; ')}`);
  return {
    probabilities: Array.from(probability.data as Float32Array),
    labels: Array.from(label.data as BigInt64Array, Number),
  };
}
