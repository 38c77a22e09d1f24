import { Command } from 'commander';
import type { ModelMetrics } from '../shared/model-metrics';
import { headlineMetric } from '../shared/task-metrics';
import { databaseOpener } from './database';
import { readLearningCurve, type LearningCurve } from '../ml/trained-model';
import { getPipelineRun, listPipelineRuns } from '../registry/pipeline-runs';
import { findTrainingRun, listTrainingRuns, trainingRunsOf, type TrainingRun } from '../registry/training-runs';
import type { Environment } from '../runtime/environment';
import { printResult } from './output';
import { pipelineRunDetail, pipelineRunJson, pipelineRunLines } from './pipeline-run-lines';

/**
 * `keel runs list|show|trials`: pipeline runs (failed ones too, with their root cause), their
 * stage timelines and their trials: the training runs, one per tuning trial, with learning curves.
 */
export function runsCommand(env: Environment): Command {
  const command = new Command('runs').description(
    'pipeline runs with their stages and failures; their training runs (trials) and learning curves',
  );

  const withRuns = databaseOpener(env);

  command
    .command('list <model>')
    .description('pipeline runs of a model, newest first: status, stages, what they produced, and why a failed one failed')
    .option('--limit <n>', 'at most this many', '20')
    .option('--json', 'machine-readable output')
    .action((model: string, opts: { limit: string; json?: boolean }) =>
      withRuns(async (db) => {
        const runs = await listPipelineRuns(db, model, Number(opts.limit));
        printResult(opts.json, runs.map(pipelineRunJson), () =>
          runs.length ? runs.map((run) => pipelineRunLines(run).join('\n')).join('\n') : `no pipeline runs of "${model}"`,
        );
      }),
    );

  command
    .command('show <id>')
    .description(
      'a pipeline run (workflow id, or <workflowId>/<runId>) with its stage timeline, failure and trials; or one training run (<workflowId>/<runId>/<trial>) with its learning curve',
    )
    .option('--json', 'machine-readable output')
    .action((id: string, opts: { json?: boolean }) =>
      withRuns(async (db) => {
        const pipelineRun = await getPipelineRun(db, id);
        if (pipelineRun) {
          const trials = await trainingRunsOf(db, pipelineRun);
          printResult(opts.json, { ...pipelineRunJson(pipelineRun), trials: trials.map(summary) }, () =>
            [...pipelineRunDetail(pipelineRun), ...trialLines(trials)].join('\n'),
          );
          return;
        }
        const run = await findTrainingRun(db, id);
        if (!run) throw new Error(`no pipeline run or training run "${id}" (keel runs list <model> shows them)`);
        const curve = readLearningCurve(run.learningCurve);
        printResult(
          opts.json,
          {
            ...summary(run),
            trainerSpec: run.trainer,
            validationMetrics: run.validationMetrics,
            evaluation: run.evaluation,
            learningCurve: curve,
          },
          () =>
            [
              `run        ${run.id}`,
              `trainer    ${JSON.stringify(run.trainer)}`,
              `dataset    ${run.datasetVersionId}`,
              `time       ${run.trainSeconds.toFixed(2)} s`,
              `validation ${JSON.stringify(run.validationMetrics)}`,
              `gate       ${summary(run).gate}`,
              ...learningCurveLines(curve),
            ].join('\n'),
        );
      }),
    );

  command
    .command('trials <model>')
    .description('training runs of a model (one per tuning trial), newest first, with their validation metrics and gate decisions')
    .option('--limit <n>', 'at most this many', '20')
    .option('--json', 'machine-readable output')
    .action((model: string, opts: { limit: string; json?: boolean }) =>
      withRuns(async (db) => {
        const runs = await listTrainingRuns(db, model, Number(opts.limit));
        printResult(opts.json, runs.map(summary), () =>
          runs.length ? trialLines(runs).slice(1).join('\n') : `no training runs of "${model}"`,
        );
      }),
    );
  return command;
}

function trialLines(runs: TrainingRun[]): string[] {
  return [
    `trials     ${runs.length}`,
    ...runs.map((r) => {
      const s = summary(r);
      return `  ${s.id}  ${s.trainer}  ${s.seconds.toFixed(1)} s  validation ${s.validation ?? '-'}  ${s.gate}`;
    }),
  ];
}

function summary(run: TrainingRun) {
  const gate = run.gate as { passed: boolean; reasons: string[] } | null;
  return {
    id: run.id,
    trial: run.trial,
    trainer: (run.trainer as { kind: string }).kind,
    seconds: run.trainSeconds,
    iterations: readLearningCurve(run.learningCurve).train.length,
    validation: headlineMetric(run.validationMetrics as ModelMetrics | null),
    gate: gate
      ? `${gate.passed ? 'passed' : 'rejected'}: ${gate.reasons.join('; ')}`
      : 'not evaluated (a tuning trial that lost, or still running)',
    createdAt: run.createdAt.toISOString(),
  };
}

/** The curves as sparklines plus about ten sampled points: enough to see convergence in a terminal. */
export function learningCurveLines(curve: LearningCurve): string[] {
  const { train, validation } = curve;
  if (train.length === 0) return ['curve      (none recorded: an external trainer)'];
  const step = Math.max(1, Math.ceil(train.length / 10));
  const points = train.flatMap((value, i) =>
    i % step === 0 || i === train.length - 1
      ? [`  ${String(i + 1).padStart(5)}  ${value.toFixed(6)}${validation ? `  ${validation[i]?.toFixed(6) ?? '-'}` : ''}`]
      : [],
  );
  return [
    `curve      ${curve.metric} over ${train.length} iterations`,
    `  train      ${sparkline(train)}`,
    ...(validation ? [`  validation ${sparkline(validation)}`] : []),
    `   iter  train${validation ? '     validation' : ''}`,
    ...points,
  ];
}

function sparkline(values: number[]): string {
  const low = Math.min(...values);
  const high = Math.max(...values);
  const bars = '▁▂▃▄▅▆▇█';
  const width = Math.min(60, values.length);
  return Array.from({ length: width }, (_, i) => {
    const value = values[Math.floor((i * (values.length - 1)) / Math.max(1, width - 1))];
    return bars[high === low ? 0 : Math.round(((value - low) / (high - low)) * (bars.length - 1))];
  }).join('');
}
