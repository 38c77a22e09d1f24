import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import type { Logger } from 'pino';
import type { Database } from '../db/database';
import { viewFreshness } from '../features/freshness';
import { listViews } from '../features/view-store';
import { RequestError } from '../serving/predict';
import { actorOf } from '../serving/auth';
import {
  actionAccess,
  actionBodySchema,
  type ActionSettings,
  authenticatorFor,
  checkAction,
  presentedKey,
  rolloutActions,
  type RolloutAction,
  runRolloutAction,
} from './actions';
import { approvalBodySchema, decideApproval } from './approval-actions';
import { loadAssets } from './assets';
import type { TemporalLinks } from './links';
import { loadDatasetProfile, loadDatasetVersions, loadQuarantine, loadRows } from './loaders/data';
import { loadDriftReport, loadModelMonitoring, loadMonitoredModels } from './loaders/monitoring';
import { loadDiff, loadLineage, loadModel, loadModels } from './loaders/models';
import { loadRollout, loadRollouts } from './loaders/rollouts';
import { loadPipelineRuns, loadRunDetail } from './loaders/runs';
import { featuresPage } from './pages/features';
import { dataPage, datasetPage, quarantinePage, rowsPage } from './pages/data';
import { diffPage, modelPage, modelsPage, versionPage } from './pages/models';
import { driftReportPage, modelMonitoringPage, monitoringPage } from './pages/monitoring';
import { rolloutPage, rolloutsPage } from './pages/rollouts';
import { runPage, runsPage } from './pages/runs';
import { h } from './html/template';
import { layout } from './pages/layout';
import { describeIssues } from '../shared/validation';

export interface UiOptions extends ActionSettings {
  database: Database;
  links: TemporalLinks;
  logger?: Logger;
}

/** Rows per page of the accepted-rows and quarantine browsers. */
const PAGE_ROWS = 50;

/**
 * The dashboard's routes: pages (GET, read-only) over the same src/ modules as the CLI, the
 * assets they load, and the actions (POST). Apart from the model server (src/serving): it never
 * shares its process's event loop with predictions unless `npm start` runs both.
 */
