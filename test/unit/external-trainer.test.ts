import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { externalContract, runExternalTrainer, verifyExternalModel } from '../../src/ml/external-trainer';
import type { FeatureSpec } from '../../src/shared/feature-spec';

const features: FeatureSpec[] = [
  { name: 'hour', kind: 'categorical' },
  { name: 'distance', kind: 'numeric' },
  { name: 'origin', kind: 'categorical' },
];
const rows = Array.from({ length: 600 }, (_, i) => ({
  hour: i % 24,
  distance: 100 + i,
  origin: ['ATL', 'ORD', 'LAX'][i % 3],
  delayed: i % 24 > 16 ? 1 : 0,
}));
const example = resolve('examples/byo-trainer/train.mjs');
const request = (command: string[], params: Record<string, unknown> = {}, timeoutMs = 30_000) => ({
  command,
  params,
  features,
  target: 'delayed',
  task: 'binary' as const,
  train: rows.slice(0, 400),
  validation: rows.slice(400),
  timeoutMs,
});

describe('bring-your-own trainer', () => {
  it('runs the example program and verifies the model it writes', async () => {
    const result = await runExternalTrainer(request(['node', example], { smoothing: 5 }));
    expect(result.reportedMetrics).toMatchObject({ train_rows: 400 });
    expect(result.logTail).toContain('trained on 400 rows');
    const scores = await verifyExternalModel(result.onnx, externalContract(features, 'binary'), rows.slice(400));
    expect(scores).toHaveLength(200);
    // Late hours (17-23) were always late in training: the model must score them higher.
    const late = scores.filter((_, i) => rows[400 + i].hour > 16);
    const early = scores.filter((_, i) => rows[400 + i].hour <= 16);
    expect(Math.min(...late)).toBeGreaterThan(Math.max(...early));
  });

  it('reports a non-zero exit with the end of its output', async () => {
    await expect(runExternalTrainer(request(['node', example], { fail: 'no GPU' }))).rejects.toThrow(
      /exited with code 3; its output ended with:\nfailing on purpose: no GPU/,
    );
  });

  it('kills a program that runs past its timeout', async () => {
    await expect(runExternalTrainer(request(['sleep', '5'], {}, 300))).rejects.toThrow(/did not finish within 0.3 s and was killed/);
  });

  it('names a missing output and a malformed metrics.json', async () => {
    await expect(runExternalTrainer(request(['sh', '-c', 'echo "{}" > metrics.json']))).rejects.toThrow(/wrote no model.onnx/);
    await expect(runExternalTrainer(request(['sh', '-c', 'echo x > model.onnx; echo "{oops" > metrics.json']))).rejects.toThrow(
      /metrics.json is not valid JSON/,
    );
  });

  it('says when the program cannot be started', async () => {
    await expect(runExternalTrainer(request(['/no/such/trainer']))).rejects.toThrow(/cannot run the trainer \/no\/such\/trainer/);
  });

  it('refuses a model whose bytes are not ONNX or whose inputs differ from the features', async () => {
    await expect(verifyExternalModel(new TextEncoder().encode('hello'), externalContract(features, 'binary'), rows)).rejects.toThrow(
      /not an ONNX model|takes inputs/,
    );
    const result = await runExternalTrainer(request(['node', example]));
    await expect(verifyExternalModel(result.onnx, externalContract(features.slice(0, 2), 'binary'), rows)).rejects.toThrow(
      /takes inputs \[distance:float32, hour:string, origin:string\] but the features are \[distance:float32, hour:string\]/,
    );
  });

  it('refuses a model without the outputs of the pipeline’s task', async () => {
    const result = await runExternalTrainer(request(['node', example]));
    await expect(verifyExternalModel(result.onnx, externalContract(features, 'regression'), rows)).rejects.toThrow(
      'the trainer\'s regression model must output "prediction" (float32 [N,1]); it outputs probability, label',
    );
    await expect(verifyExternalModel(result.onnx, externalContract(features, 'multiclass', ['a', 'b', 'c']), rows)).rejects.toThrow(
      /must output "probabilities" \(float32 \[N,3\]\) and "label" \(int64 \[N,1\]\)/,
    );
  });
});
