import { readFile } from 'node:fs/promises';
import type { ModelMetrics } from '../shared/model-metrics';
import { headlineMetric } from '../shared/task-metrics';
import { basename } from 'node:path';
import { userInfo } from 'node:os';
import { Command } from 'commander';
import type { ArtifactStore } from '../registry/artifact-store';
import { importOnnxModel, parseClassList, parseFeatureList, parseTask, type ImportResult } from '../registry/import-onnx';
import { describeVersion, diffVersions, type FeaturePipelineSummary, type VersionLineage } from '../registry/lineage';
import {
  aliasAt,
  aliasHistoryOf,
  archiveVersion,
  deleteVersion,
  listModels,
  listModelVersions,
  removeAlias,
  resolveRef,
  restoreVersion,
  rollbackAlias,
  setAlias,
  updateVersionMetadata,
  getAliases,
  type ModelVersion,
} from '../registry/model-registry';
import { parseModelRef, RegistryError, validateAlias, validateModelName } from '../registry/names';
import { openRegistry, type RegistryHandle } from '../registry/open';
import { reproduceVersion } from '../registry/reproduce';
import { collectGarbage } from '../registry/retention';
import { readCodeVersion } from '../runtime/code-version';
import type { ModelContract } from '../shared/model-contract';
import type { Environment } from '../runtime/environment';
import type { Db } from '../db/database';
import { reportFailure } from './failure';
import { printResult } from './output';

/**
 * `keel models ...`: the model registry from the command line. Talks to the database directly
 * (DATABASE_URL, or the embedded PGlite in KEEL_DATA_DIR) and to the artifact store; every
 * command prints readable text, or one JSON document with --json.
 */
