/** Worker-thread side of evaluateWindowInWorkerThread (see evaluate-window-in-worker-thread.ts). */
import { serveWorkerTask } from '../ml/worker-thread';
import { DataValidationError } from '../shared/errors';
import type { WindowEvaluationOutcome, WindowEvaluationTask } from './evaluate-window-in-worker-thread';
import { evaluateWindow } from './report';

await serveWorkerTask<WindowEvaluationTask, WindowEvaluationOutcome>(({ reference, rows, input }) => {
  try {
    return { evaluation: evaluateWindow(reference, rows, input) };
  } catch (error) {
    if (!(error instanceof DataValidationError)) throw error;
    return { refused: { message: error.message, rule: error.rule, observed: error.observed } };
  }
});
