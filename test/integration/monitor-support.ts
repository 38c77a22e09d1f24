import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '../../src/db/database';
import { feedback, predictionLog } from '../../src/db/schema';

/** Helpers of the monitor tests: a scripted webhook receiver and logged predictions with ground truth. */

export interface Reply {
  status?: number;
  /** Never answer (the sender must time out). */
  hang?: boolean;
}

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  at: number;
}

/** A webhook receiver on 127.0.0.1: `replies[path]` scripts the answers per path (200 once the script is used up). */
export async function startWebhookReceiver() {
  const received: Received[] = [];
  const scripts = new Map<string, Reply[]>();
  const always = new Map<string, Reply>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      received.push({ path, headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'), at: Date.now() });
      const reply = scripts.get(path)?.shift() ?? always.get(path) ?? { status: 200 };
      if (reply.hang) return;
      response
        .writeHead(reply.status ?? 200, { 'content-type': 'text/plain' })
        .end(reply.status && reply.status >= 400 ? 'receiver is down' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    /** Answers for the next requests to `path`. */
    script(path: string, replies: Reply[]) {
      scripts.set(path, [...replies]);
    },
    /** The answer to every request to `path` (after any script). */
    always(path: string, reply: Reply) {
      always.set(path, reply);
    },
    to(path: string) {
      return received.filter((r) => r.path === path);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

export interface PredictionRow {
  version: number;
  inputs: Record<string, unknown>;
  probability: number;
  label: 0 | 1;
  createdAt: Date;
  /** Ground truth; undefined: none arrived. */
  actual?: 0 | 1;
  shadow?: boolean;
}

/** Writes predictions (and their feedback) straight into the log, as the model server would. */
export async function logPredictions(database: Database, model: string, rows: PredictionRow[]): Promise<string[]> {
  const ids = rows.map(() => randomUUID());
  for (let start = 0; start < rows.length; start += 1000) {
    const batch = rows.slice(start, start + 1000);
    await database.db.insert(predictionLog).values(
      batch.map((r, i) => ({
        id: ids[start + i],
        modelName: model,
        version: r.version,
        inputs: r.inputs,
        outputs: { probability: r.probability, label: r.label },
        latencyMs: 0.2,
        createdAt: r.createdAt,
        shadow: r.shadow ?? false,
      })),
    );
    const labelled = batch.map((r, i) => ({ predictionId: ids[start + i], label: r.actual })).filter((f) => f.label !== undefined) as {
      predictionId: string;
      label: number;
    }[];
    if (labelled.length) await database.db.insert(feedback).values(labelled);
  }
  return ids;
}

/** Sends rows as prediction requests to a real model server; returns each prediction's id and output. */
export async function predict(
  serverUrl: string,
  model: string,
  rows: Record<string, unknown>[],
  features: string[],
  batchSize = 100,
): Promise<{ id: string; probability: number; label: number }[]> {
  const out: { id: string; probability: number; label: number }[] = [];
  for (let start = 0; start < rows.length; start += batchSize) {
    const instances = rows.slice(start, start + batchSize).map((row) => Object.fromEntries(features.map((f) => [f, row[f]])));
    const response = await fetch(`${serverUrl}/v1/models/${model}:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances }),
    });
    if (!response.ok) throw new Error(`prediction failed: ${response.status} ${await response.text()}`);
    out.push(...((await response.json()) as { predictions: { id: string; probability: number; label: number }[] }).predictions);
  }
  return out;
}

/** Ground truth through the model server's feedback endpoint (at most 1000 per request). */
export async function sendFeedback(serverUrl: string, items: { prediction_id: string; label: number }[]): Promise<void> {
  for (let start = 0; start < items.length; start += 1000) {
    const response = await fetch(`${serverUrl}/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(items.slice(start, start + 1000)),
    });
    if (!response.ok) throw new Error(`feedback failed: ${response.status} ${await response.text()}`);
  }
}
