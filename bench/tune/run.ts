/**
 * `npm run bench:tune`: keel's TPE against Optuna's TPE (Python, the reference) and keel's random
 * search, on the same objectives, search spaces and budget. Per objective and seed, the best value
 * reached after N trials; reported as the median over seeds of the regret (best − the known
 * optimum, lower is better) after each checkpoint budget.
 *
 *   TUNE_TRIALS (default 100), TUNE_SEEDS (default 20), TUNE_CHECKPOINTS (default 20,50,100)
 *
 * Both TPEs use Optuna's defaults (10 random startup trials, 24 candidates, parameters modelled
 * independently). Last line: JSON.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tpeSuggest, type Observation } from '../../src/shared/tpe';
import { trialGenerator } from '../../src/shared/tpe-study';
import type { SearchDimension } from '../../src/shared/search-space';
import { randomConfigs } from '../../src/shared/tuning';
import { objectives } from './objectives';

const here = dirname(fileURLToPath(import.meta.url));
const trials = Number(process.env.TUNE_TRIALS ?? 100);
const seedCount = Number(process.env.TUNE_SEEDS ?? 20);
const checkpoints = (process.env.TUNE_CHECKPOINTS ?? '20,50,100')
  .split(',')
  .map(Number)
  .filter((n) => n <= trials);
const seeds = Array.from({ length: seedCount }, (_, i) => i + 1);
const spec = JSON.parse(readFileSync(join(here, 'objectives.json'), 'utf8')) as Record<
  string,
  { optimum: number; space: Record<string, SearchDimension> }
>;

function bestSoFar(values: number[]): number[] {
  let best = Number.POSITIVE_INFINITY;
  return values.map((v) => (best = Math.min(best, v)));
}

function keelTpe(name: string, seed: number): number[] {
  const { space } = spec[name];
  const observations: Observation[] = [];
  for (let i = 0; i < trials; i++) {
    const params = tpeSuggest(space, observations, trialGenerator(seed, i), { startupTrials: 10, candidates: 24 });
    observations.push({ params, loss: objectives[name](params) });
  }
  return bestSoFar(observations.map((o) => o.loss));
}

function keelRandom(name: string, seed: number): number[] {
  return bestSoFar(randomConfigs(spec[name].space, trials, seed).map(objectives[name]));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const round = (x: number) => Number(x.toPrecision(4));

function main(): void {
  const python = execFileSync('bash', [join(here, 'setup-python.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .at(-1)!;
  const request = JSON.stringify({ objectives: spec, trials, seeds });
  const started = performance.now();
  const keel = Object.fromEntries(
    Object.keys(spec).map((name) => [name, { tpe: seeds.map((s) => keelTpe(name, s)), random: seeds.map((s) => keelRandom(name, s)) }]),
  );
  const keelSeconds = (performance.now() - started) / 1000;
  const run = spawnSync(python, [join(here, 'optuna_tpe.py')], {
    cwd: here,
    input: request,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`optuna_tpe.py exited with ${run.status}`);
  const optuna = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
    optuna_version: string;
    seconds: number;
    objectives: Record<string, number[][]>;
  };

  const results = Object.keys(spec).map((name) => {
    const regret = (curves: number[][], n: number) => median(curves.map((c) => c[n - 1] - spec[name].optimum));
    const at = Object.fromEntries(
      checkpoints.map((n) => {
        const row = {
          keel_tpe: round(regret(keel[name].tpe, n)),
          optuna_tpe: round(regret(optuna.objectives[name], n)),
          keel_random: round(regret(keel[name].random, n)),
        };
        return [String(n), row];
      }),
    );
    const last = at[String(checkpoints.at(-1))];
    // Seeds where keel's TPE ends at least as good as Optuna's with the same seed number.
    const wins = seeds.filter((_, i) => keel[name].tpe[i][trials - 1] <= optuna.objectives[name][i][trials - 1]).length;
    console.log(
      `${name}: median regret after ${checkpoints.join('/')} trials — keel TPE ${checkpoints.map((n) => at[String(n)].keel_tpe).join('/')}, Optuna TPE ${checkpoints.map((n) => at[String(n)].optuna_tpe).join('/')}, keel random ${checkpoints.map((n) => at[String(n)].keel_random).join('/')}; keel TPE ≤ Optuna on ${wins}/${seeds.length} seeds`,
    );
    return {
      name,
      optimum: spec[name].optimum,
      median_regret: at,
      keel_tpe_median_regret: last.keel_tpe,
      optuna_tpe_median_regret: last.optuna_tpe,
      keel_random_median_regret: last.keel_random,
      ratio_keel_tpe_vs_optuna_tpe: round(last.keel_tpe / last.optuna_tpe),
      ratio_keel_tpe_vs_keel_random: round(last.keel_tpe / last.keel_random),
      keel_tpe_at_least_optuna_seeds: wins,
    };
  });
  console.log(
    JSON.stringify({
      trials,
      seeds: seeds.length,
      checkpoints,
      optuna_version: optuna.optuna_version,
      objectives: results,
      keel_s: round(keelSeconds),
      optuna_s: round(optuna.seconds),
    }),
  );
}

main();
