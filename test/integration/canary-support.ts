import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../../src/db/database';
import type { ArtifactStore } from '../../src/registry/artifact-store';
import { setAlias } from '../../src/registry/aliases';
import { buildTinyLogisticOnnx, type TinyLogisticSpec, tinyLogisticProbability } from '../fixtures/tiny-logistic-onnx';
import { registerOnnxVersion } from '../fixtures/register-onnx';

/** Helpers of the canary rollout tests: tiny registered models and real HTTP traffic with sticky keys. */

export const BASELINE: TinyLogisticSpec = {
  numeric: [{ name: 'distance', weight: 0.002, mean: 800 }],
  categorical: [{ name: 'origin', weights: { ORD: 0.7, JFK: -0.3 } }],
  bias: -1.2,
};
export const HEALTHY: TinyLogisticSpec = { ...BASELINE, bias: -1.1 };
/** Answers every request, and gets almost every one wrong: its logit is the baseline's negated. */
export const WRONG: TinyLogisticSpec = {
  numeric: [{ name: 'distance', weight: -0.002, mean: 800 }],
  categorical: [{ name: 'origin', weights: { ORD: -0.7, JFK: 0.3 } }],
  bias: 1.2,
};
/** The ground truth of the tests: what the baseline predicts (so the baseline is always right). */
export const truthOfBaseline = (instance: { distance: number; origin: string }): 0 | 1 =>
  tinyLogisticProbability(BASELINE, instance) > 0.5 ? 1 : 0;
/** Fails inside onnxruntime for every batch with a flight longer than 1500 miles (about half of them). */
export const FAULTY: TinyLogisticSpec = { ...BASELINE, bias: -1.0, failAbove: { input: 'distance', threshold: 1500 } };

/** Registers the spec's ONNX graph as the model's next version; `production` moves to it when asked. */
export async function registerTiny(
  deps: { database: Database; artifacts: ArtifactStore },
  model: string,
  spec: TinyLogisticSpec,
  options: { production?: boolean } = {},
): Promise<number> {
  const row = await registerOnnxVersion(deps, model, buildTinyLogisticOnnx(spec), { key: `${model}/${randomUUID()}` });
  if (options.production) {
    await setAlias(deps.database.db, { model, alias: 'production', version: row.version, actor: 'test', reason: 'baseline' });
  }
  return row.version;
}

export interface Traffic {
  /** Per routing key, the versions that answered it, in order (each key's requests are sequential). */
  versionsByKey: Map<string, number[]>;
  statuses: Map<number, number>;
  answeredBy: Map<number, number>;
  total(): number;
  stop(): Promise<void>;
}

/**
 * Real prediction requests to the model server, as users would send them: `loops` sequential
 * clients, each with its own users (routing keys), one flight per request, until stopped.
 */
export function startTraffic(
  serverUrl: string,
  model: string,
  options: {
    loops?: number;
    users?: number;
    pauseMs?: number;
    /** Ground truth for each answered flight, sent to `POST /v1/feedback` (as a label arriving later would be). */
    truth?: (instance: { distance: number; origin: string }) => 0 | 1;
  } = {},
): Traffic {
  const loops = options.loops ?? 2;
  const users = options.users ?? 200;
  const versionsByKey = new Map<string, number[]>();
  const statuses = new Map<number, number>();
  const answeredBy = new Map<number, number>();
  let stopped = false;
  let total = 0;
  const origins = ['ORD', 'JFK', 'LAX', 'ATL'];
  const run = async (loop: number) => {
    for (let i = 0; !stopped; i++) {
      const user = loop + loops * Math.floor(Math.random() * (users / loops));
      const key = `user-${user}`;
      // Half-miles keep every flight off the models' decision boundaries (integer distances), so
      // float32 inference and the float64 ground truth below always agree.
      const instance = { distance: Math.round(100 + Math.random() * 2900) + 0.5, origin: origins[i % origins.length] };
      try {
        const response = await fetch(`${serverUrl}/v1/models/${model}:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-keel-route-key': key },
          body: JSON.stringify({ instances: [instance] }),
        });
        const body = (await response.json()) as { version?: number; predictions?: { id: string }[] };
        total++;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 200 && body.version !== undefined) {
          answeredBy.set(body.version, (answeredBy.get(body.version) ?? 0) + 1);
          const seen = versionsByKey.get(key) ?? [];
          seen.push(body.version);
          versionsByKey.set(key, seen);
          if (options.truth && body.predictions) {
            const feedback = await fetch(`${serverUrl}/v1/feedback`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ prediction_id: body.predictions[0].id, label: options.truth(instance) }),
            });
            if (feedback.status !== 200) throw new Error(`feedback: ${feedback.status} ${await feedback.text()}`);
          }
        }
      } catch {
        // The server is closing; the loop ends with `stopped`.
      }
      await sleep(options.pauseMs ?? 3);
    }
  };
  const running = Promise.all(Array.from({ length: loops }, (_, loop) => run(loop)));
  return {
    versionsByKey,
    statuses,
    answeredBy,
    total: () => total,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
