import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pythonWith } from './python';

/**
 * Answers requests (see test/unit/support/sklearn_reference.py), in one Python process, with a
 * Python that has scikit-learn and NumPy (found or made by pythonWith): these tests are the proof
 * that keel's metrics mean what scikit-learn's mean.
 */
export function sklearnReference<T>(requests: readonly object[]): T[] {
  const python = pythonWith('sklearn, numpy');
  const script = join(import.meta.dirname, 'sklearn_reference.py');
  const output = execFileSync(python, [script], { input: JSON.stringify(requests), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(output) as T[];
}
