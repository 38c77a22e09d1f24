import { describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/runtime/environment';

describe('readEnvironment', () => {
  it('reads the model server settings', () => {
    const env = readEnvironment({
      KEEL_SERVE_MODELS: 'fraud,churn',
      KEEL_ROUTING_REFRESH_MS: '0',
      KEEL_SERVER_PROCESSES: '2',
      KEEL_PREDICTION_LOG_CAPACITY: '500000',
      KEEL_INFERENCE_INLINE_MS: '0.5',
    });
    expect(env.KEEL_SERVE_MODELS).toEqual(['fraud', 'churn']);
    expect(env.KEEL_ROUTING_REFRESH_MS).toBe(0);
    expect(env.KEEL_SERVER_PROCESSES).toBe(2);
    expect(env.KEEL_PREDICTION_LOG_CAPACITY).toBe(500_000);
    expect(env.KEEL_INFERENCE_INLINE_MS).toBe(0.5);
  });

  it('spools the prediction log under the data directory unless told otherwise', () => {
    expect(readEnvironment({ KEEL_DATA_DIR: '/srv/keel' }).predictionSpool).toEqual({ dir: '/srv/keel/prediction-spool', fsync: false });
    expect(readEnvironment({ KEEL_PREDICTION_SPOOL_DIR: '/fast/spool', KEEL_PREDICTION_SPOOL: 'fsync' }).predictionSpool).toEqual({
      dir: '/fast/spool',
      fsync: true,
    });
    expect(readEnvironment({ KEEL_PREDICTION_SPOOL: 'off' }).predictionSpool).toBeUndefined();
  });

  it('reads the dashboard settings: loopback by default, a port, the Temporal UI to link to', () => {
    const defaults = readEnvironment({});
    expect(defaults.KEEL_UI_HOST).toBe('127.0.0.1');
    expect(defaults.KEEL_UI_PORT).toBeUndefined();
    expect(defaults.KEEL_TEMPORAL_UI).toBeUndefined();
    const env = readEnvironment({
      KEEL_UI_HOST: '0.0.0.0',
      KEEL_UI_PORT: '9000',
      KEEL_TEMPORAL_UI: 'https://temporal.example.com',
      KEEL_ADMIN_KEYS: 'a, b',
    });
    expect(env).toMatchObject({
      KEEL_UI_HOST: '0.0.0.0',
      KEEL_UI_PORT: 9000,
      KEEL_TEMPORAL_UI: 'https://temporal.example.com',
      adminKeys: ['a', 'b'],
    });
  });

  it('treats an empty variable as unset', () => {
    const env = readEnvironment({ KEEL_SERVE_MODELS: '', KEEL_ROUTING_REFRESH_MS: '', KEEL_SERVER_PROCESSES: '' });
    expect(env.KEEL_SERVE_MODELS).toBeUndefined();
    expect(env.KEEL_ROUTING_REFRESH_MS).toBeUndefined();
    expect(env.KEEL_SERVER_PROCESSES).toBe(1);
  });

  it.each([
    ['KEEL_SERVE_MODELS', 'fraud, churn'],
    ['KEEL_SERVE_MODELS', 'fraud,,churn'],
    ['KEEL_ROUTING_REFRESH_MS', '-5'],
    ['KEEL_ROUTING_REFRESH_MS', 'soon'],
    ['KEEL_SERVER_PROCESSES', '0'],
    ['KEEL_PREDICTION_LOG_CAPACITY', '10'],
    ['KEEL_PREDICTION_LOG_CAPACITY', '1e5x'],
    ['KEEL_INFERENCE_INLINE_MS', '-1'],
    ['KEEL_INFERENCE_INLINE_MS', 'fast'],
    ['KEEL_PREDICTION_SPOOL', 'yes'],
    ['KEEL_UI_PORT', '70000'],
    ['KEEL_TEMPORAL_UI', 'temporal:8233'],
    ['KEEL_TEMPORAL_UI', 'ftp://temporal.example.com'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => readEnvironment({ [name]: value })).toThrow(name);
  });
});
