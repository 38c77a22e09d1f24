import { startTemporalDevServer, type TemporalDevServer } from '../../../src/runtime/temporal-dev-server';
import { freePort } from '../../../src/runtime/ports';

/**
 * A Temporal dev server the test owns and may kill: its state lives in `<dataDir>/temporal.sqlite`,
 * and `restart()` starts a new server on the same file and port, so clients and workers reconnect.
 */
export interface RestartableTemporal {
  readonly address: string;
  /** SIGKILL: no shutdown, whatever was not yet in the db file is lost. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRestartableTemporal(dataDir: string): Promise<RestartableTemporal> {
  const port = await freePort();
  const start = () =>
    startTemporalDevServer({ dataDir, port, headless: true, persistent: true, cliPath: process.env.KEEL_TEMPORAL_CLI || undefined });
  let server: TemporalDevServer = await start();
  return {
    address: server.address,
    async kill() {
      const pid = server.pid;
      if (pid === undefined) throw new Error('the dev server was started by the SDK; no pid to kill');
      process.kill(pid, 'SIGKILL');
      // The old handle's stop() now only waits for the exit it has already seen.
      await server.stop();
    },
    async restart() {
      server = await start();
    },
    stop: () => server.stop(),
  };
}
