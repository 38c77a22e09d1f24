import { runWorkerTask } from '../ml/worker-thread';
import type { MonitorInput } from '../shared/monitoring';
import type { DriftEvaluation } from './drift';
import type { WindowRow } from './prediction-window';
import type { StoredReference } from './reference-store';

/** What the drift worker receives: only the fields of the window's rows that drift reads. */
export interface WindowEvaluationTask {
  reference: StoredReference;
  rows: Pick<WindowRow, 'inputs' | 'probability'>[];
  input: MonitorInput;
}

/**
 * evaluateWindow (src/monitoring/report.ts) in a worker thread. A monitor run's drift statistics
 * held the event loop for 170 ms in the soak (most of it the exact two-sample Kolmogorov–Smirnov
 * p-value, as SciPy computes it up to 10,000 rows a side), and in the all-in-one process that loop
 * answers predictions. The rows cross as a structured clone of their inputs and scores. A
 * DataValidationError (a statistic a column cannot take) comes back as one (runWorkerTask), so it
 * stays non-retryable.
 */
export async function evaluateWindowInWorkerThread(
  reference: StoredReference,
  served: readonly WindowRow[],
  input: MonitorInput,
): Promise<DriftEvaluation> {
  const task: WindowEvaluationTask = { reference, rows: served.map(({ inputs, probability }) => ({ inputs, probability })), input };
  return runWorkerTask<DriftEvaluation>(new URL('./evaluate-window-worker.ts', import.meta.url), task);
}