export function modelsCommand(env: Environment): Command {
  const command = new Command('models').description('model registry: versions, aliases, lineage, rollback, retention');
  const temporalUi = env.KEEL_TEMPORAL_UI ?? 'http://127.0.0.1:8233';
  const actor = () => env.KEEL_ACTOR ?? `user:${safeUser()}`;

  /**
   * Runs a command against the registry. With --json a failure is also JSON (`{"error", "type", "cause"}` on
   * stdout, exit code 1), so scripts parse one format; without it the error goes to stderr.
   */
  async function withRegistry(
    json: boolean | undefined,
    work: (r: RegistryHandle) => Promise<void>,
    options: { create?: boolean } = {},
  ): Promise<void> {
    try {
      const registry = await openRegistry({
        databaseUrl: env.DATABASE_URL,
        dataDir: env.dataDir,
        artifactStore: env.artifactStore,
        create: options.create,
      });
      try {
        await work(registry);
      } finally {
        await registry.close();
      }
    } catch (error) {
      if (!json) throw error;
      reportFailure(error, true);
    }
  }

  const lineage = (db: Db, row: ModelVersion, artifacts?: ArtifactStore) =>
    describeVersion(db, row, { temporalUi, namespace: env.TEMPORAL_NAMESPACE, artifacts });

  command
    .command('list [name]')
    .description('registered models, or the versions of one model (newest first)')
    .option('--all', 'include archived and deleted versions')
    .option('--json', 'machine-readable output')
    .action((name: string | undefined, opts: { all?: boolean; json?: boolean }) =>
      withRegistry(opts.json, async ({ database }) => {
        if (!name) {
          const models = await listModels(database.db);
          printResult(opts.json, models, () =>
            models.length
              ? table([
                  ['MODEL', 'VERSIONS', 'LATEST', 'ALIASES'],
                  ...models.map((m) => [
                    m.name,
                    String(m.versions),
                    m.latestVersion ? `v${m.latestVersion}` : '-',
                    formatAliases(m.aliases),
                  ]),
                ])
              : 'no registered models',
          );
          return;
        }
        validateModelName(name);
        const aliases = await getAliases(database.db, name);
        const versions = (await listModelVersions(database.db, name)).filter((v) => opts.all || v.status === 'active');
        const rows = versions.map((v) => ({
          version: v.version,
          status: v.status,
          aliases: Object.entries(aliases)
            .filter(([, n]) => n === v.version)
            .map(([a]) => a),
          createdAt: v.createdAt,
          creator: v.creator,
          source: v.source,
          metric: headlineMetric(v.metrics as ModelMetrics),
          datasetVersionId: v.datasetVersionId || null,
          artifactSha256: v.artifactSha256,
          tags: v.tags,
        }));
        printResult(opts.json, { model: name, versions: rows }, () =>
          rows.length
            ? table([
                ['VERSION', 'STATUS', 'ALIASES', 'CREATED', 'TEST METRIC', 'DATASET', 'CREATOR'],
                ...rows.map((r) => [
                  `v${r.version}`,
                  r.status,
                  r.aliases.join(',') || '-',
                  r.createdAt.toISOString(),
                  r.metric ?? '-',
                  r.datasetVersionId?.slice(0, 12) ?? '-',
                  r.creator,
                ]),
              ])
            : `no ${opts.all ? '' : 'active '}versions of "${name}"`,
        );
      }),
    );

  command
    .command('show <ref>')
    .description('lineage of a version: <name>@<version|alias> (metrics, params, dataset with profile, code, producing run)')
    .option('--no-verify', 'do not read the artifact to verify its sha256')
    .option('--json', 'machine-readable output')
    .action((ref: string, opts: { verify: boolean; json?: boolean }) =>
      withRegistry(opts.json, async ({ database, artifacts }) => {
        const row = await resolveRef(database.db, parseModelRef(ref));
        const view = await lineage(database.db, row, opts.verify ? artifacts : undefined);
        printResult(opts.json, view, () => formatLineage(view));
      }),
    );

  command
    .command('diff <a> <b>')
    .description('compare two versions (params, metrics, data, code); <b> may be @<version|alias> of the same model')
    .option('--json', 'machine-readable output')
    .action((a: string, b: string, opts: { json?: boolean }) =>
      withRegistry(opts.json, async ({ database }) => {
        const refA = parseModelRef(a);
        const refB = parseModelRef(b.startsWith('@') ? `${refA.model}${b}` : b);
        const [x, y] = [await resolveRef(database.db, refA), await resolveRef(database.db, refB)];
        const diff = diffVersions(await lineage(database.db, x), await lineage(database.db, y));
        printResult(opts.json, diff, () => formatDiff(diff));
      }),
    );

  command
    .command('history <name>')
    .description('every alias move of a model (from, to, when, by whom, why), oldest first')
    .option('--alias <alias>', 'only this alias')
    .option('--json', 'machine-readable output')
    .action((name: string, opts: { alias?: string; json?: boolean }) =>
      withRegistry(opts.json, async ({ database }) => {
        validateModelName(name);
        if (opts.alias) validateAlias(opts.alias);
        const moves = await aliasHistoryOf(database.db, name, opts.alias);
        printResult(opts.json, moves, () =>
          moves.length
            ? table([
                ['AT', 'ALIAS', 'MOVE', 'ACTION', 'BY', 'REASON'],
                ...moves.map((m) => [m.at.toISOString(), m.alias, `${v(m.fromVersion)} -> ${v(m.toVersion)}`, m.action, m.actor, m.reason]),
              ])
            : `no alias moves for "${name}"`,
        );
      }),
    );

  command
    .command('at <name> <time>')
    .description('which version an alias (default production) pointed to at a time: ISO 8601, "now", or -30m/-2h/-7d')
    .option('--alias <alias>', 'the alias', 'production')
    .option('--json', 'machine-readable output')
    .action((name: string, time: string, opts: { alias: string; json?: boolean }) =>
      withRegistry(opts.json, async ({ database }) => {
        const answer = await aliasAt(database.db, { model: name, alias: opts.alias, at: parseTime(time) });
        const view = answer.version ? await lineage(database.db, answer.version) : null;
        printResult(opts.json, { ...answer, version: view }, () => {
          const when = answer.at.toISOString();
          if (!answer.version) {
            return answer.since
              ? `${name}@${opts.alias} was removed at ${answer.since.at.toISOString()}: nothing at ${when}`
              : `${name} had no "${opts.alias}" alias at ${when}`;
          }
          const lines = [
            `${name}@${opts.alias} at ${when}: v${answer.version.version}`,
            `  since   ${answer.since!.at.toISOString()} (${answer.since!.action} by ${answer.since!.actor}: ${answer.since!.reason})`,
            `  until   ${answer.until ? `${answer.until.at.toISOString()} (${v(answer.until.fromVersion)} -> ${v(answer.until.toVersion)})` : 'now (still current)'}`,
          ];
          if (view) lines.push('', formatLineage(view));
          return lines.join('\n');
        });
      }),
    );

  command
    .command('alias <ref> <alias>')
    .description('point an alias (production, staging, candidate or your own) at <name>@<version>; recorded in the history')
    .requiredOption('--reason <text>', 'why (recorded)')
    .option('--json', 'machine-readable output')
    .action((ref: string, alias: string, opts: { reason: string; json?: boolean }) =>
      withRegistry(opts.json, async ({ database, artifacts }) => {
        const row = await resolveRef(database.db, parseModelRef(ref));
        const move = await setAlias(database.db, {
          model: row.modelName,
          alias,
          version: row.version,
          actor: actor(),
          reason: opts.reason,
          artifacts,
        });
        printResult(opts.json, { model: row.modelName, alias, version: row.version, ...move }, () =>
          move.changed
            ? `${row.modelName}@${alias}: ${v(move.fromVersion)} -> v${row.version}`
            : `${row.modelName}@${alias} already points to v${row.version}; nothing changed`,
        );
      }),
    );

  command
    .command('unalias <name> <alias>')
    .description('remove an alias (recorded in the history); removing production stops serving the model')
    .requiredOption('--reason <text>', 'why (recorded)')
    .option('--json', 'machine-readable output')
    .action((name: string, alias: string, opts: { reason: string; json?: boolean }) =>
      withRegistry(opts.json, async ({ database }) => {
        const move = await removeAlias(database.db, { model: name, alias, actor: actor(), reason: opts.reason });
        printResult(opts.json, { model: name, alias, ...move }, () =>
          move.changed ? `${name}@${alias} removed (was v${move.fromVersion})` : `${name} has no alias "${alias}"; nothing changed`,
        );
      }),
    );

  command
    .command('rollback <name>')
    .description('point production back to the previous production version from the history (model servers follow)')
    .requiredOption('--reason <text>', 'why (recorded)')
    .option('--alias <alias>', 'the alias to roll back', 'production')
    .option('--json', 'machine-readable output')
    .action((name: string, opts: { reason: string; alias: string; json?: boolean }) =>
      withRegistry(opts.json, async ({ database, artifacts }) => {
        const result = await rollbackAlias(database.db, { model: name, alias: opts.alias, actor: actor(), reason: opts.reason, artifacts });
        printResult(opts.json, result, () =>
          [
            `${name}@${result.alias}: v${result.fromVersion} -> v${result.toVersion} (rollback recorded)`,
            ...result.skipped.map((s) => `  passed over v${s.version}: ${s.why}`),
            'model servers follow within their refresh period (default 2 s), or at once on POST /v1/admin/refresh',
          ].join('\n'),
        );
      }),
    );

  command
    .command('tag <ref> [pairs...]')
    .description('set tags (key=value) on a version; --remove key; --description text')
    .option('--remove <key...>', 'remove these tags')
    .option('--description <text>', 'set the description')
    .option('--json', 'machine-readable output')
    .action((ref: string, pairs: string[], opts: { remove?: string[]; description?: string; json?: boolean }) =>
      withRegistry(opts.json, async ({ database }) => {
        const row = await resolveRef(database.db, parseModelRef(ref));
        const updated = await updateVersionMetadata(database.db, {
          model: row.modelName,
          version: row.version,
          actor: actor(),
          setTags: parsePairs(pairs),
          removeTags: opts.remove,
          description: opts.description,
        });
        printResult(
          opts.json,
          { model: updated.modelName, version: updated.version, tags: updated.tags, description: updated.description },
          () =>
            `${updated.modelName}@${updated.version}: tags ${JSON.stringify(updated.tags)}${updated.description ? `; "${updated.description}"` : ''}`,
        );
      }),
    );

  for (const [name, verb] of [
    ['archive', 'archive a version (kept, restorable, not promotable); refused while an alias or a running deployment uses it'],
    ['delete', 'delete a version (its lineage stays; gc may remove its artifact); refused while an alias or a running deployment uses it'],
    ['restore', 'make an archived or deleted version active again (a deleted one only while its artifact is intact)'],
  ] as const) {
    const sub = command.command(`${name} <ref>`).description(verb).option('--json', 'machine-readable output');
    if (name === 'restore') sub.option('--reason <text>', 'why (recorded)', 'restored');
    else sub.requiredOption('--reason <text>', 'why (recorded)');
    sub.action((ref: string, opts: { reason: string; json?: boolean }) =>
      withRegistry(opts.json, async ({ database, artifacts }) => {
        const parsed = parseModelRef(ref);
        if (!('version' in parsed)) throw new RegistryError(`${name} takes an explicit version: <name>@<version>`);
        const request = { model: parsed.model, version: parsed.version, actor: actor(), reason: opts.reason };
        const row =
          name === 'archive'
            ? await archiveVersion(database.db, request)
            : name === 'delete'
              ? await deleteVersion(database.db, request)
              : await restoreVersion(database.db, artifacts, request);
        printResult(
          opts.json,
          { model: row.modelName, version: row.version, status: row.status },
          () => `${row.modelName}@${row.version}: ${row.status}`,
        );
      }),
    );
  }

  command
    .command('gc')
    .description('remove artifacts no version, alias, recent history or running deployment refers to')
    .option('--retention-days <n>', 'alias history retention: moves newer than this keep their versions', '30')
    .option('--grace-minutes <n>', 'never remove blobs written within this many minutes', '1440')
    .option('--dry-run', 'report only')
    .option('--json', 'machine-readable output')
    .action((opts: { retentionDays: string; graceMinutes: string; dryRun?: boolean; json?: boolean }) =>
      withRegistry(opts.json, async ({ database, artifacts }) => {
        const report = await collectGarbage(database.db, artifacts, {
          historyRetentionDays: nonNegative(opts.retentionDays, '--retention-days'),
          graceMinutes: nonNegative(opts.graceMinutes, '--grace-minutes'),
          dryRun: opts.dryRun,
          actor: actor(),
        });
        printResult(opts.json, report, () =>
          [
            `${report.dryRun ? 'would remove' : 'removed'} ${report.removed.length} artifact(s), ${report.bytesRemoved} bytes; kept ${report.kept} referenced, ${report.young} too young (scanned ${report.scanned} in ${artifacts.location})`,
            ...report.removed.map((r) => `  - ${r.sha256.slice(0, 16)}  ${r.bytes} B  (${r.was})`),
            ...report.missing.map((m) => `  ! referenced but missing: ${m.sha256.slice(0, 16)} (${m.reasons[0]})`),
          ].join('\n'),
        );
      }),
    );

  command
    .command('import <name> <file>')
    .description('register an external ONNX model with a declared feature contract (validated by loading it and scoring a sample batch)')
    .requiredOption(
      '--features <list>',
      'the contract: name:float32 (numeric), name:string (categorical or boolean), name:float64 (datetime, epoch ms), comma-separated',
    )
    .option(
      '--task <task>',
      'what the model predicts: binary (probability, label), multiclass (probabilities, label) or regression (prediction)',
      'binary',
    )
    .option('--classes <list>', 'multiclass: the class names, comma-separated, in the order of the probabilities columns')
    .option('--dataset <id>', 'keel dataset version it was trained on (lineage; the sample batch comes from it)')
    .option('--description <text>', 'description', '')
    .option('--tag <pair...>', 'tags key=value')
    .option('--metric <pair...>', 'known metrics name=number')
    .option('--json', 'machine-readable output')
    .action(
      (
        name: string,
        file: string,
        opts: {
          features: string;
          task: string;
          classes?: string;
          dataset?: string;
          description: string;
          tag?: string[];
          metric?: string[];
          json?: boolean;
        },
      ) =>
        withRegistry(
          opts.json,
          async ({ database, artifacts }) => {
            validateModelName(name);
            const features = parseFeatureList(opts.features);
            const task = parseTask(opts.task);
            const classes = opts.classes === undefined ? undefined : parseClassList(opts.classes);
            const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
              throw new RegistryError(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
            });
            const metrics = Object.fromEntries(
              Object.entries(parsePairs(opts.metric ?? [])).map(([k, value]) => {
                const n = Number(value);
                if (!Number.isFinite(n)) throw new RegistryError(`metric ${k}=${value} is not a number`);
                return [k, n];
              }),
            );
            const result = await importOnnxModel(database.db, artifacts, {
              model: name,
              bytes: new Uint8Array(bytes),
              fileName: basename(file),
              features,
              task,
              classes,
              creator: actor(),
              description: opts.description,
              tags: parsePairs(opts.tag ?? []),
              datasetVersionId: opts.dataset,
              metrics,
            });
            const out = {
              model: name,
              version: result.version.version,
              created: result.created,
              artifactSha256: result.version.artifactSha256,
              bytes: result.version.artifactBytes,
              contract: result.version.contract,
              sample: result.sample,
            };
            printResult(opts.json, out, () =>
              [
                `${result.created ? 'imported' : 'already imported'} ${basename(file)} as ${name}@${out.version} (sha256 ${out.artifactSha256.slice(0, 16)}, ${out.bytes} B)`,
                `  contract  ${task}: ${features.map((f) => `${f.name}:${f.type}`).join(', ')} -> ${(result.version.contract as { outputs: { name: string }[] }).outputs.map((o) => o.name).join(', ')}`,
                ...(classes ? [`  classes   ${classes.join(', ')}`] : []),
                `  sample    ${result.sample.rows} ${result.sample.source} rows scored; ${sampleSummary(result.sample)}${result.sample.rows > 5 ? ', ...' : ''}`,
              ].join('\n'),
            );
          },
          { create: true },
        ),
    );

  command
    .command('reproduce <ref>')
    .description('re-train a version from its recorded dataset version, config and seed; report whether the ONNX sha256 matches')
    .option('--json', 'machine-readable output')
    .action((ref: string, opts: { json?: boolean }) =>
      withRegistry(opts.json, async ({ database }) => {
        const row = await resolveRef(database.db, parseModelRef(ref));
        const report = await reproduceVersion(database.db, row, {
          codeVersion: readCodeVersion(),
          onProgress: opts.json ? undefined : (message) => process.stderr.write(`keel: ${message}\n`),
        });
        printResult(opts.json, report, () =>
          [
            `${report.model}@${report.version}: ${report.match ? 'MATCH' : 'MISMATCH'} — ${report.explanation}`,
            `  recorded onnx    ${report.recorded.onnxSha256}`,
            `  reproduced onnx  ${report.reproduced.onnxSha256}`,
            `  model json       ${report.modelJsonMatch === null ? 'no recorded training run' : report.modelJsonMatch ? 'identical' : 'differs'}`,
            `  dataset          ${report.datasetIntact ? 'rows hash to the recorded content hash' : 'CHANGED since training'}`,
            `  code             recorded ${shortCommit(report.recorded.gitCommit, report.recorded.gitDirty)}, now ${shortCommit(report.codeNow.gitCommit, report.codeNow.gitDirty)}`,
            `  trained on ${report.trainRows} rows, ${report.iterations} iterations, ${report.seconds.toFixed(1)} s`,
          ].join('\n'),
        );
        if (!report.match) process.exitCode = 1;
      }),
    );

  command
    .command('verify [name]')
    .description('read every (non-deleted) version artifact and check its sha256')
    .option('--json', 'machine-readable output')
    .action((name: string | undefined, opts: { json?: boolean }) =>
      withRegistry(opts.json, async ({ database, artifacts }) => {
        if (name) validateModelName(name);
        const versions = (await listModelVersions(database.db, name)).filter((row) => row.status !== 'deleted');
        const results = [];
        for (const row of versions) {
          const error = await artifacts.get(row.artifactSha256).then(
            () => null,
            (e: unknown) => (e as Error).message,
          );
          results.push({ model: row.modelName, version: row.version, artifactSha256: row.artifactSha256, ok: error === null, error });
        }
        const bad = results.filter((r) => !r.ok);
        printResult(opts.json, { checked: results.length, corrupted: bad.length, results }, () =>
          [
            `checked ${results.length} artifact(s): ${bad.length ? `${bad.length} BAD` : 'all intact'}`,
            ...bad.map((r) => `  ${r.model}@${r.version}: ${r.error}`),
          ].join('\n'),
        );
        if (bad.length > 0) process.exitCode = 1;
      }),
    );

  return command;
}

