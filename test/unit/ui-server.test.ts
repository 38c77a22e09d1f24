import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { registeredModels } from '../../src/db/schema';
import { actionAccess } from '../../src/ui/actions';
import { createUiApp } from '../../src/ui/server';

let dir: string;
let database: Database;

/** The dashboard's routes over an embedded database, without a browser: status codes, escaping, action guards. */
describe('dashboard routes', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-ui-'));
    database = await openDatabase({ dataDir: dir });
  });
  afterAll(async () => {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  });

  const app = (options: { adminKeys?: string[]; host?: string; temporal?: boolean } = {}) =>
    createUiApp({
      database,
      links: { ui: 'http://127.0.0.1:8233', namespace: 'default' },
      adminKeys: options.adminKeys ?? [],
      host: options.host ?? '127.0.0.1',
      temporal: options.temporal === false ? undefined : () => Promise.reject(new Error('no Temporal in this test')),
    });

  it('serves every page and the chart libraries from this machine', async () => {
    const ui = app();
    for (const path of ['/runs', '/data', '/features', '/models', '/rollouts', '/monitoring', '/monitoring/anything']) {
      const response = await ui.request(path);
      expect(response.status, path).toBe(200);
      const page = await response.text();
      expect(page).not.toMatch(/src="https?:/);
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    }
    for (const asset of ['vega.min.js', 'vega-lite.min.js', 'vega-embed.min.js', 'keel-ui.js', 'keel-ui.css']) {
      expect((await ui.request(`/assets/${asset}`)).status, asset).toBe(200);
    }
    expect((await ui.request('/runs/train%2Fnone%2Fx')).status).toBe(404);
    expect((await ui.request('/assets/nothing.js')).status).toBe(404);
  });

  it('escapes what the database holds', async () => {
    await database.db.insert(registeredModels).values({ name: '<script>alert(1)</script>', description: '' });
    const page = await (await app().request('/models')).text();
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('refuses actions without the dashboard header, from another origin, or without the admin key', async () => {
    const post = (headers: Record<string, string>, ui = app()) =>
      ui.request('/actions/rollouts/m/pause', {
        method: 'POST',
        headers: { 'content-type': 'application/json', host: 'localhost:1', ...headers },
        body: '{}',
      });
    expect((await post({})).status).toBe(403);
    expect((await post({ 'x-keel-action': '1', origin: 'http://evil.example' })).status).toBe(403);
    const keyed = app({ adminKeys: ['k'] });
    expect((await post({ 'x-keel-action': '1' }, keyed)).status).toBe(401);
    expect((await post({ 'x-keel-action': '1', authorization: 'Bearer wrong' }, keyed)).status).toBe(401);
    // With the key the action goes through to Temporal, which this test does not have.
    const through = await post({ 'x-keel-action': '1', origin: 'http://localhost:1', authorization: 'Bearer k' }, keyed);
    expect(((await through.json()) as { message: string }).message).toBe('no Temporal in this test');
    expect((await app().request('/actions/rollouts/m/explode', { method: 'POST', headers: { 'x-keel-action': '1' } })).status).toBe(404);
  });

  it('turns actions off off-loopback without a key, and without Temporal', () => {
    expect(actionAccess({ adminKeys: [], host: '0.0.0.0', temporal: async () => ({}) as never })).toMatchObject({ enabled: false });
    expect(actionAccess({ adminKeys: ['k'], host: '0.0.0.0', temporal: async () => ({}) as never })).toMatchObject({
      enabled: true,
      keyRequired: true,
    });
    expect(actionAccess({ adminKeys: [], host: '127.0.0.1', temporal: async () => ({}) as never })).toMatchObject({
      enabled: true,
      keyRequired: false,
    });
    expect(actionAccess({ adminKeys: [], host: '127.0.0.1' })).toMatchObject({ enabled: false });
  });
});
