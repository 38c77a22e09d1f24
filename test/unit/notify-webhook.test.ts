import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { alertSchema, type AlertInput } from '../../src/notify/alert';
import {
  deliverStoredAlert,
  getAlert,
  listAlerts,
  recordAlert,
  recordDeliveryAttempt,
  summarise,
  webhookUrl,
} from '../../src/notify/alert-store';
import { webhookTargetSchema } from '../../src/shared/notifications';
import { deliverWebhook, WebhookDeliveryError, WebhookRejectedError } from '../../src/notify/webhook';

/** A local webhook receiver on 127.0.0.1 that answers from a script: status codes, delays, hangs. */
interface Reply {
  status?: number;
  body?: string;
  delayMs?: number;
  /** Never answer (the client must time out). */
  hang?: boolean;
}
interface Received {
  headers: IncomingHttpHeaders;
  body: unknown;
  path: string;
}

let server: Server;
let base: string;
let script: Reply[] = [];
let received: Received[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), path: request.url ?? '' });
      const reply = script.shift() ?? { status: 200, body: 'ok' };
      if (reply.hang) return;
      setTimeout(() => {
        response.writeHead(reply.status ?? 200, { 'content-type': 'text/plain' });
        response.end(reply.body ?? '');
      }, reply.delayMs ?? 0);
    });
  });
  // Idle keep-alive sockets must outlive the slow PGlite setup below, or a pooled socket the
  // server closed meanwhile fails the next POST with ECONNRESET (retryable, but not what is tested).
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  script = [];
  received = [];
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const payload = { text: 'hello', blocks: [] };

describe('deliverWebhook', () => {
  it('POSTs JSON and returns the status and the start of the body', async () => {
    script = [{ status: 200, body: 'ok' }];
    const result = await deliverWebhook(`${base}/services/T000/B000/secret`, payload, {
      timeoutMs: 2000,
      idempotencyKey: 'k/ops',
      headers: { authorization: 'Bearer t' },
    });
    expect(result).toMatchObject({ status: 200, body: 'ok' });
    expect(received[0].body).toEqual(payload);
    expect(received[0].path).toBe('/services/T000/B000/secret');
    expect(received[0].headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': 'k/ops',
      authorization: 'Bearer t',
    });
  });

  it('500 then 200: the first attempt throws a retryable error, the retry succeeds', async () => {
    script = [{ status: 500, body: 'upstream down' }, { status: 200 }];
    const url = `${base}/hook`;
    const first = await deliverWebhook(url, payload, { timeoutMs: 2000 }).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(WebhookDeliveryError);
    expect(first).toMatchObject({ name: 'WebhookDeliveryError', status: 500, retryable: true });
    expect((first as Error).message).toBe(`webhook ${base}/… answered HTTP 500: upstream down`);
    await expect(deliverWebhook(url, payload, { timeoutMs: 2000 })).resolves.toMatchObject({ status: 200 });
    expect(received).toHaveLength(2);
  });

  it('a receiver that does not answer in time: retryable timeout', async () => {
    script = [{ hang: true }];
    const started = Date.now();
    const error = await deliverWebhook(`${base}/slow`, payload, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookDeliveryError);
    expect((error as Error).message).toBe(`webhook ${base}/… timed out after 300 ms`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a slow body counts against the same deadline', async () => {
    script = [{ status: 200, delayMs: 600 }];
    await expect(deliverWebhook(`${base}/slow`, payload, { timeoutMs: 200 })).rejects.toThrow(/timed out after 200 ms/);
  });

  it('4xx: not retryable (except 408 and 429)', async () => {
    script = [{ status: 404, body: 'no_service' }, { status: 400, body: 'invalid_payload' }, { status: 429 }, { status: 408 }];
    await expect(deliverWebhook(`${base}/x`, payload, { timeoutMs: 2000 })).rejects.toMatchObject({
      name: 'WebhookRejectedError',
      status: 404,
      retryable: false,
    });
    await expect(deliverWebhook(`${base}/x`, payload, { timeoutMs: 2000 })).rejects.toThrow(/HTTP 400: invalid_payload/);
    await expect(deliverWebhook(`${base}/x`, payload, { timeoutMs: 2000 })).rejects.toMatchObject({
      name: 'WebhookDeliveryError',
      status: 429,
    });
    await expect(deliverWebhook(`${base}/x`, payload, { timeoutMs: 2000 })).rejects.toMatchObject({
      name: 'WebhookDeliveryError',
      status: 408,
    });
  });

  it('connection refused: retryable; a non-http URL: not retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(deliverWebhook(`http://127.0.0.1:${port}/x`, payload, { timeoutMs: 2000 })).rejects.toThrow(WebhookDeliveryError);
    await expect(deliverWebhook('file:///etc/passwd', payload, { timeoutMs: 2000 })).rejects.toThrow(WebhookRejectedError);
    await expect(deliverWebhook('not a url', payload, { timeoutMs: 2000 })).rejects.toThrow(/invalid webhook URL/);
  });
});

