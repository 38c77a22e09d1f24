import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type Database, openDatabase } from '../../src/db/database';
import { driftReports } from '../../src/db/schema';
import { recordAlert } from '../../src/notify/alert-store';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { setAlias } from '../../src/registry/aliases';
import { freePort } from '../../src/runtime/ports';
import { type ModelServer, startModelServer } from '../../src/serving/http-server';
import { setRoute } from '../../src/serving/routes';
import { buildTinyLogisticOnnx } from '../fixtures/tiny-logistic-onnx';
import { registerOnnxVersion } from '../fixtures/register-onnx';
import { dashboardQueries, scrapedSeries, selectorsOf } from './support/grafana-dashboard';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '../..');
const DASHBOARD = join(repo, 'deploy/grafana/dashboards/keel.json');

/**
 * The Grafana dashboard (deploy/grafana) against the real thing: every metric its PromQL reads,
 * with the labels it matches on, exists in a real scrape of a real model server that served a
 * canary, a shadow step, bad input and a drift report; Prometheus's own tools accept the queries
 * and the scrape config, and a real Prometheus scraping the server answers each query with data;
 * docker-compose.yml wires Prometheus and Grafana to the files.
 */
describe('the Grafana dashboard', () => {
  const model = 'grafana-metrics';
  let dir: string;
  let database: Database;
  let server: ModelServer;
  let exposition: string;
  let dashboard: Parameters<typeof dashboardQueries>[0] & { panels: { datasource?: { uid: string }; panels?: unknown[] }[] };

  beforeAll(async () => {
    dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'));
    dir = await mkdtemp(join(tmpdir(), 'keel-grafana-'));
    database = await openDatabase({ dataDir: join(dir, 'db') });
    const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
    const versions: number[] = [];
    for (const seed of [1, 2]) {
      const onnx = buildTinyLogisticOnnx({
        numeric: [{ name: 'distance', weight: 0.001 * seed, mean: 800 }],
        categorical: [{ name: 'origin', weights: { SFO: 0.4, LAX: -0.6 } }],
        bias: -1,
      });
      versions.push((await registerOnnxVersion({ database, artifacts }, model, onnx, { key: `grafana/${seed}` })).version);
    }
    const [baseline, candidate] = versions as [number, number];
    await setAlias(database.db, { model, alias: 'production', version: baseline, actor: 'test', reason: 'baseline' });
    // What the monitor leaves behind: a drift report of production, and its alert.
    const windowEnd = new Date();
    await database.db.insert(driftReports).values({
      runKey: 'monitor/grafana-metrics/run-1',
      modelName: model,
      version: baseline,
      referenceDatasetVersionId: 'reference',
      windowStart: new Date(windowEnd.getTime() - 3_600_000),
      windowEnd,
      rowCount: 500,
      status: 'drift',
      features: { message: 'data drift in 3 of 5 features', features: [], evaluation: { dataset: { drifted: true, share: 0.6 } } },
      findings: ['data_drift'],
    });
    await recordAlert(database.db, {
      incidentKey: `data_drift:${model}:v${baseline}:0`,
      model,
      version: baseline,
      kind: 'data_drift',
      severity: 'critical',
      title: `${model} v${baseline}: data drift in 3 of 5 features`,
      message: 'data drift',
      occurredAt: windowEnd.toISOString(),
    });

    server = await startModelServer({
      database,
      artifacts,
      port: 0,
      refreshMs: 0,
      models: [model],
      logger: pino({ level: 'silent' }),
      apiKeys: { predict: [], admin: [] },
    });
    const predict = (instances: unknown[], key: string) =>
      fetch(`${server.url}/v1/models/${model}:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-keel-route-key': key },
        body: JSON.stringify({ instances }),
      });
    const row = { distance: 1200, origin: 'SFO' };
    // A shadow step (5 requests mirrored), then a 50 % split: shadow outcomes, and both versions answering.
    await setRoute(database.db, { model, baseline, candidate, candidateWeight: 1, shadow: true });
    await server.pool.refresh();
    for (let i = 0; i < 5; i++) expect((await predict([row, row], `shadow-${i}`)).status).toBe(200);
    await setRoute(database.db, { model, baseline, candidate, candidateWeight: 0.5 });
    await server.pool.refresh();
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => predict([row], `user-${i}`).then((r) => r.json() as Promise<{ version: number }>)),
    );
    expect(new Set(answers.map((a) => a.version))).toEqual(new Set([baseline, candidate]));
    expect((await predict([{ distance: 'far', origin: 'SFO' }], 'bad')).status).toBe(400);
    await server.logWriter.flush();
    exposition = await (await fetch(`${server.url}/metrics`)).text();
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await database?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('queries only metrics, and labels, that a real /metrics scrape has', () => {
    const scraped = scrapedSeries(exposition);
    const queries = dashboardQueries(dashboard);
    expect(queries.length).toBeGreaterThan(30);
    const missing: string[] = [];
    const read = new Set<string>();
    for (const query of queries) {
      const selectors = selectorsOf(query.promql);
      expect(selectors.length, `${query.where}: ${query.expr}`).toBeGreaterThan(0);
      for (const { metric, labels } of selectors) {
        read.add(metric);
        const seen = scraped.get(metric);
        if (!seen) missing.push(`${query.where}: ${metric} is not in the scrape`);
        for (const label of labels) if (seen && !seen.has(label)) missing.push(`${query.where}: ${metric} has no label ${label}`);
      }
    }
    expect(missing).toEqual([]);
    // What the issue asks the dashboard to show, by the metric that shows it.
    for (const metric of [
      'keel_predict_requests_total',
      'keel_predict_duration_seconds_bucket',
      'keel_predict_errors_total',
      'keel_inference_batch_rows_bucket',
      'keel_prediction_log_queued_rows',
      'keel_prediction_log_dropped_rows_total',
      'keel_route_candidate_weight',
      'keel_drift_detected',
      'keel_alerts_total',
    ]) {
      expect(read, metric).toContain(metric);
    }
  });

  it('has the served state in the scrape: canary weight, both versions, log per version, drift and alerts', async () => {
    const [baseline, candidate] = [1, 2];
    expect(exposition).toContain(`keel_route_candidate_weight{model="${model}",mode="split"} 0.5`);
    expect(exposition).toMatch(
      new RegExp(`^keel_shadow_predictions_total\\{model="${model}",version="${candidate}",outcome="ok"\\} 5$`, 'm'),
    );
    for (const version of [baseline, candidate]) {
      expect(exposition).toMatch(
        new RegExp(`^keel_predict_requests_total\\{model="${model}",version="${version}",protocol="v1"\\} [1-9]\\d*$`, 'm'),
      );
      expect(exposition).toContain(`keel_prediction_log_queued_rows{model="${model}",version="${version}"} 0`);
      expect(exposition).toContain(`keel_prediction_log_dropped_rows_total{model="${model}",version="${version}"} 0`);
    }
    expect(exposition).toMatch(
      new RegExp(`^keel_predict_errors_total\\{model="${model}",version="\\d",protocol="v1",code="400"\\} 1$`, 'm'),
    );
    expect(exposition).toContain(`keel_drift_detected{model="${model}",version="${baseline}"} 1`);
    expect(exposition).toContain(`keel_drift_share{model="${model}",version="${baseline}"} 0.6`);
    expect(exposition).toMatch(
      new RegExp(`^keel_drift_report_timestamp_seconds\\{model="${model}",version="${baseline}"\\} \\d+(\\.\\d+)?$`, 'm'),
    );
    expect(exposition).toContain(`keel_alerts_total{model="${model}",kind="data_drift",severity="critical"} 1`);
    // And promtool still accepts the whole exposition.
    const file = join(dir, 'metrics.txt');
    await writeFile(file, exposition);
    const { stdout, stderr } = await run('sh', ['-c', `promtool check metrics < "${file}"`]);
    expect(stdout + stderr).toBe('');
  });

  it("passes Prometheus's own checks: the scrape config, its alert rules, and every dashboard query", async () => {
    const config = await run('promtool', ['check', 'config', join(repo, 'deploy/prometheus/prometheus.yml')]);
    expect(config.stdout).toContain('is valid prometheus config file syntax');
    // promtool parses PromQL in rule files only: each dashboard query becomes a recording rule.
    const rules = {
      groups: [
        {
          name: 'dashboard',
          rules: dashboardQueries(dashboard).map((query, i) => ({ record: `keel:dashboard_query_${i}`, expr: query.promql })),
        },
      ],
    };
    const file = join(dir, 'dashboard-rules.json');
    await writeFile(file, JSON.stringify(rules));
    const checked = await run('promtool', ['check', 'rules', file]).catch((error: { stdout: string; stderr: string }) => {
      throw new Error(`promtool check rules refused a dashboard query:\n${error.stdout}${error.stderr}`);
    });
    expect(checked.stdout).toContain(`SUCCESS: ${rules.groups[0].rules.length} rules found`);
  });

  it('answers every dashboard query with data in a real Prometheus scraping the server', async () => {
    const port = await freePort();
    const config = join(dir, 'prometheus.yml');
    const target = new URL(server.url).host;
    await writeFile(
      config,
      JSON.stringify({
        global: { scrape_interval: '1s' },
        scrape_configs: [{ job_name: 'keel', static_configs: [{ targets: [target] }] }],
      }),
    );
    const log = createWriteStream(join(dir, 'prometheus.log'));
    const prometheus = spawn(
      'prometheus',
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    prometheus.stdout.pipe(log);
    prometheus.stderr.pipe(log);
    const api = `http://127.0.0.1:${port}`;
    const query = async (promql: string) => {
      const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
      return (await response.json()) as {
        status: string;
        error?: string;
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
    };
    // Traffic to both versions while Prometheus scrapes, so rates and quantiles have something to say.
    let sending = true;
    const traffic = (async () => {
      for (let i = 0; sending; i++) {
        await fetch(`${server.url}/v1/models/${model}:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-keel-route-key': `live-${i % 20}` },
          body: JSON.stringify({ instances: [{ distance: 900 + i, origin: 'LAX' }] }),
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      await expect
        .poll(async () => (await fetch(`${api}/-/ready`).catch(() => undefined))?.status, { timeout: 30_000, interval: 250 })
        .toBe(200);
      await expect
        .poll(async () => Number((await query('count_over_time(up{job="keel"}[1m])')).data.result[0]?.value[1] ?? 0), {
          timeout: 30_000,
          interval: 250,
        })
        .toBeGreaterThanOrEqual(4);
      expect((await query('up{job="keel"}')).data.result[0]?.value[1]).toBe('1');
      const empty: string[] = [];
      for (const { where, promql } of dashboardQueries(dashboard)) {
        const answer = await query(promql);
        if (answer.status !== 'success') empty.push(`${where}: ${answer.error}`);
        else if (!answer.data.result.some((r) => Number.isFinite(Number(r.value[1]))))
          empty.push(`${where}: no finite value (${answer.data.result.length} series): ${promql}`);
      }
      expect(empty).toEqual([]);
      // Spot checks of what the panels draw: both versions share the traffic, and the canary weight.
      const share = await query(dashboardQueries(dashboard).find((q) => q.where.startsWith('panel "Traffic share per version'))!.promql);
      expect(share.data.result.map((r) => r.metric.version).sort()).toEqual(['1', '2']);
      expect(share.data.result.reduce((sum, r) => sum + Number(r.value[1]), 0)).toBeCloseTo(1, 6);
      const p99 = await query(dashboardQueries(dashboard).find((q) => q.where === 'panel "Latency quantiles" C')!.promql);
      for (const r of p99.data.result) expect(Number(r.value[1])).toBeGreaterThan(0);
    } finally {
      sending = false;
      await traffic;
      prometheus.kill('SIGTERM');
      if (prometheus.exitCode === null) await once(prometheus, 'exit');
      log.end();
    }
  }, 120_000);

  it('lays its panels out on the 24-column grid without overlaps, each with its own id', () => {
    type Laid = { id: number; title: string; type: string; gridPos: { x: number; y: number; w: number; h: number }; panels?: Laid[] };
    const panels = (dashboard.panels as unknown as Laid[]).flatMap((p) => [p, ...(p.panels ?? [])]);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const [i, a] of panels.entries()) {
      expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
      for (const b of panels.slice(i + 1)) {
        const apart =
          a.gridPos.x + a.gridPos.w <= b.gridPos.x ||
          b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
          a.gridPos.y + a.gridPos.h <= b.gridPos.y ||
          b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        expect(apart, `"${a.title}" and "${b.title}" overlap`).toBe(true);
      }
      if (a.type !== 'row') expect((a as unknown as { description?: string }).description, `${a.title} describes itself`).toBeTruthy();
    }
  });

  it('is wired into docker-compose.yml: Prometheus scrapes the server, Grafana loads the datasource and the dashboard', async () => {
    const compose = parseYaml(await readFile(join(repo, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { ports?: string[]; volumes?: string[]; depends_on?: unknown }>;
      volumes: Record<string, unknown>;
    };
    const { prometheus, grafana, server: modelServer } = compose.services;
    expect(prometheus && grafana && modelServer).toBeTruthy();
    /** The repository directory mounted at `target` in a service, checked to exist. */
    const mounted = async (volumes: string[] | undefined, target: string) => {
      const mount = volumes?.map((v) => v.split(':')).find(([, to]) => to === target);
      expect(mount, `a volume mounted at ${target}`).toBeDefined();
      const path = join(repo, mount![0]);
      expect((await stat(path)).isDirectory()).toBe(true);
      return path;
    };
    for (const service of [prometheus, grafana]) {
      for (const volume of service.volumes ?? []) {
        const [source] = volume.split(':');
        if (!source.startsWith('.')) expect(compose.volumes, `named volume ${source}`).toHaveProperty(source);
      }
    }

    // Prometheus: its config comes from deploy/prometheus and scrapes the server service at its port.
    const prometheusDir = await mounted(prometheus.volumes, '/etc/prometheus');
    const scrape = parseYaml(await readFile(join(prometheusDir, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[] }[]; metrics_path?: string }[];
    };
    const serverPort = modelServer.ports![0].split(':')[1];
    expect(scrape.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets))).toContain(`server:${serverPort}`);
    expect(scrape.scrape_configs[0].metrics_path ?? '/metrics').toBe('/metrics');

    // Grafana: the provisioned datasource is the one every panel names, at the prometheus service.
    const provisioning = await mounted(grafana.volumes, '/etc/grafana/provisioning');
    const datasources = parseYaml(await readFile(join(provisioning, 'datasources/prometheus.yml'), 'utf8')) as {
      datasources: { uid: string; url: string }[];
    };
    const [datasource] = datasources.datasources;
    expect(datasource.url).toBe(`http://prometheus:${prometheus.ports![0].split(':')[1]}`);
    const uids = new Set<string>();
    const visit = (panels: { datasource?: { uid: string }; panels?: unknown[] }[]) => {
      for (const panel of panels) {
        if (panel.datasource) uids.add(panel.datasource.uid);
        visit((panel.panels ?? []) as typeof panels);
      }
    };
    visit(dashboard.panels);
    expect([...uids]).toEqual([datasource.uid]);
    // ... and the dashboards provider reads the directory the dashboard is mounted in.
    const providers = parseYaml(await readFile(join(provisioning, 'dashboards/keel.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const dashboards = await mounted(grafana.volumes, providers.providers[0].options.path);
    expect(JSON.parse(await readFile(join(dashboards, 'keel.json'), 'utf8'))).toEqual(dashboard);
  });
});
