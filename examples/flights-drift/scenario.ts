import type { Client } from '@temporalio/client';
import { and, asc, eq } from 'drizzle-orm';
import { flightRowGroupOutsidePeriod, mapFlightRecord, type FlightRow } from '../../src/data/flights-recipe';
import { readParquetRecords } from '../../src/data/parquet-source';
import type { Database } from '../../src/db/database';
import type { DriftEvaluation } from '../../src/monitoring/drift';
import { aliasHistory, alerts, driftReports } from '../../src/db/schema';
import type { CanaryRolloutResult } from '../../src/shared/canary';
import type { MonitorRequest, Period } from '../../src/shared/monitoring';
import type { TrainingPipelineInput } from '../../src/shared/pipeline-input';
import { binaryMetricsOf } from '../../src/shared/model-metrics';
import { type DriftReportSummary, type TrainingPipelineResult } from '../../src/shared/pipeline-result';
import { taskQueues, workflowIds } from '../../src/shared/task-queues';
import { mulberry32 } from '../../src/shared/prng';

/**
 * The flights drift scenario: train on January 2001, then replay February to June 2001 through
 * the real model server as traffic — a uniform sample of each month's real flights — with their
 * true `delayed` sent as feedback (POST /v1/feedback), and run the `monitor` workflow once per
 * replayed month over exactly that month's traffic (an explicit window; its `dataPeriod` is the
 * month). keel decides by itself: drift reports, alerts, and — after sustained drift — a
 * trainingPipeline on the drifted months' data, deployed through the canary rollout.
 *
 * Used by the runnable example (./run.ts) and the integration test
 * (test/integration/monitor-scenario.test.ts).
 */

export interface ScenarioMonth {
  /** `2001-02` */
  label: string;
  /** The flights replayed as this month's traffic. */
  period: Period;
}

export interface ScenarioDeps {
  client: Client;
  database: Database;
  server: { url: string; flush(): Promise<unknown>; refresh(): Promise<unknown> };
}

