/**
 * `npm run bench:small [-- --seeds 20 --gbdt '{"lambda":1}']`
 *
 * keel's GBDT and linear models, at their defaults, against scikit-learn's HistGradientBoosting,
 * LightGBM and Ridge / LogisticRegression (also at their defaults) on small real tables: the four
 * that ship inside scikit-learn's wheel (diabetes, breast cancer, wine, iris) and the two ~400-row
 * tables of issue 17 (cars: miles per gallon; penguins: species), from the vega-datasets package.
 *
 * bench/small/references.py writes the rows and `--seeds` seeded splits (train 60 %, validation
 * 15 %, test 25 %) to a temporary directory and scores the references on them; keel trains here,
 * in process through the library (no Temporal), on the same train rows, with the validation rows
 * for early stopping (and a binary model's threshold), and is scored on the same test rows.
 * `--gbdt` and `--linear` merge JSON into keel's parameters (to gather evidence for defaults);
 * `--cache DIR` keeps the exported data and the references' scores there and reuses them.
 *
 * Per dataset: median and p10–p90 of the task's metric (RMSE, ROC AUC, accuracy) for each model,
 * and `rel_diff`, keel's better model against the better reference (negative: keel is worse);
 * `min_validation_logloss` is the lowest validation log loss of any keel classifier (a collapse
 * to 0/1 probabilities shows as a value near 0). Last line: one JSON object.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveSourcePath } from '../../src/data/parquet-source';
import { trainKeelModels, type SmallDataset } from './keel-models';
import { summarise, type Summary } from './summary';

const here = dirname(fileURLToPath(import.meta.url));
const log = (message: string) => console.error(`[bench:small] ${message}`);

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    gbdt: { type: 'string', default: '{}' },
    linear: { type: 'string', default: '{}' },
    datasets: { type: 'string' },
    cache: { type: 'string' },
  },
});
const seeds = Number(args.seeds);
const gbdtOverrides = JSON.parse(args.gbdt) as Record<string, unknown>;
const linearOverrides = JSON.parse(args.linear) as Record<string, unknown>;

const python = execFileSync('bash', [join(here, '../train/setup-python.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  .trim()
  .split('\n')
  .at(-1)!;
const vega = dirname(resolveSourcePath('vega-datasets:cars.json'));
const dir = args.cache ?? mkdtempSync(join(tmpdir(), 'keel-bench-small-'));
const cached = join(dir, `references-${seeds}.json`);
try {
  const started = performance.now();
  if (!args.cache || !existsSync(cached)) {
    log(`exporting the datasets and scoring the references over ${seeds} splits (${python})`);
    // One thread each: the references' OpenMP pools would fight over a shared 2-core machine.
    const out = execFileSync(python, [join(here, 'references.py'), '--out', dir, '--vega', vega, '--seeds', String(seeds)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, OMP_NUM_THREADS: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    writeFileSync(cached, out.trim().split('\n').at(-1)!);
  }
  const references = JSON.parse(readFileSync(cached, 'utf8')) as Record<string, Record<string, Record<string, number>[]>>;
  const referenceSeconds = (performance.now() - started) / 1000;

  const wanted = args.datasets?.split(',') ?? Object.keys(references);
  const summaries: Summary[] = [];
  const keelStarted = performance.now();
  for (const name of wanted) {
    const dataset = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as SmallDataset;
    const keel = await trainKeelModels(dataset, { gbdt: gbdtOverrides, linear: linearOverrides });
    const summary = summarise(dataset, keel, references[name]);
    summaries.push(summary);
    log(
      `${name}: ${summary.metric} keel gbdt ${fmt(summary.keel_gbdt_median)} linear ${fmt(summary.keel_linear_median)}, best reference ${summary.best_reference} ${fmt(summary.best_reference_median)}; rel_diff ${(summary.rel_diff * 100).toFixed(2)} %; min validation log loss gbdt ${summary.min_validation_logloss_gbdt ?? '-'} linear ${summary.min_validation_logloss_linear ?? '-'}; gbdt trees ${summary.keel_gbdt_trees_median}`,
    );
  }
  const lossFloor = summaries.flatMap((s) => (s.min_validation_logloss === null ? [] : [s.min_validation_logloss]));
  console.log(
    JSON.stringify({
      seeds,
      gbdt_overrides: gbdtOverrides,
      linear_overrides: linearOverrides,
      datasets: summaries,
      worst_rel_diff: Math.min(...summaries.map((s) => s.rel_diff)),
      min_validation_logloss: lossFloor.length ? Math.min(...lossFloor) : null,
      min_validation_logloss_gbdt: lowestOf(summaries.map((s) => s.min_validation_logloss_gbdt)),
      min_validation_logloss_linear: lowestOf(summaries.map((s) => s.min_validation_logloss_linear)),
      keel_s: round((performance.now() - keelStarted) / 1000),
      references_s: round(referenceSeconds),
      loadavg_1m: round(loadavg()[0]),
    }),
  );
} finally {
  if (!args.cache) rmSync(dir, { recursive: true, force: true });
}

function lowestOf(values: (number | null)[]): number | null {
  const numbers = values.filter((v): v is number => v !== null);
  return numbers.length ? Math.min(...numbers) : null;
}

function fmt(value: number): string {
  return Number(value.toPrecision(4)).toString();
}
function round(value: number): number {
  return Math.round(value * 100) / 100;
}
