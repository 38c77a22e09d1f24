import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { openRegistry, type RegistryHandle } from '../registry/open';
import { defaultReportFileName, renderDatasetReport, renderDriftReport, renderRunReport, type RenderedReport } from '../reports/render';
import { storedRunReport } from '../reports/stored-run-report';
import type { Environment } from '../runtime/environment';
import { InvalidInputError } from '../shared/errors';

/**
 * `keel report run|dataset|drift`: one self-contained HTML file each (data and chart code
 * inline, no network), written to --out or ./keel-report-<kind>-<id>.html; prints the path.
 */
export function reportCommand(env: Environment): Command {
  const command = new Command('report').description('self-contained HTML reports that open offline (attach them to an e-mail or a ticket)');

  async function write(opts: { out?: string }, render: (registry: RegistryHandle) => Promise<RenderedReport>): Promise<void> {
    const registry = await openRegistry({ databaseUrl: env.DATABASE_URL, dataDir: env.dataDir, artifactStore: env.artifactStore });
    try {
      const report = await render(registry);
      const path = resolve(opts.out ?? defaultReportFileName(report));
      await writeFile(path, report.html);
      process.stdout.write(`${path}\n`);
    } finally {
      await registry.close();
    }
  }

  command
    .command('run <id>')
    .description(
      'a pipeline run: summary, learning curves, evaluation plots, tuning trials, gate decision, lineage. <id>: a training run id, a pipeline workflow id or <model>@<version|alias>',
    )
    .option('--out <path>', 'the file to write (default ./keel-report-run-<id>.html)')
    .option('--stored', 'the copy the pipeline stored in the artifact store when the run ended, instead of rendering it now')
    .action((id: string, opts: { out?: string; stored?: boolean }) =>
      write(opts, ({ database, artifacts }) =>
        opts.stored ? storedRunReport(database.db, artifacts, id) : renderRunReport(database.db, id),
      ),
    );

  command
    .command('dataset <ref>')
    .description(
      'a dataset version: source accounting, column profiles, correlations, quarantine reasons. <ref>: <name>[@<version id prefix>]',
    )
    .option('--out <path>', 'the file to write (default ./keel-report-dataset-<version id>.html)')
    .action((ref: string, opts: { out?: string }) => write(opts, ({ database }) => renderDatasetReport(database.db, ref)));

  command
    .command('drift <reportId>')
    .description(
      'a monitor report: drift per feature against its threshold and over time, reference distributions, live performance, alerts and actions',
    )
    .option('--out <path>', 'the file to write (default ./keel-report-drift-<id>.html)')
    .action((reportId: string, opts: { out?: string }) => {
      const id = Number(reportId);
      if (!/^\d+$/.test(reportId) || !Number.isSafeInteger(id) || id < 1) {
        throw new InvalidInputError(`reportId: must be a positive whole number (got ${JSON.stringify(reportId)})`);
      }
      return write(opts, ({ database }) => renderDriftReport(database.db, id));
    });

  return command;
}
