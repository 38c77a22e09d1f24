import { describe, expect, it } from 'vitest';
import { driftAlerts } from '../../src/monitoring/alerts';
import { evaluateDrift } from '../../src/monitoring/drift';
import { categoricalDriftReference, numericDriftReference } from '../../src/monitoring/reference';
import { alertSchema, incidentKey, type Alert } from '../../src/notify/alert';
import { notificationsConfigSchema, webhookTargetSchema } from '../../src/shared/notifications';
import { escapeMrkdwn, genericPayload, slackPayload, webhookPayload } from '../../src/notify/payloads';
import { numbers, strings } from '../fixtures/drift/samples';

const alert: Alert = alertSchema.parse({
  incidentKey: 'data_drift:flight-delays:v3:2001-02-01T00:00:00.000Z',
  model: 'flight-delays',
  version: 3,
  kind: 'data_drift',
  severity: 'critical',
  title: 'flight-delays v3: data drift in 3 of 5 features',
  message: 'distance & origin moved; <retraining> started',
  lines: ['distance: wasserstein 0.37 ≥ 0.1', 'origin: jensenshannon 0.2 ≥ 0.1'],
  occurredAt: '2001-02-01T10:00:00.000Z',
  details: { reportId: 7, share: 0.6 },
  links: [{ label: 'Temporal UI', url: 'http://127.0.0.1:8233/namespaces/default/workflows' }],
});

describe('alert payloads', () => {
  it('Slack: a notification text and Block Kit blocks, mrkdwn escaped', () => {
    const message = slackPayload(alert);
    expect(message.text).toBe(':rotating_light: [CRITICAL] flight-delays v3: data drift in 3 of 5 features');
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'actions', 'context']);
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '[CRITICAL] flight-delays v3: data drift in 3 of 5 features', emoji: true },
    });
    expect(message.blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'distance &amp; origin moved; &lt;retraining&gt; started' },
    });
    expect((message.blocks[2] as { fields: { text: string }[] }).fields.map((f) => f.text)).toEqual([
      '*Model*\nflight-delays',
      '*Version*\n3',
      '*Kind*\ndata drift',
      '*Severity*\ncritical',
    ]);
    expect((message.blocks[3] as { text: { text: string } }).text.text).toBe(
      '• distance: wasserstein 0.37 ≥ 0.1\n• origin: jensenshannon 0.2 ≥ 0.1',
    );
    expect(JSON.stringify(message.blocks.at(-1))).toContain('data_drift:flight-delays:v3:2001-02-01T00:00:00.000Z');
    expect(webhookPayload(alert, 'slack')).toEqual(message);
  });

  it("Slack: stays within Slack's limits for long titles and many lines", () => {
    const long = alertSchema.parse({
      ...alert,
      title: 'x'.repeat(400),
      lines: Array.from({ length: 500 }, (_, i) => `column_${i}: wasserstein 0.5 ≥ 0.1`),
    });
    const message = slackPayload(long);
    const header = message.blocks[0] as { text: { text: string } };
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    const lines = (message.blocks[3] as { text: { text: string } }).text.text;
    expect(lines.length).toBeLessThanOrEqual(3000);
    expect(lines).toMatch(/… and \d+ more$/);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
  });

  it('generic: the alert as validated, with a type and a version', () => {
    const body = genericPayload(alert);
    expect(body).toEqual({ type: 'keel.alert', version: 1, alert });
    expect(JSON.parse(JSON.stringify(webhookPayload(alert, 'generic')))).toEqual(body);
  });

  it('escapes the three mrkdwn control characters only', () => {
    expect(escapeMrkdwn('a < b && c > d *bold*')).toBe('a &lt; b &amp;&amp; c &gt; d *bold*');
  });
});

