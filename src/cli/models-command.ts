import { readFile } from 'node:fs/promises';
import type { ModelMetrics } from '../shared/model-metrics';
import { headlineMetric } from '../shared/task-metrics';
import { basename } from 'node:path';
import { userInfo } from 'node:os';
import { Command } from 'commander';
import type { ArtifactStore } from '../registry/artifact-store';
import { importOnnxModel, parseClassList, parseFeatureList, parseTask } from '../registry/import-onnx';
import { describeVersion, diffVersions } from '../registry/lineage';
import { aliasAt, aliasHistoryOf, removeAlias, rollbackAlias, setAlias } from '../registry/aliases';
import { listModels, listModelVersions, resolveRef, getAliases, type ModelVersion } from '../registry/model-registry';
import { archiveVersion, deleteVersion, restoreVersion, updateVersionMetadata } from '../registry/version-lifecycle';
import { parseModelRef, RegistryError, validateAlias, validateModelName } from '../registry/names';
import { openRegistry, type RegistryHandle } from '../registry/open';
import { reproduceVersion } from '../registry/reproduce';
import { collectGarbage } from '../registry/retention';
import { readCodeVersion } from '../runtime/code-version';
import type { Environment } from '../runtime/environment';
import type { Db } from '../db/database';
import { reportFailure } from './failure';
import { printResult } from './output';
import { formatAliases, formatDiff, formatLineage, paddedColumns, sampleSummary, shortCommit, versionLabel } from './model-version-text';

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
              ? paddedColumns([
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
            ? paddedColumns([
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
            ? paddedColumns([
                ['AT', 'ALIAS', 'MOVE', 'ACTION', 'BY', 'REASON'],
                ...moves.map((m) => [
                  m.at.toISOString(),
                  m.alias,
                  `${versionLabel(m.fromVersion)} -> ${versionLabel(m.toVersion)}`,
                  m.action,
                  m.actor,
                  m.reason,
                ]),
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
            `  until   ${answer.until ? `${answer.until.at.toISOString()} (${versionLabel(answer.until.fromVersion)} -> ${versionLabel(answer.until.toVersion)})` : 'now (still current)'}`,
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
            ? `${row.modelName}@${alias}: ${versionLabel(move.fromVersion)} -> v${row.version}`
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