// --- formatting ----------------------------------------------------------------------------------

/** The first sample outputs of an import, per task. */
function sampleSummary(sample: ImportResult['sample']): string {
  switch (sample.task) {
    case 'binary':
      return `probabilities ${sample.probabilities
        .slice(0, 5)
        .map((p) => p.toFixed(3))
        .join(', ')}`;
    case 'multiclass':
      return `labels ${sample.labels.slice(0, 5).join(', ')}`;
    case 'regression':
      return `predictions ${sample.predictions
        .slice(0, 5)
        .map((p) => fmt(p))
        .join(', ')}`;
  }
}

export function formatLineage(view: VersionLineage): string {
  const metrics = view.metrics as Record<string, unknown>;
  const params = view.params as Record<string, unknown>;
  const lines = [
    `${view.model}@${view.version}  ${view.status}${view.aliases.length ? `  [${view.aliases.join(', ')}]` : ''}  (${view.source})`,
    `  created     ${view.createdAt.toISOString()} by ${view.creator}`,
  ];
  if (view.description) lines.push(`  description ${view.description}`);
  if (Object.keys(view.tags).length)
    lines.push(
      `  tags        ${Object.entries(view.tags)
        .map(([k, x]) => `${k}=${x}`)
        .join(' ')}`,
    );
  lines.push(
    `  artifact    ${view.artifact.sha256} (${view.artifact.bytes} B) ${view.artifact.check === 'ok' ? 'sha256 verified' : view.artifact.check}`,
  );
  lines.push('', Object.keys(metrics).length ? 'Metrics' : 'Metrics: none recorded');
  for (const [k, x] of Object.entries(metrics)) lines.push(`  ${k.padEnd(16)} ${typeof x === 'number' ? fmt(x) : JSON.stringify(x)}`);
  lines.push('', 'Params');
  for (const [k, x] of Object.entries(params)) lines.push(`  ${k.padEnd(16)} ${JSON.stringify(x)}`);
  const contract = view.contract as Partial<Pick<ModelContract, 'task' | 'inputs' | 'outputs' | 'classes' | 'treeEnsemble'>>;
  const outputs = (contract.outputs ?? []).map((o) => o.name).join(', ');
  lines.push(
    '',
    `Contract      ${contract.task ?? 'binary'}: ${(contract.inputs ?? []).map((i) => `${i.name}:${i.type}`).join(', ')} -> ${outputs}`,
  );
  if (contract.classes) lines.push(`  classes     ${contract.classes.join(', ')}`);
  if (contract.treeEnsemble) {
    const { op, mlOpset, categoricalSplits } = contract.treeEnsemble;
    lines.push(`  trees       ${op} (ai.onnx.ml opset ${mlOpset}), native categorical splits as ${categoricalSplits}`);
  }
  if (view.featurePipeline) {
    lines.push('Feature pipeline (inside the ONNX graph)');
    for (const f of view.featurePipeline.features) {
      lines.push(`  ${f.name.padEnd(14)} ${describeFeature(f)}`);
    }
  }
  lines.push('', 'Dataset');
  if (!view.dataset) lines.push('  (none recorded: an imported model)');
  else if (view.dataset.missing) lines.push(`  ${view.dataset.id} (content hash ${view.dataset.contentHash}) — no longer in the database`);
  else {
    const d = view.dataset;
    lines.push(`  ${d.name} ${d.id}`);
    lines.push(`  content hash ${d.contentHash}; ${d.rowCount} rows (${d.quarantinedCount} quarantined of ${d.rowsRead} read)`);
    if (d.profile) {
      for (const [column, s] of Object.entries(d.profile)) {
        const nulls = `${s.nulls} null`;
        const detail =
          s.type === 'number'
            ? `min ${fmt(s.min as number)} max ${fmt(s.max as number)} mean ${fmt(s.mean)} std ${fmt(s.std)}`
            : s.type === 'string'
              ? `${s.distinct} distinct; top ${(s.top as string[]).join(', ')}`
              : `${s.min} .. ${s.max}`;
        lines.push(`    ${column.padEnd(12)} ${String(s.type).padEnd(8)} ${nulls.padEnd(9)} ${detail}`);
      }
    } else lines.push('    (no profile)');
  }
  lines.push('', 'Code');
  lines.push(`  ${shortCommit(view.code.gitCommit, view.code.gitDirty, true)}`);
  lines.push('', 'Produced by');
  if (view.run) {
    lines.push(`  workflow ${view.run.workflowId}  run ${view.run.runId}`);
    lines.push(`  ${view.run.url}`);
  } else lines.push('  (imported; no workflow run)');
  if (view.trainingRun) {
    lines.push(
      `  training run: ${view.trainingRun.iterations} iterations in ${view.trainingRun.trainSeconds.toFixed(1)} s; model json ${view.trainingRun.modelArtifactSha256.slice(0, 16)}`,
    );
    const report = view.trainingRun.report;
    lines.push(
      report
        ? `  run report: ${report.location} (keel report run ${view.model}@${view.version} --stored)`
        : `  run report: none stored (keel report run ${view.model}@${view.version} renders one)`,
    );
  }
  if (view.aliasMoves.length) {
    lines.push('', 'Alias history');
    for (const m of view.aliasMoves)
      lines.push(`  ${m.at.toISOString()}  ${m.alias} ${v(m.fromVersion)} -> ${v(m.toVersion)}  ${m.action} by ${m.actor}: ${m.reason}`);
  }
  if (view.events.length) {
    lines.push('', 'Events');
    for (const e of view.events) lines.push(`  ${e.at.toISOString()}  ${e.action} by ${e.actor}${e.reason ? `: ${e.reason}` : ''}`);
  }
  return lines.join('\n');
}

