import { InferenceSession, Tensor } from 'onnxruntime-node';
import { getDatasetVersion, sampleDatasetRows } from '../data/dataset-store';
import type { Db } from '../db/database';
import { contractOutputs, modelContractSchema, modelTasks, type ModelContract, type ModelTask } from '../shared/model-contract';
import { readTimestamp } from '../ml/row';
import type { ArtifactStore } from './artifact-store';
import { findVersionByIdempotencyKey, type ModelVersion, registerModelVersion } from './model-registry';
import { RegistryError, validateModelName } from './names';

/** A feature of an imported model's contract: one [N,1] input tensor (float64: a timestamp in epoch ms). */
export interface DeclaredFeature {
  name: string;
  type: 'float32' | 'string' | 'float64';
}

export interface ImportRequest {
  model: string;
  bytes: Uint8Array;
  /** For messages and the recorded provenance. */
  fileName: string;
  features: DeclaredFeature[];
  /** What the model predicts (default binary); it decides the outputs the graph must have. */
  task?: ModelTask;
  /** Multiclass only: the class names, in the order of the `probabilities` columns. */
  classes?: string[];
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
  sample: SampleOutputs & { rows: number; source: 'dataset' | 'synthetic' };
}

/** What the sample batch produced, per task: P(1) and 0/1 labels; class probabilities and class names; predictions. */
type SampleOutputs =
  | { task: 'binary'; probabilities: number[]; labels: number[] }
  | { task: 'multiclass'; probabilities: number[][]; labels: string[] }
  | { task: 'regression'; predictions: number[] };

/**
 * Registers an externally produced ONNX model (e.g. exported from scikit-learn) under keel's
 * serving contract: one [N,1] input per declared feature (float32 numeric, string categorical or
 * boolean, float64 timestamp in epoch ms) and the outputs of its task (contractOutputs): binary
 * `probability` float32 [N,1] and `label` int64 [N,1]; multiclass `probabilities` float32 [N,K]
 * and `label` int64 [N,1] (an index into the declared classes); regression `prediction` float32
 * [N,1]. Before anything is stored the file is loaded in onnxruntime, its graph is checked against
 * the declared contract, and a sample batch (rows of the given dataset version, else synthetic
 * rows, missing values included) must produce sound outputs: binary probabilities in [0, 1] and
 * 0/1 labels; multiclass rows of K probabilities in [0, 1] summing to 1 (± 1e-3) and labels in
 * [0, K); finite regression predictions. Importing the same bytes under the same name again
 * returns the version made the first time.
 */
export async function importOnnxModel(db: Db, artifacts: ArtifactStore, request: ImportRequest): Promise<ImportResult> {
  validateModelName(request.model);
  const contract = declaredContract(request.features, request.task ?? 'binary', request.classes);
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
      sample: { rows: rows.length, source: dataset ? 'dataset' : 'synthetic', ...outputs },
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
      const types: Record<string, DeclaredFeature['type']> = {
        float32: 'float32',
        numeric: 'float32',
        float: 'float32',
        string: 'string',
        categorical: 'string',
        boolean: 'string',
        float64: 'float64',
        datetime: 'float64',
      };
      const type = Object.hasOwn(types, kind ?? '') ? types[kind] : undefined;
      if (!name || !type) {
        throw new RegistryError(
          `invalid feature "${part}": write name:float32 (numeric), name:string (categorical or boolean) or name:float64 (datetime, epoch ms)`,
        );
      }
      return { name, type };
    });
  if (features.length === 0) throw new RegistryError('declare at least one feature (name:float32, name:string or name:float64)');
  return features;
}

/** Parses `--task` (binary, multiclass or regression). */
export function parseTask(text: string): ModelTask {
  if ((modelTasks as readonly string[]).includes(text)) return text as ModelTask;
  throw new RegistryError(`--task must be one of ${modelTasks.join(', ')}, got "${text}"`);
}

/** Parses `--classes a,b,c`: at least two distinct, non-empty names, in the order of the model's probability columns. */
export function parseClassList(text: string): string[] {
  const classes = text.split(',').map((c) => c.trim());
  if (classes.some((c) => c === '')) throw new RegistryError(`--classes "${text}" has an empty class name`);
  const repeated = classes.find((c, i) => classes.indexOf(c) !== i);
  if (repeated !== undefined) throw new RegistryError(`--classes "${text}" lists "${repeated}" twice`);
  if (classes.length < 2) throw new RegistryError(`--classes "${text}" needs at least two classes`);
  return classes;
}

