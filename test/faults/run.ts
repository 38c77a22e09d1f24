import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarise } from './support/figures';

/**
 * `npm run test:faults`: runs the fault suite with vitest, then prints its summary as the very last
 * line of output, one JSON object (what CI reads). Exits with vitest's status.
 */
const dir = mkdtempSync(join(tmpdir(), 'keel-faults-'));
const figures = join(dir, 'figures.jsonl');
const started = Date.now();
const vitest = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.faults.config.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, KEEL_FAULTS_DIR: dir, KEEL_FAULTS_FIGURES: figures },
});
const summary = await summarise(figures);
rmSync(dir, { recursive: true, force: true });
console.log(`fault suite took ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(JSON.stringify(summary));
process.exit(vitest.status ?? 1);
