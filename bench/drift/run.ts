/**
 * `npm run bench:drift` — keel's drift statistics against SciPy/NumPy on the same data, in one run
 * (see shared/BENCHMARKS.md and docs/benchmarks.md):
 *
 *   1. data.ts writes a seeded synthetic reference and window (BENCH_ROWS rows each, default
 *      100 000; 50 features, 10 of them drifted) to a temporary directory;
 *   2. keel-run.ts (a separate Node process) builds exact drift references and evaluates the
 *      window with every statistic, BENCH_REPEAT times (default 3);
 *   3. drift_reference.py computes the same statistics with SciPy/NumPy, as often, in the venv
 *      of setup-python.sh (~/.cache/keel/bench-venv; created or completed on first use).
 *
 * Times are the best repetition of each side (wall clock; CPU time of the same repetition as
 * `*_cpu_s`); both include everything from the loaded arrays to the statistics (keel: reference
 * building, sorting, binning, tests). numpy's BLAS threads are left at their default. The last line printed is the
 * JSON result; `max_rel_diff` compares every statistic of both sides.
 *
 * `npm run bench:drift -- --scale` runs the benchmark at scale instead (bench/drift/scale.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './data';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const here = dirname(fileURLToPath(import.meta.url));
const say = (line: string) => process.stderr.write(`${line}\n`);

interface SideResult {
  seconds: number[];
  cpu_seconds: number[];
  peak_rss_mb: number;
  /** RSS once the data is loaded, before any statistic: what the computation adds is the difference. */
  loaded_rss_mb: number;
  columns: Record<string, Record<string, number | string | boolean | undefined>>;
  versions?: Record<string, string>;
  dataset_drift?: boolean;
  drifted?: string[];
}

function runJson(command: string, args: string[]): SideResult {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as SideResult;
}

if (process.argv.includes('--scale')) await import('./scale');
else exactBenchmark();

function exactBenchmark(): void {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-drift-'));
  try {
    say(
      `bench:drift on ${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const data = generate(dir, ROWS);
    say(
      `data: ${ROWS} rows x ${data.columns.length} features (reference and window), ${data.columns.filter((c) => c.drifted).length} drifted, in ${dir}`,
    );
    const python = execFileSync('bash', [join(here, 'setup-python.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .at(-1)!;

    const keel = runJson(process.execPath, ['--import', 'tsx', join(here, 'keel-run.ts'), dir, String(REPEAT)]);
    say(
      `keel:  ${keel.seconds.map((s) => s.toFixed(3)).join(' ')} s, peak RSS ${keel.peak_rss_mb.toFixed(0)} MB (${keel.loaded_rss_mb.toFixed(0)} MB with the data loaded)`,
    );
    const scipy = runJson(python, [join(here, 'drift_reference.py'), dir, String(REPEAT)]);
    say(
      `scipy: ${scipy.seconds.map((s) => s.toFixed(3)).join(' ')} s, peak RSS ${scipy.peak_rss_mb.toFixed(0)} MB (${scipy.loaded_rss_mb.toFixed(0)} MB loaded; numpy ${scipy.versions?.numpy}, scipy ${scipy.versions?.scipy})`,
    );

    // Every statistic both sides computed, compared.
    let maxRelDiff = 0;
    let worst = '';
    for (const column of data.columns) {
      const k = keel.columns[column.name];
      const p = scipy.columns[column.name];
      for (const [key, value] of Object.entries(p)) {
        const mine = k[key];
        if (typeof value !== 'number' || typeof mine !== 'number') continue;
        const diff = mine === value ? 0 : Math.abs(mine - value) / Math.max(Math.abs(value), 1e-12);
        if (diff > maxRelDiff) {
          maxRelDiff = diff;
          worst = `${column.name}.${key}`;
        }
      }
    }
    const expected = data.columns.filter((c) => c.drifted).map((c) => c.name);
    const found = keel.drifted ?? [];
    say(`drifted columns: expected ${expected.join(' ')}; keel found ${found.join(' ')}`);
    say(`largest relative difference keel vs SciPy: ${maxRelDiff.toExponential(2)} (${worst})`);

    const keelS = Math.min(...keel.seconds);
    const pythonS = Math.min(...scipy.seconds);
    const result = {
      bench: 'drift',
      date: new Date().toISOString(),
      rows: ROWS,
      reference_rows: ROWS,
      features: data.columns.length,
      numeric: data.columns.filter((c) => c.kind === 'numeric').length,
      categorical: data.columns.filter((c) => c.kind === 'categorical').length,
      keel_s: round(keelS),
      python_s: round(pythonS),
      ratio_vs_python: round(keelS / pythonS),
      // CPU time of the same best repetitions: steadier than wall time on a shared machine.
      keel_cpu_s: round(keel.cpu_seconds[keel.seconds.indexOf(keelS)]),
      python_cpu_s: round(scipy.cpu_seconds[scipy.seconds.indexOf(pythonS)]),
      peak_rss_mb: Math.round(keel.peak_rss_mb),
      loaded_rss_mb: Math.round(keel.loaded_rss_mb),
      python_peak_rss_mb: Math.round(scipy.peak_rss_mb),
      python_loaded_rss_mb: Math.round(scipy.loaded_rss_mb),
      repeat: REPEAT,
      max_rel_diff: Number(maxRelDiff.toPrecision(2)),
      drifted_expected: expected.length,
      drifted_found: found.length,
      drifted_match: expected.length === found.length && expected.every((name) => found.includes(name)),
      cores: cpus().length,
      load_avg_1m: Number(loadavg()[0].toFixed(2)),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}
