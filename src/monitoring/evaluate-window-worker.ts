/** Worker-thread side of evaluateWindowInWorkerThread (see evaluate-window-in-worker-thread.ts). */
import { serveWorkerTask } from '../ml/worker-thread';
import type { DriftEvaluation } from './drift';
import type { WindowEvaluationTask } from './evaluate-window-in-worker-thread';
import { evaluateWindow } from './report';

await serveWorkerTask<WindowEvaluationTask, DriftEvaluation>(({ reference, rows, input }) => evaluateWindow(reference, rows, input));
