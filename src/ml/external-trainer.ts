import { spawn } from 'node:child_process';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { ExternalTrainerError, ModelVerificationError } from '../shared/errors';
import { contractOutputs, type ModelContract, type ModelTask } from '../shared/model-contract';
import type { FeatureSpec } from '../shared/feature-spec';
import { scoreOnnxInWorkerThread } from './batch-score';
import { contractInputs } from './feature-contract';
import { DataType, graphSignature } from './onnx/onnx-proto';
import type { Row } from './row';
import { type TrainerUser, trainerEnvironment } from './trainer-commands';

export interface ExternalTrainingRequest {
  /** Program and arguments (a registered command's, ./trainer-commands). */
  command: string[];
  /** Variables passed on beyond the minimal environment. */
  passEnv?: readonly string[];
  /** Run as this user (KEEL_TRAINER_USER); default: the worker's. */
  user?: TrainerUser;
  params: Record<string, unknown>;
  features: FeatureSpec[];
  target: string;
  task: ModelTask;
  /** multiclass: the classes, in the order the model's `probabilities` columns must follow. */
  classes?: string[];
  train: readonly Row[];
  validation: readonly Row[];
  timeoutMs: number;
  /** Called every few seconds while the program runs (the activity heartbeats). */
  onWaiting?: (elapsedSeconds: number) => void;
}

export interface ExternalTrainingResult {
  onnx: Uint8Array;
  /** metrics.json as the program wrote it; keel's own metrics are computed separately. */
  reportedMetrics: Record<string, unknown>;
  seconds: number;
  /** The end of the program's output, for the record. */
  logTail: string;
}

/**
 * Runs a user's training program on the prepared splits (train.csv, validation.csv,
 * params.json in its working directory, a fresh temporary one) and collects model.onnx and
 * metrics.json. The program gets a minimal environment and a time limit. Every failure
 * — exit code, timeout, a missing or malformed output — is an ExternalTrainerError that says what
 * happened and shows the end of the program's output.
 */
