import { describe, expect, it } from 'vitest';
import { runWorkerTask } from '../../src/ml/worker-thread';
import { DataValidationError, TargetError } from '../../src/shared/errors';

const failing = new URL('../fixtures/failing-worker.ts', import.meta.url);

describe('an error thrown in a worker thread', () => {
  it('comes back as its domain error class, so Temporal types the failure as non-retryable', async () => {
    const target = runWorkerTask(failing, { kind: 'target' });
    await expect(target).rejects.toBeInstanceOf(TargetError);
    await expect(target).rejects.toThrow('split row 3 has 2');
    const data = runWorkerTask(failing, { kind: 'data' });
    await expect(data).rejects.toBeInstanceOf(DataValidationError);
    await expect(data).rejects.toMatchObject({ rule: 'minRows', observed: 3, message: 'too few rows: 3 < 10' });
  });

  it('keeps any other error as node passes it on', async () => {
    const other = await runWorkerTask(failing, { kind: 'plain' }).catch((error: unknown) => error);
    expect(other).toBeInstanceOf(Error);
    expect(other).toMatchObject({ name: 'RangeError', message: 'out of range' });
  });
});
