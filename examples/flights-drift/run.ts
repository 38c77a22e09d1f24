import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { Command } from 'commander';
import { pino } from 'pino';
import { createActivities } from '../../activities';
import { openDatabase } from '../../src/db/database';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { readCodeVersion } from '../../src/runtime/code-version';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { startTemporalDevServer } from '../../src/runtime/temporal-dev-server';
import { createWorkers } from '../../src/runtime/workers';
import { startModelServer } from '../../src/serving/http-server';
import { scenarioConfig } from './config';
import { replayMonths, runFlightsDriftScenario, type ScenarioResult } from './scenario';

/**
 * `npm run example:flights-drift`: the monitoring scenario on the real flights of 2001, on its
 * own Temporal dev server (or TEMPORAL_ADDRESS), database (PGlite under --data-dir, or
 * DATABASE_URL) and model server. Prints what keel found month by month and writes the whole
 * record (reports, alerts, alias history) to <data-dir>/summary.json. See docs/monitoring.md.
 */
async function main() {
  const options = new Command('flights-drift')
    .option('--per-month <n>', 'flights replayed per month', '4000')
    .option('--data-dir <dir>', 'where the run keeps its database, artifacts and summary', '.keel/examples/flights-drift')
    .option('--after <n>', 'consecutive drifted months that start a retraining', '2')
    .parse()
    .opts<{ perMonth: string; dataDir: string; after: string }>();
  const say = (line = '') => process.stdout.write(`${line}\n`);
  const dataDir = resolve(options.dataDir);
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const closers: [string, () => Promise<unknown>][] = [];

  try {
    const temporal = process.env.TEMPORAL_ADDRESS
      ? { address: process.env.TEMPORAL_ADDRESS, uiUrl: undefined, stop: async () => {} }
      : await startTemporalDevServer({ dataDir, persistent: false });
    closers.push(['temporal', () => temporal.stop()]);
    const database = await openDatabase({ url: process.env.DATABASE_URL, dataDir });
    closers.push(['database', () => database.close()]);
    const artifacts = new LocalArtifactStore(join(dataDir, 'artifacts'));
    const server = await startModelServer({ database, artifacts, port: 0, refreshMs: 1000, logger });
    closers.push(['model server', () => server.close()]);

    // Every alert goes to this local generic webhook, which prints it.
    const received: { kind: string; title: string }[] = [];
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const { alert } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alert: { kind: string; title: string } };
        received.push(alert);
        say(`  webhook <- [${alert.kind}] ${alert.title}`);
        response.end('ok');
      });
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    closers.push(['webhook receiver', () => new Promise((done) => receiver.close(done))]);

    Runtime.install({ logger: new DefaultLogger('WARN') });
    const nativeConnection = await NativeConnection.connect({ address: temporal.address });
    closers.push(['workers connection', () => nativeConnection.close()]);
    const activities = createActivities({
      database,
      artifacts,
      codeVersion: readCodeVersion(),
      logger,
      onDeployed: async () => void (await server.pool.refresh()),
    });
    const workers = await createWorkers({ connection: nativeConnection, namespace: 'default', activities });
    const running = Promise.all(workers.map((worker) => worker.run()));
    closers.push([
      'workers',
      async () => {
        for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      },
    ]);
    const connection = await Connection.connect({ address: temporal.address });
    closers.push(['client connection', () => connection.close()]);
    const client = new Client({ connection });

    const model = 'flight-delays-drift';
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/keel`;
    const { pipeline, monitor } = scenarioConfig(await loadProjectConfig('keel.config.json'), {
      model,
      webhooks: [{ name: 'example-receiver', url, format: 'generic', minSeverity: 'info', timeoutMs: 5000, headers: {} }],
      afterConsecutive: Number(options.after),
    });
    say(`keel flights drift example: data in ${dataDir}; Temporal ${temporal.address}${temporal.uiUrl ? ` (UI ${temporal.uiUrl})` : ''}`);
    const result = await runFlightsDriftScenario(
      { client, database, server: { url: server.url, flush: () => server.logWriter.flush(), refresh: () => server.pool.refresh() } },
      { model, pipeline, monitor, months: replayMonths, perMonth: Number(options.perMonth), log: (line) => say(line) },
    );
    say('');
    say(table(result));
    say('');
    say(`alias history of ${model}@production:`);
    for (const move of result.aliasHistory) say(`  v${move.from ?? '-'} → v${move.to ?? '-'} by ${move.actor}: ${move.reason}`);
    say(`alerts stored: ${result.alerts.length}, received by the webhook: ${received.length}`);
    say(
      `timings: initial training ${result.seconds.initial} s, sampling ${result.seconds.samples} s, five months ${result.seconds.months} s`,
    );
    const summary = join(dataDir, 'summary.json');
    await writeFile(summary, JSON.stringify(result, null, 2));
    say(`the whole record: ${summary}`);
  } finally {
    for (const [name, close] of closers.reverse()) {
      logger.info(`closing ${name}`);
      await close().catch((error: unknown) => logger.error({ err: error }, `shutdown step failed: ${name}`));
    }
  }
}

function table(result: ScenarioResult): string {
  const rows = result.months.map((m) => {
    const p = m.report.performance;
    const drifted = m.report.driftedFeatures.length ? m.report.driftedFeatures.join(',') : '-';
    const action = m.retrain
      ? `retrain ${m.retrain.period ? `${m.retrain.period.from}…${m.retrain.period.to}` : ''} → v${m.retrain.result.status === 'registered' ? m.retrain.result.version : '-'} ${m.retrain.rollout?.outcome ?? (m.retrain.result.status === 'registered' && m.retrain.result.deployed ? 'deployed' : m.retrain.result.status)}`
      : '';
    return [
      m.month,
      `v${m.report.version}`,
      pct(m.delayRate),
      p?.referencePositiveRate === null || !p ? '-' : pct(p.referencePositiveRate),
      p?.value === null || !p ? '-' : p.value.toFixed(4),
      p?.reference === null || !p ? '-' : p.reference.toFixed(4),
      drifted,
      m.report.findings.join(', ') || '-',
      m.report.status,
      action,
    ];
  });
  const header = ['month', 'served', 'delayed', 'train rate', 'live AUC', 'test AUC', 'drifted features', 'findings', 'status', 'action'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`flights-drift: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