export async function runExternalTrainer(request: ExternalTrainingRequest): Promise<ExternalTrainingResult> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-byo-'));
  try {
    const columns = [...request.features.map((f) => f.name), request.target];
    await writeFile(join(dir, 'train.csv'), toCsv(request.train, columns));
    await writeFile(join(dir, 'validation.csv'), toCsv(request.validation, columns));
    await writeFile(
      join(dir, 'params.json'),
      JSON.stringify(
        {
          params: request.params,
          features: request.features,
          target: request.target,
          task: request.task,
          ...(request.classes ? { classes: request.classes } : {}),
        },
        null,
        2,
      ),
    );
    if (request.user) {
      for (const file of ['', 'train.csv', 'validation.csv', 'params.json'])
        await chown(join(dir, file), request.user.uid, request.user.gid);
    }
    const started = performance.now();
    const logTail = await runProgram(request, dir);
    const seconds = (performance.now() - started) / 1000;
    const onnx = await readOutput(dir, 'model.onnx', logTail);
    const metricsText = new TextDecoder().decode(await readOutput(dir, 'metrics.json', logTail));
    let reportedMetrics: Record<string, unknown>;
    try {
      reportedMetrics = JSON.parse(metricsText) as Record<string, unknown>;
    } catch (error) {
      throw new ExternalTrainerError(`the trainer's metrics.json is not valid JSON: ${(error as Error).message}`);
    }
    if (reportedMetrics === null || typeof reportedMetrics !== 'object' || Array.isArray(reportedMetrics)) {
      throw new ExternalTrainerError("the trainer's metrics.json must hold a JSON object");
    }
    return { onnx, reportedMetrics, seconds, logTail };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The contract an external model must meet: the features' inputs, the task's outputs. */
export function externalContract(features: FeatureSpec[], task: ModelTask, classes?: string[]): ModelContract {
  return {
    task,
    inputs: contractInputs(features),
    outputs: contractOutputs(task, classes?.length),
    ...(task === 'multiclass' ? { classes } : {}),
  };
}

const elementTypes: Record<string, number> = {
  float32: DataType.FLOAT,
  string: DataType.STRING,
  float64: DataType.DOUBLE,
  int64: DataType.INT64,
};

/**
 * Checks an externally trained model against keel's serving contract before anything else sees
 * it: it must take exactly the configured features' inputs, have the task's outputs (probability
 * and label; probabilities and label; prediction), load in onnxruntime and give sane scores for
 * every validation row (probabilities in [0, 1], finite predictions). Returns those scores.
 */
export async function verifyExternalModel(onnx: Uint8Array, contract: ModelContract, validation: readonly Row[]): Promise<Float64Array> {
  let signature: ReturnType<typeof graphSignature>;
  try {
    signature = graphSignature(onnx);
  } catch (error) {
    throw new ModelVerificationError(`the trainer's model.onnx is not an ONNX model: ${(error as Error).message}`);
  }
  const typeName = (code: number) => Object.keys(elementTypes).find((name) => elementTypes[name] === code) ?? `type ${code}`;
  const expected = contract.inputs.map((i) => `${i.name}:${i.type}`).sort();
  const actual = signature.inputs.map((i) => `${i.name}:${typeName(i.elemType)}`).sort();
  if (expected.join() !== actual.join()) {
    throw new ModelVerificationError(
      `the trainer's model takes inputs [${actual.join(', ')}] but the features are [${expected.join(', ')}]`,
    );
  }
  const outputs = signature.outputs.map((o) => `${o.name}:${o.elemType}`);
  const required = contract.outputs.map((o) => `${o.name}:${elementTypes[o.type]}`);
  if (!required.every((output) => outputs.includes(output))) {
    const wanted = contract.outputs.map((o) => `"${o.name}" (${o.type} [N,${o.shape[1]}])`).join(' and ');
    throw new ModelVerificationError(
      `the trainer's ${contract.task} model must output ${wanted}; it outputs ${signature.outputs.map((o) => o.name).join(', ') || 'nothing'}`,
    );
  }
  let scores: Awaited<ReturnType<typeof scoreOnnxInWorkerThread>>;
  try {
    scores = await scoreOnnxInWorkerThread(onnx, validation);
  } catch (error) {
    throw new ModelVerificationError(`the trainer's model fails to score validation rows: ${(error as Error).message.split('\n')[0]}`);
  }
  const width = contract.outputs[0].shape[1];
  if (scores.values.length !== validation.length * width) {
    throw new ModelVerificationError(
      `the trainer's model gives ${scores.values.length} values for ${validation.length} validation rows; expected ${width} per row`,
    );
  }
  const isProbability = contract.task !== 'regression';
  const bad = scores.values.findIndex((p) => (isProbability ? !(p >= 0 && p <= 1) : !Number.isFinite(p)));
  if (bad >= 0) {
    const row = Math.floor(bad / width);
    throw new ModelVerificationError(
      `the trainer's model gives ${isProbability ? 'probability' : 'prediction'} ${scores.values[bad]} for validation row ${row}; expected ${isProbability ? 'a value in [0, 1]' : 'a finite number'}`,
    );
  }
  return scores.values;
}

function toCsv(rows: readonly Row[], columns: string[]): string {
  return stringify(
    rows.map((row) => columns.map((c) => row[c] ?? '')),
    { header: true, columns },
  );
}

async function readOutput(dir: string, file: string, logTail: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(join(dir, file)));
  } catch {
    throw new ExternalTrainerError(`the trainer exited 0 but wrote no ${file}${logTail ? `; its output ended with:\n${logTail}` : ''}`);
  }
}

function runProgram(request: ExternalTrainingRequest, dir: string): Promise<string> {
  const [program, ...args] = request.command;
  return new Promise((resolve, reject) => {
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-4000);
    };
    const child = spawn(program, args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(request.user ? { uid: request.user.uid, gid: request.user.gid } : {}),
      // A minimal environment: the program sees none of keel's settings (DATABASE_URL, keys);
      // trainerEnvironment picks PATH, HOME and the like and `passEnv` out of the whole one.
      env: {
        ...trainerEnvironment(process.env, dir, request.passEnv ?? []),
        KEEL_TRAIN_FILE: join(dir, 'train.csv'),
        KEEL_VALIDATION_FILE: join(dir, 'validation.csv'),
        KEEL_PARAMS_FILE: join(dir, 'params.json'),
        KEEL_OUTPUT_DIR: dir,
      },
    });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const started = Date.now();
    const ticker = setInterval(() => request.onWaiting?.((Date.now() - started) / 1000), 5000);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(
        new ExternalTrainerError(
          `the trainer ${program} did not finish within ${request.timeoutMs / 1000} s and was killed${tail ? `; its output ended with:\n${tail}` : ''}`,
        ),
      );
    }, request.timeoutMs);
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearInterval(ticker);
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(tail);
    };
    child.on('error', (error) => finish(new ExternalTrainerError(`cannot run the trainer ${program}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) finish();
      else
        finish(
          new ExternalTrainerError(
            `the trainer ${program} ${code === null ? `was killed by ${signal}` : `exited with code ${code}`}${tail ? `; its output ended with:\n${tail}` : ''}`,
          ),
        );
    });
  });
}