export function createUiApp(options: UiOptions): Hono {
  const db = options.database.db;
  const links = options.links;
  const assets = loadAssets();
  const authenticator = authenticatorFor(options);
  const app = new Hono();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    // Load and render time of this response, for browsers' devtools and bench:ui.
    c.header('server-timing', `render;dur=${(performance.now() - started).toFixed(1)}`);
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'same-origin');
    // Everything from this server; Vega compiles its expressions with Function (unsafe-eval) and
    // vega-embed sets inline styles.
    c.header(
      'content-security-policy',
      "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    );
  });

  app.get('/', (c) => c.redirect('/runs'));
  app.get('/assets/:name', (c) => {
    const asset = assets.get(c.req.param('name'));
    if (!asset) return c.notFound();
    return c.body(asset.body, 200, { 'content-type': asset.contentType, 'cache-control': 'public, max-age=3600' });
  });
  app.get('/healthz', (c) => c.json({ ok: true }));

  app.get('/runs', async (c) => {
    const { runs, pending } = await loadPipelineRuns(db);
    return c.html(runsPage(runs, pending, links, new Date()));
  });
  app.get('/runs/:id', async (c) => {
    const detail = await loadRunDetail(db, c.req.param('id'));
    return detail
      ? c.html(runPage(detail, actionAccess(options), links, new Date()))
      : notFound(c, `no pipeline run "${c.req.param('id')}"`);
  });

  app.get('/features', async (c) => {
    const [views, freshness] = await Promise.all([listViews(db), viewFreshness(db, Date.now())]);
    return c.html(featuresPage(views.map((view) => ({ view, freshness: freshness.find((f) => f.view === view.name) }))));
  });
  app.get('/data', async (c) => c.html(dataPage(await loadDatasetVersions(db), links)));
  app.get('/data/:id', async (c) => {
    const view = await loadDatasetProfile(db, c.req.param('id'));
    return view ? c.html(datasetPage(view, links)) : notFound(c, `no dataset version "${c.req.param('id')}"`);
  });
  app.get('/data/:id/quarantine', async (c) => {
    const view = await loadDatasetProfile(db, c.req.param('id'), { correlations: false });
    if (!view) return notFound(c, `no dataset version "${c.req.param('id')}"`);
    const filter = {
      column: c.req.query('column') || undefined,
      source: c.req.query('source') || undefined,
      kind: c.req.query('kind') === 'duplicate' ? ('duplicate' as const) : ('invalid' as const),
      offset: offsetOf(c.req.query('offset')),
      limit: PAGE_ROWS,
    };
    return c.html(quarantinePage(view, filter, await loadQuarantine(db, view.id, filter), links));
  });
  app.get('/data/:id/rows', async (c) => {
    const view = await loadDatasetProfile(db, c.req.param('id'), { correlations: false });
    if (!view) return notFound(c, `no dataset version "${c.req.param('id')}"`);
    const offset = offsetOf(c.req.query('offset'));
    return c.html(rowsPage(view, await loadRows(db, view.id, offset, PAGE_ROWS), offset, PAGE_ROWS, links));
  });

  app.get('/models', async (c) => c.html(modelsPage(await loadModels(db), links)));
  app.get('/models/:name', async (c) => {
    const at = c.req.query('at');
    const detail = await loadModel(db, c.req.param('name'), at ? new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(at) ? at : `${at}Z`) : undefined);
    return detail ? c.html(modelPage(detail, links, new Date())) : notFound(c, `no model "${c.req.param('name')}"`);
  });
  app.get('/models/:name/v/:version', async (c) => {
    const lineage = await loadLineage(db, c.req.param('name'), Number(c.req.param('version')), links);
    return lineage ? c.html(versionPage(lineage, links)) : notFound(c, `no version ${c.req.param('version')} of "${c.req.param('name')}"`);
  });
  app.get('/models/:name/diff', async (c) => {
    const name = c.req.param('name');
    const diff = await loadDiff(db, name, Number(c.req.query('a')), Number(c.req.query('b')), links);
    return diff
      ? c.html(diffPage(name, diff, links))
      : notFound(c, `cannot compare versions ${c.req.query('a')} and ${c.req.query('b')} of "${name}"`);
  });

  app.get('/rollouts', async (c) => c.html(rolloutsPage(await loadRollouts(db), links)));
  app.get('/rollouts/:id', async (c) => {
    const detail = await loadRollout(db, c.req.param('id'));
    return detail
      ? c.html(rolloutPage(detail, actionAccess(options), links, new Date()))
      : notFound(c, `no rollout "${c.req.param('id')}"`);
  });

  app.get('/monitoring', async (c) => c.html(monitoringPage(await loadMonitoredModels(db), links)));
  app.get('/monitoring/reports/:id', async (c) => {
    const report = await loadDriftReport(db, Number(c.req.param('id')));
    if (!report) return notFound(c, `no drift report #${c.req.param('id')}`);
    const details = report.features as { message: string; features: never[] };
    return c.html(
      driftReportPage(
        {
          id: report.id,
          model: report.modelName,
          version: report.version,
          status: report.status,
          message: details.message,
          window: { start: report.windowStart, end: report.windowEnd },
          rowCount: report.rowCount,
          findings: report.findings,
          features: details.features ?? [],
          actions: report.actions as never,
        },
        report.runKey,
        links,
      ),
    );
  });
  app.get('/monitoring/:model', async (c) =>
    c.html(modelMonitoringPage(c.req.param('model'), await loadModelMonitoring(db, c.req.param('model')), links)),
  );

  app.post('/actions/rollouts/:model/:action', async (c) => {
    const action = c.req.param('action') as RolloutAction;
    if (!rolloutActions.includes(action))
      throw new RequestError(404, `unknown rollout action "${action}" (one of ${rolloutActions.join(', ')})`);
    const caller = checkAction(c, options, authenticator);
    const raw: unknown = await c.req.json().catch(() => ({}));
    const body = actionBodySchema.safeParse(raw);
    if (!body.success) throw new RequestError(400, `invalid action body: ${describeIssues(body.error.issues, raw).join('; ')}`);
    const client = await options.temporal!();
    const message = await runRolloutAction(
      client,
      c.req.param('model'),
      action,
      body.data.reason,
      actorOf(caller, undefined, 'user:dashboard'),
    );
    options.logger?.info({ model: c.req.param('model'), action }, 'dashboard rollout action');
    return c.json({ ok: true, message });
  });

  app.post('/actions/approvals/:id/:decision', async (c) => {
    const decision = c.req.param('decision');
    if (decision !== 'approve' && decision !== 'reject') throw new RequestError(404, `unknown decision "${decision}" (approve or reject)`);
    const caller = checkAction(c, options, authenticator);
    const raw: unknown = await c.req.json().catch(() => ({}));
    const body = approvalBodySchema.safeParse(raw);
    if (!body.success) throw new RequestError(400, `invalid approval: ${describeIssues(body.error.issues, raw).join('; ')}`);
    const record = await decideApproval(db, await options.temporal!(), {
      id: c.req.param('id'),
      decision,
      approver: actorOf(caller, body.data.approver, 'user:dashboard'),
      reason: body.data.reason,
      adminKey: options.adminKeys.length ? presentedKey(c) : undefined,
    });
    options.logger?.info({ approval: c.req.param('id'), decision }, 'dashboard approval decision');
    return c.json({
      ok: true,
      message: `${record.decision === 'approve' ? 'approved' : 'rejected'} v${record.version} by ${record.approver}`,
      record,
    });
  });

  app.onError((error, c) => {
    if (error instanceof RequestError) return c.json({ message: error.message }, error.status as 400);
    options.logger?.error({ err: error, path: c.req.path }, 'dashboard request failed');
    const message = error.message;
    return c.req.method === 'GET'
      ? c.html(layout({ title: 'Error', section: 'runs', body: h`<div class="failure">${message}</div>` }), 500)
      : c.json({ message }, 500);
  });
  return app;
}

function notFound(c: Context, message: string) {
  return c.html(layout({ title: 'Not found', section: 'runs', body: h`<p class="note">${message}</p>` }), 404);
}

function offsetOf(text: string | undefined): number {
  const n = Number(text ?? 0);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

export interface RunningUi {
  url: string;
  close(): Promise<void>;
}

/** Serves the dashboard on host:port (port 0: any free port). */
export async function startUi(options: UiOptions & { port: number }): Promise<RunningUi> {
  const app = createUiApp(options);
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