describe('incident keys', () => {
  it('are one per kind, model version and day by default, from the observation time', () => {
    const at = (iso: string) => incidentKey({ kind: 'data_drift', model: 'm', version: 2, at: iso });
    expect(at('2001-02-01T00:05:00Z')).toBe('data_drift:m:v2:2001-02-01T00:00:00.000Z');
    expect(at('2001-02-01T23:55:00Z')).toBe(at('2001-02-01T00:05:00Z'));
    expect(at('2001-02-02T00:00:00Z')).not.toBe(at('2001-02-01T23:55:00Z'));
    expect(incidentKey({ kind: 'schema', model: 'm', version: null, at: new Date('2001-02-01T10:20:00Z'), dedupWindowMs: 3_600_000 })).toBe(
      'schema:m:v-:2001-02-01T10:00:00.000Z',
    );
    expect(() => incidentKey({ kind: 'x', model: 'm', version: 1, at: 'yesterday' })).toThrow(/invalid time/);
  });
});

describe('drift alerts', () => {
  it('raise a critical data_drift alert with one line per drifting feature', () => {
    const reference = {
      distance: numericDriftReference(numbers({ dist: 'normalish', n: 5000, seed: 1, loc: 800, scale: 300 })),
      origin: categoricalDriftReference(
        strings({ dist: 'categorical', n: 5000, seed: 2, categories: ['ATL', 'ORD', 'SEA'], weights: [3, 2, 1] }),
      ),
    };
    const current = {
      columns: {
        distance: numbers({ dist: 'normalish', n: 1000, seed: 3, loc: 950, scale: 300 }),
        origin: strings({ dist: 'categorical', n: 1000, seed: 4, categories: ['ATL', 'ORD', 'SEA'], weights: [1, 2, 3] }),
      },
      rowCount: 1000,
    };
    const evaluation = evaluateDrift({ reference, current, features: ['distance', 'origin'] });
    const [drift] = driftAlerts(evaluation, {
      model: 'flight-delays',
      version: 1,
      windowStart: '2001-02-01T09:00:00Z',
      windowEnd: '2001-02-01T10:00:00.000Z',
      reportId: 12,
    });
    const parsed = alertSchema.parse(drift);
    expect(parsed).toMatchObject({
      kind: 'data_drift',
      severity: 'critical',
      incidentKey: 'data_drift:flight-delays:v1:2001-02-01T00:00:00.000Z',
      title: 'flight-delays v1: data drift in 2 of 2 features',
      details: { reportId: 12, rowCount: 1000, driftedColumns: ['distance', 'origin'] },
    });
    expect(parsed.lines).toEqual([expect.stringMatching(/^distance: wasserstein \d/), expect.stringMatching(/^origin: jensenshannon \d/)]);
  });
});

describe('notification config', () => {
  it('accepts a Slack target with its URL in an environment variable, with defaults', () => {
    const config = notificationsConfigSchema.parse({
      webhooks: [{ name: 'ops-slack', urlEnv: 'KEEL_SLACK_WEBHOOK_URL', format: 'slack' }],
    });
    expect(config.webhooks[0]).toEqual({
      name: 'ops-slack',
      urlEnv: 'KEEL_SLACK_WEBHOOK_URL',
      format: 'slack',
      timeoutMs: 5000,
      minSeverity: 'warning',
      headers: {},
    });
    expect(config.dedupWindowMs).toBe(86_400_000);
  });

  it('rejects bad targets with the reason', () => {
    expect(() => webhookTargetSchema.parse({ name: 'a', url: 'ftp://x/y' })).toThrow(/http\(s\)/);
    expect(() => webhookTargetSchema.parse({ name: 'a' })).toThrow(/exactly one of url and urlEnv/);
    expect(() => webhookTargetSchema.parse({ name: 'a b', url: 'http://x' })).toThrow(/letters, digits/);
    expect(() =>
      notificationsConfigSchema.parse({
        webhooks: [
          { name: 'a', url: 'http://x' },
          { name: 'a', url: 'http://y' },
        ],
      }),
    ).toThrow(/duplicate webhook name/);
  });
});
