import { type ChildProcess, spawn } from 'node:child_process';
import { inject } from 'vitest';

/**
 * keel's own processes (`worker-main.ts`, `server-main.ts`) started as children, the way they run
 * in production, so a fault can SIGKILL them. Each resolves once the process logs that it runs.
 */
export interface KeelProcess {
  readonly child: ChildProcess;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last part of what it wrote to stdout and stderr (its log). */
  log(): string;
  /** Whether the process has ended (by itself or killed). */
  exited(): boolean;
}

const READY: Record<'worker' | 'server', { script: string; line: string }> = {
  worker: { script: 'src/runtime/worker-main.ts', line: 'worker running' },
  server: { script: 'src/runtime/server-main.ts', line: 'model server running' },
};

export async function startKeelProcess(
  kind: 'worker' | 'server',
  env: Record<string, string>,
  readyTimeoutMs = 180_000,
): Promise<KeelProcess> {
  const { script, line } = READY[kind];
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${kind} not ready within ${readyTimeoutMs} ms:\n${log.slice(-2000)}`)),
      readyTimeoutMs,
    );
    const check = () => {
      if (log.includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited (${code ?? signal}) before it was ready:\n${log.slice(-2000)}`));
    });
  });
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    async kill() {
      if (!gone()) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 10_000) {
      if (gone()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    log: () => log,
    exited: gone,
  };
}

/** Every process a test file started, stopped together in its afterAll; workers load the suite's workflow bundle. */
export class ProcessSet {
  private readonly all: KeelProcess[] = [];
  async start(kind: 'worker' | 'server', env: Record<string, string>): Promise<KeelProcess> {
    const started = await startKeelProcess(
      kind,
      kind === 'worker' ? { KEEL_WORKFLOW_BUNDLE: inject('faultsWorkflowBundle'), ...env } : env,
    );
    this.all.push(started);
    return started;
  }
  async stopAll(): Promise<void> {
    await Promise.all(this.all.map((p) => p.stop(5_000)));
  }
}
