/**
 * Sends rows to a model server as prediction requests, in batches, the way a client would.
 * Only the model's input features are sent; labels and other columns stay behind.
 */
export async function replayTraffic(options: {
  serverUrl: string;
  model: string;
  rows: Record<string, unknown>[];
  features: string[];
  batchSize?: number;
}): Promise<{ requests: number; predictions: number }> {
  const { serverUrl, model, rows, features, batchSize = 50 } = options;
  let requests = 0;
  let predictions = 0;
  for (let start = 0; start < rows.length; start += batchSize) {
    const instances = rows.slice(start, start + batchSize).map((row) => Object.fromEntries(features.map((f) => [f, row[f]])));
    const response = await fetch(`${serverUrl}/v1/models/${model}:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances }),
    });
    if (!response.ok) throw new Error(`prediction request failed: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { predictions: unknown[] };
    requests++;
    predictions += body.predictions.length;
  }
  return { requests, predictions };
}