function declaredContract(features: DeclaredFeature[], task: ModelTask, classes: string[] | undefined): ModelContract {
  if (task === 'multiclass' && !classes)
    throw new RegistryError('a multiclass model needs its classes: --classes a,b,c in the order of its probabilities columns');
  if (task !== 'multiclass' && classes) throw new RegistryError(`--classes is for multiclass models; this one is ${task}`);
  const result = modelContractSchema.safeParse({
    task,
    inputs: features,
    ...(classes ? { classes } : {}),
    outputs: contractOutputs(task, classes?.length),
  });
  if (!result.success)
    throw new RegistryError(
      `invalid feature contract: ${result.error.issues.map((i) => `${i.path.join('.') || 'contract'}: ${i.message}`).join('; ')}`,
    );
  return result.data;
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
  if (bytes.byteLength > 0 && /^[\x09\x0a\x0d\x20-\x7e]+$/.test(head) && head.length >= Math.min(16, bytes.byteLength))
    return 'is plain text';
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
  const outputTypes = new Map(session.outputMetadata.map((m) => [m.name, m.isTensor ? m.type : 'not a tensor']));
  for (const output of contract.outputs) {
    const type = outputTypes.get(output.name);
    if (type === undefined)
      problems.push(`the graph has no output "${output.name}" (a ${contract.task} model outputs ${output.type} [N,${output.shape[1]}])`);
    else if (type !== output.type)
      problems.push(
        `output "${output.name}" is ${type === 'not a tensor' ? type : `a ${type} tensor`}, a ${contract.task} model's is ${output.type}`,
      );
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
  if (missing.length > 0)
    throw new RegistryError(`dataset version ${datasetVersionId} has no column ${missing.map((m) => `"${m}"`).join(', ')}`);
  const rows = await sampleDatasetRows(db, datasetVersionId, 32);
  if (rows.length === 0) throw new RegistryError(`dataset version ${datasetVersionId} has no rows to test the model on`);
  return rows;
}

/** A few rows covering typical, extreme and missing values. */
function syntheticSample(contract: ModelContract): SampleRow[] {
  const numbers = [0, 1, -1, 1000, null];
  const strings = ['a', 'B', '0', 'unknown', null];
  const times = ['2024-01-01T00:00:00Z', '2024-06-15T13:45:00Z', '1999-12-31T23:59:59Z', '2030-02-28T08:00:00Z', null];
  const samples = { float32: numbers, string: strings, float64: times };
  return numbers.map((_, i) => Object.fromEntries(contract.inputs.map(({ name, type }) => [name, samples[type][i]])));
}

async function runSample(session: InferenceSession, contract: ModelContract, rows: SampleRow[], fileName: string): Promise<SampleOutputs> {
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
    } else if (type === 'float64') {
      feeds[name] = new Tensor(
        'float64',
        Float64Array.from(rows, (row) => readTimestamp(row[name])),
        [n, 1],
      );
    } else {
      feeds[name] = new Tensor(
        'string',
        rows.map((row) => (row[name] === null || row[name] === undefined ? '' : String(row[name]))),
        [n, 1],
      );
    }
  }
  let results: InferenceSession.OnnxValueMapType;
  try {
    results = await session.run(feeds);
  } catch (error) {
    throw new RegistryError(`"${fileName}" failed on a sample batch of ${n} rows: ${(error as Error).message.split('\n')[0]}`);
  }
  const problems: string[] = [];
  const float32 = (output: string, width: number): Float32Array | null => {
    const data = results[output]?.data;
    if (!(data instanceof Float32Array)) problems.push(`output "${output}" is not float32`);
    else if (data.length !== n * width)
      problems.push(`output "${output}" has ${data.length} values for ${n} rows (expected shape [N,${width}])`);
    else return data;
    return null;
  };
  const labels = (range: number): number[] | null => {
    const data = results.label?.data;
    if (!(data instanceof BigInt64Array)) problems.push('output "label" is not int64');
    else if (data.length !== n) problems.push(`output "label" has ${data.length} values for ${n} rows (expected shape [N,1])`);
    else if (!Array.from(data).every((l) => l >= 0n && l < BigInt(range))) {
      problems.push(
        range === 2
          ? 'output "label" has values other than 0 and 1'
          : `output "label" has values outside 0..${range - 1} (indices into the ${range} classes)`,
      );
    } else return Array.from(data, Number);
    return null;
  };
  const fail = () => new RegistryError(`"${fileName}" failed the sample batch: ${problems.join('; ')}`);

  switch (contract.task) {
    case 'binary': {
      const probability = float32('probability', 1);
      if (probability && !probability.every((p) => Number.isFinite(p) && p >= 0 && p <= 1))
        problems.push('output "probability" has values outside [0, 1]');
      const label = labels(2);
      if (problems.length > 0 || !probability || !label) throw fail();
      return { task: 'binary', probabilities: Array.from(probability), labels: label };
    }
    case 'multiclass': {
      const classes = contract.classes!;
      const k = classes.length;
      const probabilities = float32('probabilities', k);
      const rowsOut: number[][] = [];
      if (probabilities) {
        for (let i = 0; i < n; i++) rowsOut.push(Array.from(probabilities.subarray(i * k, i * k + k)));
        const outside = rowsOut.findIndex((row) => !row.every((p) => Number.isFinite(p) && p >= 0 && p <= 1));
        const unnormalised = rowsOut.findIndex((row) => Math.abs(row.reduce((a, b) => a + b, 0) - 1) > 1e-3);
        if (outside >= 0)
          problems.push(`output "probabilities" has values outside [0, 1] (row ${outside}: ${rowsOut[outside].join(', ')})`);
        else if (unnormalised >= 0) {
          problems.push(
            `output "probabilities" rows must sum to 1 (row ${unnormalised} sums to ${rowsOut[unnormalised].reduce((a, b) => a + b, 0).toPrecision(4)}); is the last node a Softmax?`,
          );
        }
      }
      const label = labels(k);
      if (problems.length > 0 || !label) throw fail();
      return { task: 'multiclass', probabilities: rowsOut, labels: label.map((i) => classes[i]) };
    }
    case 'regression': {
      const prediction = float32('prediction', 1);
      const bad = prediction ? prediction.findIndex((p) => !Number.isFinite(p)) : -1;
      if (bad >= 0)
        problems.push(`output "prediction" is not finite for sample row ${bad} (${prediction![bad]}; inputs ${JSON.stringify(rows[bad])})`);
      if (problems.length > 0 || !prediction) throw fail();
      return { task: 'regression', predictions: Array.from(prediction) };
    }
  }
}
