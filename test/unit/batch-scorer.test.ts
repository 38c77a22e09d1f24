import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createPooledScorer } from '../../src/batch/batch-scorer';
import { scoreOnnxOutputsInWorkerThread } from '../../src/ml/batch-score';
import { TINY_CONTRACT } from '../fixtures/register-onnx';
import { buildTinyLogisticOnnx } from '../fixtures/tiny-logistic-onnx';

describe('the pooled batch scorer', () => {
  const scorer = createPooledScorer({ threads: 1, logger: pino({ level: 'silent' }) });
  afterAll(() => scorer.close());
  const bytes = buildTinyLogisticOnnx({
    numeric: [{ name: 'distance', weight: 0.002, mean: 800 }],
    categorical: [{ name: 'origin', weights: { ORD: 0.7 } }],
    bias: -1.2,
  });
  // More rows than one session.run takes (16,384), with missing values.
  const rows = Array.from({ length: 40_000 }, (_, i) => ({
    distance: i % 7 === 0 ? null : (i * 37) % 3000,
    origin: i % 3 === 0 ? 'ORD' : i % 3 === 1 ? 'LGA' : null,
  }));

  it('gives what a thread of its own gives, row for row, across several session.run calls', async () => {
    const contract = TINY_CONTRACT as never;
    const pooled = await scorer.score('tiny', bytes, contract, rows);
    const alone = await scoreOnnxOutputsInWorkerThread(bytes, rows, ['probability', 'label']);
    expect(pooled.probability).toHaveLength(rows.length);
    expect(Array.from(pooled.probability as Float32Array)).toEqual(Array.from(alone.probability as Float32Array));
    expect(Array.from(pooled.label as BigInt64Array)).toEqual(Array.from(alone.label as BigInt64Array));
    // The session stays loaded: a second chunk of the same model scores the same.
    const again = await scorer.score('tiny', bytes, contract, rows.slice(0, 10));
    expect(Array.from(again.probability as Float32Array)).toEqual(Array.from(alone.probability as Float32Array).slice(0, 10));
  });
});
