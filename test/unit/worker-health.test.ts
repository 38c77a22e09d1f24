import { afterAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/runtime/environment';
import { startWorkerHealth } from '../../src/runtime/worker-health';

describe('worker health endpoints', () => {
  let states = ['INITIALIZED', 'INITIALIZED'];
  const started = startWorkerHealth({ host: '127.0.0.1', port: 0, states: () => states });
  afterAll(async () => (await started).close());
  const get = async (path: string) => {
    const { port } = await started;
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('is live at once, and ready only while every Temporal worker runs', async () => {
    expect(await get('/livez')).toEqual({ status: 200, body: { live: true } });
    expect(await get('/readyz')).toEqual({ status: 503, body: { ready: false, workers: ['INITIALIZED', 'INITIALIZED'] } });
    states = ['RUNNING', 'RUNNING'];
    expect((await get('/readyz')).status).toBe(200);
    // Draining after SIGTERM: out of the Service's endpoints, still live.
    states = ['RUNNING', 'STOPPING'];
    expect((await get('/readyz')).status).toBe(503);
    expect((await get('/livez')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(404);
  });

  it('is configured in the environment: off unless a port is given, loopback by default', () => {
    expect(readEnvironment({}).KEEL_WORKER_HEALTH_PORT).toBeUndefined();
    const env = readEnvironment({ KEEL_WORKER_HEALTH_PORT: '9464' });
    expect(env.KEEL_WORKER_HEALTH_PORT).toBe(9464);
    expect(env.KEEL_WORKER_HEALTH_HOST).toBe('127.0.0.1');
    expect(() => readEnvironment({ KEEL_WORKER_HEALTH_PORT: '70000' })).toThrow(/KEEL_WORKER_HEALTH_PORT/);
  });
});