describe('stored alerts and deliveries (PGlite)', () => {
  let dir: string;
  let database: Database;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-notify-'));
    database = await openDatabase({ dataDir: dir });
  });

  afterAll(async () => {
    await database?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const alert = (overrides: Partial<AlertInput> = {}): AlertInput => ({
    incidentKey: 'data_drift:flight-delays:v1:2001-02-01T00:00:00.000Z',
    model: 'flight-delays',
    version: 1,
    kind: 'data_drift',
    severity: 'critical',
    title: 'flight-delays v1: data drift in 2 of 5 features',
    message: 'distance and origin drifted',
    occurredAt: '2001-02-01T10:00:00.000Z',
    ...overrides,
  });
  const target = (name: string, extra: Record<string, unknown> = {}) =>
    webhookTargetSchema.parse({ name, url: `${base}/${name}`, timeoutMs: 500, ...extra });

  it('stores an alert once per incident key', async () => {
    const first = await recordAlert(database.db, alert(), [
      target('ops'),
      { name: 'pager', minSeverity: 'critical' },
      { name: 'chat', minSeverity: 'info' },
    ]);
    expect(first.created).toBe(true);
    expect(first.alert).toMatchObject({ model: 'flight-delays', kind: 'data_drift', severity: 'critical', deliveryStatus: 'pending' });
    expect(first.alert.deliveries.map((d) => [d.target, d.status])).toEqual([
      ['ops', 'pending'],
      ['pager', 'pending'],
      ['chat', 'pending'],
    ]);
    const again = await recordAlert(database.db, alert({ message: 'a later run of the same incident' }), [target('ops')]);
    expect(again.created).toBe(false);
    expect(again.alert.id).toBe(first.alert.id);
    expect(again.alert.alert.message).toBe('distance and origin drifted');
    expect((await listAlerts(database.db, { model: 'flight-delays' })).length).toBe(1);
  });

  it('targets below their minimum severity are skipped; no target: status none', async () => {
    const { alert: stored } = await recordAlert(
      database.db,
      alert({ incidentKey: 'feature_drift:m:v1:x', kind: 'feature_drift', severity: 'warning' }),
      [{ name: 'pager', minSeverity: 'critical' }],
    );
    expect(stored.deliveries).toEqual([{ target: 'pager', status: 'skipped', attempts: 0 }]);
    expect(stored.deliveryStatus).toBe('none');
    expect((await recordAlert(database.db, alert({ incidentKey: 'schema:m:v1:x', kind: 'schema' }))).alert.deliveryStatus).toBe('none');
  });

  it('500 then 200 across activity attempts: recorded pending, then delivered; a later run sends nothing', async () => {
    const ops = target('ops2', { format: 'slack' });
    const { alert: stored } = await recordAlert(database.db, alert({ incidentKey: 'data_drift:m:v2:x' }), [ops]);
    script = [
      { status: 500, body: 'oops' },
      { status: 200, body: 'ok' },
    ];
    await expect(deliverStoredAlert(database.db, { alertId: stored.id, target: ops, finalAttempt: false })).rejects.toThrow(
      WebhookDeliveryError,
    );
    let now = await getAlert(database.db, stored.id);
    expect(now!.deliveries[0]).toMatchObject({
      target: 'ops2',
      status: 'pending',
      attempts: 1,
      httpStatus: 500,
      error: expect.stringContaining('HTTP 500'),
    });
    expect(now!.deliveryStatus).toBe('pending');
    await expect(deliverStoredAlert(database.db, { alertId: stored.id, target: ops, finalAttempt: false })).resolves.toMatchObject({
      status: 'delivered',
    });
    now = await getAlert(database.db, stored.id);
    expect(now!.deliveries[0]).toMatchObject({ status: 'delivered', attempts: 2, httpStatus: 200 });
    expect(now!.deliveries[0].error).toBeUndefined();
    expect(now!.deliveryStatus).toBe('delivered');
    // The Slack body reached the receiver.
    expect(received.at(-1)!.body).toMatchObject({ text: expect.stringContaining('[CRITICAL]'), blocks: expect.any(Array) });
    expect(received.at(-1)!.headers['idempotency-key']).toBe('data_drift:m:v2:x/ops2');
    // Already delivered: nothing is sent again.
    const count = received.length;
    await expect(deliverStoredAlert(database.db, { alertId: stored.id, target: ops, finalAttempt: false })).resolves.toEqual({
      status: 'delivered',
    });
    expect(received.length).toBe(count);
  });

  it('timeouts until the last attempt: recorded as failed, the error rethrown for the caller to swallow', async () => {
    const slow = target('slow', { timeoutMs: 150 });
    const { alert: stored } = await recordAlert(database.db, alert({ incidentKey: 'data_drift:m:v3:x' }), [slow, target('fine')]);
    script = [{ hang: true }, { hang: true }];
    await expect(deliverStoredAlert(database.db, { alertId: stored.id, target: slow, finalAttempt: false })).rejects.toThrow(/timed out/);
    await expect(deliverStoredAlert(database.db, { alertId: stored.id, target: slow, finalAttempt: true })).rejects.toThrow(/timed out/);
    await deliverStoredAlert(database.db, { alertId: stored.id, target: target('fine'), finalAttempt: false });
    const now = await getAlert(database.db, stored.id);
    expect(now!.deliveries.map((d) => [d.target, d.status, d.attempts])).toEqual([
      ['slow', 'failed', 2],
      ['fine', 'delivered', 1],
    ]);
    expect(now!.deliveryStatus).toBe('partial');
  });

  it('a 4xx is final at once; a missing URL variable is a rejected delivery', async () => {
    const bad = target('bad');
    const { alert: stored } = await recordAlert(database.db, alert({ incidentKey: 'data_drift:m:v4:x' }), [
      bad,
      { name: 'env', minSeverity: 'warning' },
    ]);
    script = [{ status: 403, body: 'invalid_token' }];
    await expect(deliverStoredAlert(database.db, { alertId: stored.id, target: bad, finalAttempt: false })).rejects.toThrow(
      WebhookRejectedError,
    );
    const env = webhookTargetSchema.parse({ name: 'env', urlEnv: 'KEEL_TEST_UNSET_WEBHOOK' });
    await expect(deliverStoredAlert(database.db, { alertId: stored.id, target: env, finalAttempt: false, env: {} })).rejects.toThrow(
      'webhook "env": environment variable KEEL_TEST_UNSET_WEBHOOK is not set',
    );
    const now = await getAlert(database.db, stored.id);
    expect(now!.deliveries.map((d) => d.status)).toEqual(['failed', 'failed']);
    expect(now!.deliveryStatus).toBe('failed');
    expect(webhookUrl(env, { KEEL_TEST_UNSET_WEBHOOK: `${base}/x` })).toBe(`${base}/x`);
  });

  it('a success reported twice (a retried activity) counts once', async () => {
    const { alert: stored } = await recordAlert(database.db, alert({ incidentKey: 'data_drift:m:v5:x' }), [target('once')]);
    await recordDeliveryAttempt(database.db, stored.id, 'once', { ok: true, httpStatus: 200 });
    const after = await recordDeliveryAttempt(database.db, stored.id, 'once', { ok: true, httpStatus: 200 });
    expect(after.deliveries[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('summarises delivery states', () => {
    expect(summarise([])).toBe('none');
    expect(
      summarise([
        { target: 'a', status: 'delivered', attempts: 1 },
        { target: 'b', status: 'skipped', attempts: 0 },
      ]),
    ).toBe('delivered');
    expect(summarise([{ target: 'a', status: 'failed', attempts: 3 }])).toBe('failed');
    expect(
      summarise([
        { target: 'a', status: 'pending', attempts: 1 },
        { target: 'b', status: 'delivered', attempts: 1 },
      ]),
    ).toBe('pending');
    expect(alertSchema.safeParse({}).success).toBe(false);
  });
});
