import { parseFeedback, predictionTargets, recordFeedback, resolveFeedback, versionTargets } from '../feedback';
import { readJson } from './body';
import type { Reply, RequestContext, Route, ServerContext } from './context';

/** Feedback: ground truth for answered predictions, by prediction id (src/serving/feedback.ts). */

export const feedbackRoutes: Route[] = [{ template: '/v1/feedback', access: 'predict', methods: { POST: recordFeedbackRequest } }];

async function recordFeedbackRequest(server: ServerContext, ctx: RequestContext): Promise<Reply> {
  const { db, logWriter, metrics, feedbackWaitMs, logFlushMs } = server;
  const items = parseFeedback(await readJson(ctx.req, server.maxBodyBytes, server.connections));
  const ids = items.map((item) => item.predictionId);
  // Feedback right after the answer: the prediction may still be in this server's log
  // queue (or in a write committing now); those ids are resolved from the queue, and only
  // what neither knows is looked up once more.
  const pending = logWriter.pending(ids);
  const targets = await predictionTargets(
    db,
    ids.filter((id) => !pending.has(id)),
  );
  for (const [id, target] of await versionTargets(db, pending)) targets.set(id, target);
  if (targets.size < new Set(ids).size) {
    for (const [id, target] of await predictionTargets(
      db,
      ids.filter((id) => !targets.has(id)),
    ))
      targets.set(id, target);
  }
  // Answered by another process or replica a moment ago: its row reaches the database
  // within that server's flush period, later on a busy machine. Look again every period
  // until the wait is over; only then is an id unknown.
  const deadline = Date.now() + feedbackWaitMs;
  while (targets.size < new Set(ids).size && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(logFlushMs, Math.max(1, deadline - Date.now()))));
    for (const [id, target] of await predictionTargets(
      db,
      ids.filter((id) => !targets.has(id)),
    ))
      targets.set(id, target);
  }
  const rows = resolveFeedback(items, targets);
  await recordFeedback(db, rows);
  metrics.feedback(items.length);
  return { status: 200, body: { recorded: items.length } };
}
