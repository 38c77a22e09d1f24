import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { locateTemporalCli } from '../../src/runtime/temporal-cli';

/**
 * Writes a run's history as a replay fixture, in the JSON form `Worker.runReplayHistory` reads (as
 * the CLI and the web UI export it). Without `runId`, the latest run of the workflow id.
 */
export async function captureHistory(workflowId: string, path: string, runId?: string): Promise<void> {
  const cli = await locateTemporalCli({ allowBuild: false });
  if (!cli) throw new Error('capturing a history needs the temporal CLI');
  const { stdout } = await promisify(execFile)(
    cli,
    [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      ...(runId ? ['--run-id', runId] : []),
      '--output',
      'json',
      '--address',
      inject('temporalAddress'),
    ],
    { maxBuffer: 64 << 20 },
  );
  await writeFile(path, stdout);
}

/**
 * Where the continue-as-new tests of canaryRollout and monitor write the histories of a run that
 * continued as new and of the run after it (test/replay/): set KEEL_CAPTURE_HISTORY_DIR to refresh
 * those fixtures after a deliberate workflow change. Undefined: nothing is captured.
 */
export function historyCapturePath(name: string): string | undefined {
  const dir = process.env.KEEL_CAPTURE_HISTORY_DIR;
  return dir ? join(dir, name) : undefined;
}
