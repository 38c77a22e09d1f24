import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarise } from './support/figures';

/**
 * `npm run test:faults`: runs the fault suite with vitest, then prints its summary as the very last
 * line of output, one JSON object (what CI reads). Exits with vitest's status.
 *
 * Each fault file starts its own Temporal dev server and keel processes and kills only those, so
 * the suite runs in two lanes side by side. Most of a fault test waits (bakes, schedule ticks,
 * outages); the lanes pair each file that trains a model with one that mostly waits, so that the
 * timings the tests assert (a worker back within the bake, 250 req/s during an outage) hold on two
 * cores. worker-kill.test.ts, the longest file (its short-stage kills wait out retry timeouts),
 * has a lane with the monitor's schedule ticks; the other faults share the other lane. With file
 * arguments, those files run in one lane.
 */
const lanes = [
  [
    'test/faults/temporal-restart.test.ts',
    'test/faults/canary-faults.test.ts',
    'test/faults/postgres-training-outage.test.ts',
    'test/faults/postgres-outage.test.ts',
    'test/faults/disk-full.test.ts',
  ],
  ['test/faults/monitor-outage.test.ts', 'test/faults/worker-kill.test.ts'],
];

const unplaced = readdirSync('test/faults')
  .filter((name) => name.endsWith('.test.ts'))
  .map((name) => `test/faults/${name}`)
  .filter((file) => !lanes.flat().includes(file));
if (unplaced.length > 0) {
  console.error(`test/faults/run.ts: put ${unplaced.join(', ')} in a lane (see the comment there)`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'keel-faults-'));
const figures = join(dir, 'figures.jsonl');
const started = Date.now();
const args = process.argv.slice(2);
const statuses = await Promise.all((args.length > 0 ? [args] : lanes).map((files, lane) => runVitest(files, join(dir, `lane-${lane}`))));
const summary = await summarise(figures);
rmSync(dir, { recursive: true, force: true });
console.log(`fault suite took ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(JSON.stringify(summary));
process.exit(statuses.every((status) => status === 0) ? 0 : 1);

function runVitest(files: string[], workDir: string): Promise<number> {
  mkdirSync(workDir, { recursive: true });
  const child = spawn('npx', ['vitest', 'run', '--config', 'vitest.faults.config.ts', ...files], {
    stdio: 'inherit',
    env: { ...process.env, KEEL_FAULTS_DIR: workDir, KEEL_FAULTS_FIGURES: figures },
  });
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}
