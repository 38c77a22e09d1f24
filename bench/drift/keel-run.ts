/**
 * keel's side of `npm run bench:drift`, in its own process (so its peak RSS is its own): reads
 * the data written by data.ts, then `repeat` times builds the drift references of the reference
 * columns and evaluates the window against them with every statistic (KS, Wasserstein, Jensen–
 * Shannon and PSI per numeric column; chi-squared or z, Jensen–Shannon and PSI per categorical
 * one). Prints one JSON line: wall and CPU seconds per repetition (CPU time includes the
 * garbage collector's threads), peak RSS, per-column statistics.
 *
 *   tsx bench/drift/keel-run.ts <data dir> <repeat>
 */
import { performance } from 'node:perf_hooks';
import { evaluateDrift } from '../../src/monitoring/drift';
import { categoricalDriftReference, numericDriftReference, type DriftReferenceSet } from '../../src/monitoring/reference';
import { load } from './data';

const [dir, repeatText] = process.argv.slice(2);
const repeat = Number(repeatText ?? 3);
const { data, reference, current } = load(dir);
const features = data.columns.map((c) => c.name);
const loadedRssMb = process.memoryUsage().rss / 2 ** 20;

const seconds: number[] = [];
const cpuSeconds: number[] = [];
let result: ReturnType<typeof evaluateDrift> | undefined;
for (let r = 0; r < repeat; r++) {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const references: DriftReferenceSet = {};
  for (const column of data.columns) {
    // Every value kept: the statistics are exact, as SciPy computes them on the raw arrays.
    references[column.name] =
      column.kind === 'numeric'
        ? numericDriftReference(reference[column.name], { sampleSize: Infinity })
        : categoricalDriftReference(reference[column.name]);
  }
  result = evaluateDrift({
    reference: references,
    current: { columns: current, rowCount: data.rows },
    features,
    config: { statistics: 'all' },
  });
  seconds.push((performance.now() - started) / 1000);
  const cpu = process.cpuUsage(cpuStarted);
  cpuSeconds.push((cpu.user + cpu.system) / 1e6);
}

const columns = Object.fromEntries(
  result!.columns.map((c) => [
    c.column,
    {
      method: c.method,
      drifted: c.drifted,
      ks_statistic: c.statistics.ks?.statistic,
      ks_p: c.statistics.ks?.pValue,
      wasserstein: c.statistics.wasserstein?.normed,
      js: c.statistics.jensenshannon,
      chi2: c.statistics.chisquare?.statistic,
      chi2_p: c.statistics.chisquare?.pValue,
      z_p: c.statistics.z?.pValue,
      psi: c.statistics.psi,
    },
  ]),
);
process.stdout.write(
  `${JSON.stringify({ seconds, cpu_seconds: cpuSeconds, peak_rss_mb: process.resourceUsage().maxRSS / 1024, loaded_rss_mb: loadedRssMb, dataset_drift: result!.dataset.drifted, drifted: result!.dataset.driftedColumns, columns })}\n`,
);
