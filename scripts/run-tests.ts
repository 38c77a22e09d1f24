import { spawn } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import config from '../vitest.config';

/**
 * `npm test`: two lanes at the same time.
 *
 * - **checks**: `npm run check` (typecheck, lint, format, knip, import cycles), then the unit
 *   tests. CPU-bound, one process at a time, at a lower priority (niceness +10 from this script's).
 * - **services**: every other vitest project (integration with replay and security, browser,
 *   workflow). One file at a time on shared servers, mostly waiting on Temporal, PostgreSQL and
 *   timers, so it leaves a core idle much of the time; its timing-sensitive tests keep the CPU first.
 *
 * One vitest run would not overlap them: a project's files run only after the files of the
 * projects before it (vitest 3 runs all forks-pool projects in one pool, parallel files first).
 * The services lane's output is streamed; the checks lane's is printed in one block when it ends,
 * so the two never interleave. `--report-dir DIR` also writes each lane's vitest JSON report to
 * DIR/<lane>.json (.ci/run sums them); other arguments are vitest file filters, given to both
 * lanes (`npm test -- ingest`). Exits 1 if either lane failed.
 */
const { values, positionals: filters } = parseArgs({ options: { 'report-dir': { type: 'string' } }, allowPositionals: true });
const reportDir = values['report-dir'];

interface Lane {
  name: string;
  /** Lower priority: this lane only uses a core the other leaves idle. */
  background: boolean;
  steps: string[][];
}

const vitest = (lane: string, ...projects: string[]) => [
  'npx',
  'vitest',
  'run',
  ...projects.flatMap((project) => ['--project', project]),
  ...(filters.length > 0 ? ['--passWithNoTests', ...filters] : []),
  ...(reportDir ? ['--reporter=default', '--reporter=json', `--outputFile.json=${join(reportDir, `${lane}.json`)}`] : []),
];

const projectNames = (config.test?.projects ?? []).map((project) => {
  const name = typeof project === 'object' && 'test' in project ? project.test?.name : undefined;
  if (typeof name !== 'string') throw new Error(`vitest.config.ts: every project needs test.name (got ${JSON.stringify(project)})`);
  return name;
});
const lanes: Lane[] = [
  { name: 'services', background: false, steps: [vitest('services', ...projectNames.filter((name) => name !== 'unit'))] },
  { name: 'checks', background: true, steps: [['npm', 'run', 'check'], vitest('checks', 'unit')] },
];

const results = await Promise.all(lanes.map(runLane));
for (const r of results) console.log(`[test] ${r.name}: ${r.ok ? 'passed' : 'FAILED'} in ${r.seconds.toFixed(1)} s`);
process.exitCode = results.every((r) => r.ok) ? 0 : 1;

async function runLane(lane: Lane): Promise<{ name: string; ok: boolean; seconds: number }> {
  const started = performance.now();
  const buffered: Buffer[] = [];
  const write = lane.background ? (chunk: Buffer) => void buffered.push(chunk) : (chunk: Buffer) => void process.stdout.write(chunk);
  let ok = true;
  for (const [command, ...args] of lane.steps) {
    write(Buffer.from(`[test] ${lane.name}: ${[command, ...args].join(' ')}\n`));
    ok = (await run(command, args, lane.background, write)) === 0;
    if (!ok) break;
  }
  if (lane.background) {
    process.stdout.write(`\n[test] ---- ${lane.name} lane output ----\n`);
    for (const chunk of buffered) process.stdout.write(chunk);
    process.stdout.write(`[test] ---- end of ${lane.name} lane ----\n\n`);
  }
  return { name: lane.name, ok, seconds: (performance.now() - started) / 1000 };
}

function run(command: string, args: string[], background: boolean, write: (chunk: Buffer) => void): Promise<number> {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}) },
  });
  // Set before npm or npx forks anything (they take far longer to start), so their children inherit it.
  if (background && child.pid !== undefined) setPriority(child.pid, Math.min(19, getPriority() + 10));
  child.stdout.on('data', write);
  child.stderr.on('data', write);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}