export interface ScenarioOptions {
  model: string;
  /** The first model's pipeline (January); retraining runs it narrowed to the drifted period. */
  pipeline: TrainingPipelineInput;
  /** Monitor settings (drift, performance, notifications, policy); window and period are set per month. */
  monitor: Omit<MonitorRequest, 'model' | 'window' | 'dataPeriod' | 'loop'>;
  months: ScenarioMonth[];
  /** Flights replayed per month (a uniform sample of the month). */
  perMonth: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface MonthOutcome {
  month: string;
  /** The version that served the month's traffic. */
  served: number;
  flights: number;
  /** The true delay rate of the replayed flights. */
  delayRate: number;
  report: DriftReportSummary;
  retrain?: {
    workflowId: string;
    period: Period | null;
    result: TrainingPipelineResult;
    rollout?: { workflowId: string; outcome: CanaryRolloutResult['outcome']; decision: CanaryRolloutResult['decision']; steps: string[] };
    /** Traffic sent while the canary baked. */
    canaryFlights?: number;
  };
}

export interface ScenarioResult {
  initial: TrainingPipelineResult;
  months: MonthOutcome[];
  aliasHistory: { from: number | null; to: number | null; actor: string; reason: string; at: string }[];
  alerts: { kind: string; severity: string; version: number | null; title: string; delivery: string }[];
  reports: {
    id: number;
    version: number;
    status: string;
    findings: string[];
    window: string;
    period: unknown;
    /** Per column (the prediction as `probability`): the deciding statistic and its score. */
    scores: Record<string, string>;
  }[];
  seconds: { initial: number; samples: number; months: number; total: number };
}

export async function runFlightsDriftScenario(deps: ScenarioDeps, options: ScenarioOptions): Promise<ScenarioResult> {
  const log = options.log ?? (() => {});
  const { client, database, server } = deps;
  const model = options.model;
  const features = options.pipeline.features.map((f) => f.name);
  const started = performance.now();

  log(`training ${model} on ${options.pipeline.dataset.name} ...`);
  const initial = await runPipeline(client, workflowIds.training(model, 'initial'), options.pipeline);
  if (initial.status !== 'registered') throw new Error(`the first model was rejected by the gate: ${initial.reason}`);
  await server.refresh();
  const trainedAt = performance.now();
  log(`v${initial.version}: ROC AUC ${binaryMetricsOf(initial.metrics).rocAuc.toFixed(4)} on ${initial.metrics.n} test flights`);

  log(`sampling ${options.perMonth} flights per month of ${options.months.map((m) => m.label).join(', ')} ...`);
  const samples = await sampleMonths(options.months, options.perMonth, options.seed ?? 2001);
  const sampledAt = performance.now();

  const months: MonthOutcome[] = [];
  let served = initial.version;
  for (const month of options.months) {
    const flights = samples.get(month.label) ?? [];
    const delayRate = flights.reduce((sum, f) => sum + f.delayed, 0) / Math.max(1, flights.length);
    const window = await replay(server, model, flights, features);
    const input: MonitorRequest = { ...options.monitor, model, window, dataPeriod: month.period };
    const handle = await client.workflow.start('monitor', {
      taskQueue: taskQueues.control,
      workflowId: `${workflowIds.monitor(model)}/${month.label}`,
      args: [input],
    });
    const report = (await handle.result()) as DriftReportSummary;
    const outcome: MonthOutcome = { month: month.label, served, flights: flights.length, delayRate, report };
    log(
      `${month.label}: v${report.version} ${report.status}${report.findings.length ? ` (${report.findings.join(', ')})` : ''}; delay rate ${pct(delayRate)}; ${report.message}`,
    );

    if (report.actions.retrain?.started) {
      const { workflowId, period } = report.actions.retrain;
      log(`${month.label}: sustained drift → ${workflowId} on ${period ? `${period.from} … ${period.to}` : 'the configured data'}`);
      const result = (await client.workflow.getHandle(workflowId).result()) as TrainingPipelineResult;
      outcome.retrain = { workflowId, period, result };
      if (result.status === 'registered' && result.rollout) {
        // The canary judges the candidate on live traffic: keep this month's flights coming while it bakes.
        log(`${month.label}: v${result.version} passed the gate; canary rollout ${result.rollout.workflowId}`);
        const rollout = client.workflow.getHandle(result.rollout.workflowId, result.rollout.runId);
        const { value, flights: canaryFlights } = await whileRunning(
          rollout.result() as Promise<CanaryRolloutResult>,
          server,
          model,
          flights,
          features,
        );
        outcome.retrain.rollout = {
          workflowId: result.rollout.workflowId,
          outcome: value.outcome,
          decision: value.decision,
          steps: value.history.map((h) => `${h.percent}%${h.shadow ? ' shadow' : ''}: ${h.outcome ?? '-'}`),
        };
        outcome.retrain.canaryFlights = canaryFlights;
        log(`${month.label}: canary ${value.outcome} (${value.decision.reason})`);
        if (value.outcome === 'promoted') served = result.version;
      } else if (result.status === 'registered' && result.deployed) {
        log(`${month.label}: v${result.version} passed the gate; deployed directly (no canary in this pipeline)`);
        served = result.version;
      } else if (result.status === 'rejected') {
        log(`${month.label}: the retrained model was rejected by the gate: ${result.reason}`);
      }
      await server.refresh();
    }
    months.push(outcome);
  }
  const monthsAt = performance.now();

  const db = database.db;
  const history = await db
    .select()
    .from(aliasHistory)
    .where(and(eq(aliasHistory.modelName, model), eq(aliasHistory.alias, 'production')))
    .orderBy(asc(aliasHistory.id));
  const stored = await db.select().from(alerts).where(eq(alerts.modelName, model)).orderBy(asc(alerts.id));
  const reports = await db.select().from(driftReports).where(eq(driftReports.modelName, model)).orderBy(asc(driftReports.id));
  return {
    initial,
    months,
    aliasHistory: history.map((h) => ({ from: h.fromVersion, to: h.toVersion, actor: h.actor, reason: h.reason, at: h.at.toISOString() })),
    alerts: stored.map((a) => ({
      kind: a.kind,
      severity: a.severity,
      version: a.version,
      title: a.message.split('\n')[0],
      delivery: a.deliveryStatus,
    })),
    reports: reports.map((r) => ({
      id: r.id,
      version: r.version,
      status: r.status,
      findings: r.findings,
      window: `${r.windowStart.toISOString()} … ${r.windowEnd.toISOString()}`,
      period: r.dataPeriod,
      scores: scoresOf(r.features as { evaluation?: DriftEvaluation }),
    })),
    seconds: {
      initial: round((trainedAt - started) / 1000),
      samples: round((sampledAt - trainedAt) / 1000),
      months: round((monthsAt - sampledAt) / 1000),
      total: round((monthsAt - started) / 1000),
    },
  };
}

function scoresOf(features: { evaluation?: DriftEvaluation }): Record<string, string> {
  const evaluation = features.evaluation;
  if (!evaluation) return {};
  const columns = [...evaluation.columns, ...(evaluation.prediction ? [evaluation.prediction] : [])];
  return Object.fromEntries(
    columns.map((c) => [c.column, c.score === null ? c.status : `${c.method} ${c.score.toPrecision(3)}${c.drifted ? ' (drift)' : ''}`]),
  );
}

async function runPipeline(client: Client, workflowId: string, input: TrainingPipelineInput): Promise<TrainingPipelineResult> {
  const handle = await client.workflow.start('trainingPipeline', {
    taskQueue: taskQueues.control,
    workflowId,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return (await handle.result()) as TrainingPipelineResult;
}

/**
 * A uniform random sample (seeded reservoir) of `perMonth` flights from each month, in one pass
 * over the parquet file (row groups outside all months are skipped), mapped by the flights recipe
 * exactly as ingest maps them.
 */
export async function sampleMonths(months: ScenarioMonth[], perMonth: number, seed: number): Promise<Map<string, FlightRow[]>> {
  const all = {
    from: months.map((m) => m.period.from).sort()[0],
    to: months
      .map((m) => m.period.to)
      .sort()
      .at(-1)!,
  };
  const reservoirs = new Map(
    months.map((m) => [m.label, { period: m.period, seen: 0, rows: [] as FlightRow[], random: mulberry32(seed ^ hash(m.label)) }]),
  );
  const list = [...reservoirs.values()];
  for await (const { record } of readParquetRecords('vega-datasets:flights-3m.parquet', {
    skipRowGroup: (group) => flightRowGroupOutsidePeriod(group, all),
  })) {
    const outcome = mapFlightRecord(record, all);
    if (outcome.kind !== 'row') continue;
    const day = outcome.row.date.slice(0, 10);
    const r = list.find((m) => day >= m.period.from && day < m.period.to);
    if (!r) continue;
    const i = r.seen++;
    if (i < perMonth) r.rows.push(outcome.row);
    else {
      const j = Math.floor(r.random() * (i + 1));
      if (j < perMonth) r.rows[j] = outcome.row;
    }
  }
  // Traffic in time order within the month, as it happened.
  return new Map([...reservoirs].map(([label, r]) => [label, r.rows.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))]));
}

/** Sends the flights as prediction requests (4 in flight, 100 flights each), then their true delays as feedback. */
async function replay(
  server: ScenarioDeps['server'],
  model: string,
  flights: FlightRow[],
  features: string[],
): Promise<{ start: string; end: string }> {
  const start = new Date();
  await sendFlights(server.url, model, flights, features);
  await server.flush();
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { start: start.toISOString(), end: new Date().toISOString() };
}

async function sendFlights(url: string, model: string, flights: FlightRow[], features: string[]): Promise<void> {
  const batches: FlightRow[][] = [];
  for (let i = 0; i < flights.length; i += 100) batches.push(flights.slice(i, i + 100));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      const response = await fetch(`${url}/v1/models/${model}:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          instances: batch.map((f) => Object.fromEntries(features.map((name) => [name, f[name as keyof FlightRow]]))),
        }),
      });
      if (!response.ok) throw new Error(`prediction failed: ${response.status} ${await response.text()}`);
      const { predictions } = (await response.json()) as { predictions: { id: string }[] };
      const labels = predictions.map((p, i) => ({ prediction_id: p.id, label: batch[i].delayed }));
      const answer = await fetch(`${url}/v1/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(labels),
      });
      if (!answer.ok) throw new Error(`feedback failed: ${answer.status} ${await answer.text()}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** Keeps replaying `flights` as traffic until `work` settles (the canary needs requests to judge). */
async function whileRunning<T>(work: Promise<T>, server: ScenarioDeps['server'], model: string, flights: FlightRow[], features: string[]) {
  let done = false;
  let sent = 0;
  const settled = work.finally(() => {
    done = true;
  });
  const loop = (async () => {
    for (let round = 0; !done && flights.length; round++) {
      const from = (round * 500) % flights.length;
      const slice = flights.slice(from, from + 500);
      await sendFlights(server.url, model, slice, features);
      sent += slice.length;
    }
  })();
  let value: T;
  try {
    value = await settled;
  } finally {
    done = true;
    await loop.catch(() => {});
  }
  return { value, flights: sent };
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** The months of the scenario: February to June 2001. */
export const replayMonths: ScenarioMonth[] = ['02', '03', '04', '05', '06'].map((m) => {
  const next = String(Number(m) + 1).padStart(2, '0');
  return { label: `2001-${m}`, period: { from: `2001-${m}-01`, to: `2001-${next}-01` } };
});