/** One fitted feature as the graph applies it (see FeaturePipelineSummary). */
function describeFeature(f: FeaturePipelineSummary['features'][number]): string {
  switch (f.kind) {
    case 'numeric':
      return f.mean === undefined
        ? 'numeric: passed to the trees as is (missing stays missing)'
        : `numeric: impute mean ${fmt(f.mean)}, scale by std ${fmt(f.std)}`;
    case 'categorical':
      return `categorical: ${f.encoding ?? 'one-hot'} over ${f.categories} categories (${f.top.join(', ')}${f.categories > f.top.length ? ', ...' : ''})`;
    case 'boolean':
      return `boolean: 1 true / 0 false${f.share === undefined ? ', missing stays missing' : `, missing = ${fmt(f.share)} (training share of true)`}`;
    case 'datetime':
      return `datetime (UTC): ${f.parts.map((p) => (p.values ? `${p.part} one-hot over ${p.values} values` : p.encoding ? `${p.part} ${p.encoding}` : p.part)).join(', ')}`;
  }
}

function formatDiff(diff: ReturnType<typeof diffVersions>): string {
  const lines = [`${diff.a} vs ${diff.b}`, '', 'Metrics (b - a)'];
  for (const m of diff.metrics) {
    const delta = m.delta === null ? '' : `  ${m.delta >= 0 ? '+' : ''}${fmt(m.delta)}`;
    lines.push(`  ${m.name.padEnd(24)} ${fmt(m.a).padStart(12)} ${fmt(m.b).padStart(12)}${delta}`);
  }
  lines.push('', diff.params.length ? 'Params' : 'Params: identical');
  for (const p of diff.params) lines.push(`  ${p.path}: ${JSON.stringify(p.a)} -> ${JSON.stringify(p.b)}`);
  lines.push('', `Data: ${diff.data.same ? 'same dataset version' : 'different dataset versions'}`);
  for (const [side, d] of [
    ['a', diff.data.a],
    ['b', diff.data.b],
  ] as const) {
    lines.push(
      `  ${side}: ${d ? `${d.name ?? '?'} ${d.id.slice(0, 16)} (${d.rowCount ?? '?'} rows, content ${d.contentHash.slice(0, 16)})` : 'none'}`,
    );
  }
  lines.push('', `Code: ${diff.code.same ? 'same' : 'different'}`);
  lines.push(
    `  a: ${shortCommit(diff.code.a.gitCommit, diff.code.a.gitDirty)}`,
    `  b: ${shortCommit(diff.code.b.gitCommit, diff.code.b.gitDirty)}`,
  );
  lines.push(
    '',
    `Artifact: ${diff.artifact.same ? 'identical bytes' : `${diff.artifact.a.slice(0, 16)} -> ${diff.artifact.b.slice(0, 16)}`}`,
  );
  if (diff.contract.length) {
    lines.push('', 'Contract');
    for (const c of diff.contract) lines.push(`  ${c.path}: ${JSON.stringify(c.a)} -> ${JSON.stringify(c.b)}`);
  }
  if (diff.featurePipeline.length) {
    lines.push('', 'Feature pipeline');
    for (const c of diff.featurePipeline) lines.push(`  ${c.path}: ${JSON.stringify(c.a)} -> ${JSON.stringify(c.b)}`);
  }
  return lines.join('\n');
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

function formatAliases(aliases: Record<string, number>): string {
  const entries = Object.entries(aliases);
  return entries.length ? entries.map(([a, n]) => `${a}=v${n}`).join(' ') : '-';
}

function v(version: number | null): string {
  return version === null ? '(none)' : `v${version}`;
}

function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1000 ? value.toFixed(1) : value.toPrecision(4);
}

function shortCommit(commit: string | null, dirty: boolean | null, long = false): string {
  if (!commit) return 'unknown (not a git checkout)';
  return `git ${long ? commit : commit.slice(0, 12)}${dirty ? ' (dirty work tree)' : dirty === false ? ' (clean)' : ''}`;
}

function parsePairs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new RegistryError(`expected key=value, got "${pair}"`);
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

function nonNegative(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new RegistryError(`${flag} must be a number >= 0, got "${text}"`);
  return n;
}

/** ISO 8601, `now`, or a relative `-30s`/`-15m`/`-2h`/`-7d`. */
export function parseTime(text: string, now = new Date()): Date {
  if (text === 'now') return now;
  const relative = /^-(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text);
  if (relative) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(relative[1]) * unit);
  }
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
    throw new RegistryError(`invalid time "${text}": use ISO 8601 (2026-01-31T12:00:00Z), "now", or -30m/-2h/-7d`);
  }
  return date;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
