import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { freePort, isPortFree } from './ports';
import { locateTemporalCli, temporalCacheDir, type Log } from './temporal-cli';

/**
 * Starting the Temporal dev server (`temporal server start-dev`) for `npm start` and for tests, or
 * connecting to an external server when one is configured (`TEMPORAL_ADDRESS`).
 */

export interface DevServerOptions {
  /** Directory for the SQLite state file (`<dataDir>/temporal.sqlite`). Created if missing. */
  dataDir: string;
  /** Frontend gRPC port. Default: 7233 if `preferDefaultPorts` and free, else a free port. */
  port?: number;
  /** Web UI port. Default: 8233 if `preferDefaultPorts` and free, else a free port. */
  uiPort?: number;
  /** Namespace created at start (the `default` namespace always exists too). Default `default`. */
  namespace?: string;
  /** Keep state in `<dataDir>/temporal.sqlite` across restarts (default true). */
  persistent?: boolean;
  /** Run without the web UI. */
  headless?: boolean;
  /** Try 7233/8233 before random free ports (for the user-facing `npm start`). Default false. */
  preferDefaultPorts?: boolean;
  /** Search attributes to register, as `Name=Type` (e.g. `KeelModel=Keyword`). */
  searchAttributes?: string[];
  /** Use this binary instead of locating one. */
  cliPath?: string;
  /** Allow `go install` of the CLI when none is found (default true). */
  allowBuild?: boolean;
  /** How long to wait for the frontend to answer (default 60 s). */
  startTimeoutMs?: number;
  log?: Log;
}

export interface TemporalDevServer {
  /** `host:port` of the frontend gRPC service. */
  address: string;
  uiUrl: string | undefined;
  namespace: string;
  /** SQLite state file, when persistent. */
  dbFilename: string | undefined;
  /** Pid of the server process we spawned; undefined when the SDK started it. */
  pid: number | undefined;
  /** SIGTERM, wait for exit, SIGKILL after 10 s. Idempotent. */
  stop: () => Promise<void>;
}

class TemporalDevServerError extends Error {
  override name = 'TemporalDevServerError';
}

const HOST = '127.0.0.1';
const DEFAULT_PORT = 7233;
const DEFAULT_UI_PORT = 8233;
const STOP_GRACE_MS = 10_000;

async function pickPort(preferred: number | undefined, avoid: Set<number>): Promise<number> {
  if (preferred !== undefined && !avoid.has(preferred) && (await isPortFree(preferred))) return preferred;
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    if (!avoid.has(p)) return p;
  }
  throw new TemporalDevServerError('could not find a free port');
}

/** Arguments for `temporal server start-dev` (exported for tests and docs). */
export function devServerArgs(o: {
  port: number;
  uiPort?: number;
  namespace: string;
  dbFilename?: string;
  headless?: boolean;
  searchAttributes?: string[];
}): string[] {
  const args = ['server', 'start-dev', '--ip', HOST, '--port', String(o.port)];
  if (o.headless) args.push('--headless');
  else if (o.uiPort !== undefined) args.push('--ui-port', String(o.uiPort));
  args.push('--namespace', o.namespace);
  if (o.dbFilename) args.push('--db-filename', o.dbFilename);
  for (const sa of o.searchAttributes ?? []) args.push('--search-attribute', sa);
  args.push('--log-level', 'warn');
  return args;
}

/** Keeps the last `max` lines written to a stream. */
class Tail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max = 60) {}
  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const l of parts) if (l.trim() !== '') this.lines.push(l);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }
  toString(): string {
    return [...this.lines, ...(this.partial.trim() ? [this.partial] : [])].join('\n');
  }
}

/**
 * Start `temporal server start-dev` and wait until its frontend answers and the namespace exists.
 * Falls back to `TestWorkflowEnvironment.createLocal()` (which downloads the CLI; needs internet and
 * the `@temporalio/testing` dev dependency) when no CLI binary can be located.
 */
export async function startTemporalDevServer(opts: DevServerOptions): Promise<TemporalDevServer> {
  const log = opts.log ?? (() => {});
  const namespace = opts.namespace ?? 'default';
  const persistent = opts.persistent ?? true;
  mkdirSync(opts.dataDir, { recursive: true });
  const dbFilename = persistent ? path.join(path.resolve(opts.dataDir), 'temporal.sqlite') : undefined;

  const cli = opts.cliPath ?? (await locateTemporalCli({ allowBuild: opts.allowBuild, log }));
  if (!cli) return startWithSdk(opts, namespace, dbFilename, log);

  // Ports we pick ourselves can be taken between probing and binding; then retry with new ones.
  const autoPorts = opts.port === undefined || (!opts.headless && opts.uiPort === undefined);
  const attempts = autoPorts ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = opts.port ?? (await pickPort(opts.preferDefaultPorts && attempt === 1 ? DEFAULT_PORT : undefined, new Set()));
    const uiPort = opts.headless
      ? undefined
      : (opts.uiPort ??
        (await pickPort(
          opts.preferDefaultPorts && attempt === 1 ? (opts.port === undefined ? DEFAULT_UI_PORT : port + 1000) : undefined,
          new Set([port]),
        )));
    try {
      return await spawnDevServer({ cli, port, uiPort, namespace, dbFilename, opts, log });
    } catch (err) {
      lastError = err;
      const portClash = err instanceof TemporalDevServerError && /address already in use/i.test(err.message);
      if (!portClash || attempt === attempts) throw err;
      log(`temporal dev server port clash on ${port}/${uiPort ?? '-'}; retrying with other ports`);
    }
  }
  throw lastError;
}

async function spawnDevServer(a: {
  cli: string;
  port: number;
  uiPort: number | undefined;
  namespace: string;
  dbFilename: string | undefined;
  opts: DevServerOptions;
  log: Log;
}): Promise<TemporalDevServer> {
  const { cli, port, uiPort, namespace, dbFilename, opts, log } = a;
  const address = `${HOST}:${port}`;
  const uiUrl = uiPort !== undefined ? `http://${HOST}:${uiPort}` : undefined;
  const args = devServerArgs({ port, uiPort, namespace, dbFilename, headless: opts.headless, searchAttributes: opts.searchAttributes });
  log(`starting temporal dev server: ${cli} ${args.join(' ')}`);

  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.dataDir });
  const tail = new Tail();
  child.stdout?.on('data', (c: Buffer) => tail.push(c));
  child.stderr?.on('data', (c: Buffer) => tail.push(c));

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    // 'close' (not 'exit'): the output is fully read by then, so error messages carry all of it.
    child.once('close', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });

  // Do not leave an orphaned server behind if this process exits without calling stop().
  const killOnExit = () => {
    if (!exited) child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (exited) return;
      child.kill('SIGTERM');
      const timedOut = await Promise.race([exitPromise.then(() => false), sleep(STOP_GRACE_MS).then(() => true)]);
      if (timedOut && !exited) {
        log(`temporal dev server (pid ${child.pid}) did not exit within ${STOP_GRACE_MS / 1000} s; killing it`);
        child.kill('SIGKILL');
        await exitPromise;
      }
    })());

  const failure = (what: string) =>
    new TemporalDevServerError(`${what}\ncommand: ${cli} ${args.join(' ')}\n--- server output (tail) ---\n${tail.toString() || '(none)'}`);

  try {
    await waitUntilReady({
      address,
      uiUrl,
      namespace,
      timeoutMs: opts.startTimeoutMs ?? 60_000,
      exited: exitPromise,
    });
  } catch (err) {
    await stop();
    if (spawnError) throw failure(`could not run temporal CLI: ${spawnError.message}`);
    if (exited) throw failure(`temporal dev server exited during startup (code ${exited.code}, signal ${exited.signal})`);
    throw failure(`temporal dev server did not become ready: ${(err as Error).message}`);
  }

  void exitPromise.then(() => {
    if (!stopping)
      log(
        `temporal dev server (pid ${child.pid}) exited unexpectedly (code ${exited?.code}, signal ${exited?.signal})\n${tail.toString()}`,
      );
  });
  log(`temporal dev server ready at ${address}${uiUrl ? `, web UI ${uiUrl}` : ''}${dbFilename ? `, state in ${dbFilename}` : ''}`);
  return { address, uiUrl, namespace, dbFilename, pid: child.pid, stop };
}

/** Poll until the frontend answers, the namespace is registered and (if enabled) the UI answers. */
async function waitUntilReady(a: {
  address: string;
  uiUrl: string | undefined;
  namespace: string;
  timeoutMs: number;
  /** Resolves when the server process exits; readiness then fails at once. */
  exited: Promise<void>;
}): Promise<void> {
  const deadline = Date.now() + a.timeoutMs;
  let lastError: unknown = new Error('timed out');
  let frontendReady = false;
  let hasExited = false;
  const exited = a.exited.then(() => {
    hasExited = true;
    throw new Error('server process exited');
  });
  exited.catch(() => {});
  while (Date.now() < deadline) {
    if (hasExited) throw new Error('server process exited');
    try {
      await Promise.race([exited, probe()]);
      return;
    } catch (err) {
      if (hasExited) throw err;
      lastError = err;
      await sleep(250);
    }
  }
  throw lastError;

  async function probe(): Promise<void> {
    if (!frontendReady) {
      const connection = await Connection.connect({ address: a.address, connectTimeout: 2_000 });
      try {
        await connection.healthService.check({});
        await connection.workflowService.describeNamespace({ namespace: a.namespace });
      } finally {
        await connection.close();
      }
      frontendReady = true;
    }
    if (a.uiUrl) await fetch(a.uiUrl, { signal: AbortSignal.timeout(2_000) });
  }
}

/** Fallback when no CLI binary is available: the SDK downloads one (needs internet). */
async function startWithSdk(
  opts: DevServerOptions,
  namespace: string,
  dbFilename: string | undefined,
  log: Log,
): Promise<TemporalDevServer> {
  let testing: typeof import('@temporalio/testing');
  try {
    testing = await import('@temporalio/testing');
  } catch (err) {
    throw new TemporalDevServerError(
      'no temporal CLI binary was found (set KEEL_TEMPORAL_CLI, put `temporal` on PATH, or install Go to build it) ' +
        `and @temporalio/testing, which could download one, is not installed: ${(err as Error).message}`,
    );
  }
  const port = opts.port ?? (await pickPort(opts.preferDefaultPorts ? DEFAULT_PORT : undefined, new Set()));
  const uiPort = opts.headless
    ? undefined
    : (opts.uiPort ?? (await pickPort(opts.preferDefaultPorts ? DEFAULT_UI_PORT : undefined, new Set([port]))));
  const downloadDir = path.join(path.dirname(temporalCacheDir()), 'sdk-download');
  log(`no temporal CLI binary found; letting the Temporal SDK download the dev server into ${downloadDir}`);
  let env: import('@temporalio/testing').TestWorkflowEnvironment;
  try {
    env = await testing.TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download', downloadDir },
        ip: HOST,
        port,
        ui: !opts.headless,
        uiPort,
        namespace,
        dbFilename,
        log: { format: 'pretty', level: 'warn' },
        extraArgs: (opts.searchAttributes ?? []).flatMap((sa) => ['--search-attribute', sa]),
      },
    });
  } catch (err) {
    throw new TemporalDevServerError(
      `the Temporal SDK could not download or start the dev server (${(err as Error).message}). Without internet, ` +
        'install Go and let keel build the CLI (go install github.com/temporalio/cli/cmd/temporal@v1.5.1), or set KEEL_TEMPORAL_CLI.',
    );
  }
  const uiUrl = uiPort !== undefined ? `http://${HOST}:${uiPort}` : undefined;
  let stopping: Promise<void> | undefined;
  log(`temporal dev server (SDK download) ready at ${env.address}${uiUrl ? `, web UI ${uiUrl}` : ''}`);
  return {
    address: env.address,
    uiUrl,
    namespace,
    dbFilename,
    pid: undefined,
    stop: () => (stopping ??= env.teardown()),
  };
}

// ---------------------------------------------------------------------------------------------
// External server or local dev server

export interface TemporalConfig {
  /** External frontend (`host:port`). When set, nothing is started. */
  address?: string;
  namespace: string;
  /** TLS for the external server; defaults to true when an API key is given (Temporal Cloud). */
  tls?: boolean;
  apiKey?: string;
  /** Where the local dev server keeps its state. */
  dataDir: string;
  /** Local dev server only. */
  port?: number;
  uiPort?: number;
  headless?: boolean;
}

export interface ProvidedTemporal {
  /** Pass to `Connection.connect` / `NativeConnection.connect`. */
  connectionOptions: { address: string; tls?: boolean; apiKey?: string };
  namespace: string;
  uiUrl?: string;
  /** True when keel connects to a server it did not start. */
  external: boolean;
  /** Stops the dev server keel started; no-op for an external server. */
  stop: () => Promise<void>;
}

/**
 * Reads the standard Temporal environment variables: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS (`true`/`1`/`false`/`0`).
 */
export function temporalConfigFromEnv(
  env: Record<string, string | undefined>,
  defaults: { dataDir: string; namespace?: string },
): TemporalConfig {
  const str = (v: string | undefined) => (v !== undefined && v.trim() !== '' ? v.trim() : undefined);
  const tlsRaw = str(env.TEMPORAL_TLS)?.toLowerCase();
  return {
    address: str(env.TEMPORAL_ADDRESS),
    namespace: str(env.TEMPORAL_NAMESPACE) ?? defaults.namespace ?? 'default',
    apiKey: str(env.TEMPORAL_API_KEY),
    tls: tlsRaw === undefined ? undefined : tlsRaw === 'true' || tlsRaw === '1',
    dataDir: defaults.dataDir,
  };
}

/**
 * Connect to `config.address` when given (starts nothing), otherwise start a persistent local dev
 * server under `config.dataDir`, preferring ports 7233/8233.
 */
export async function provideTemporal(config: TemporalConfig, log: Log = () => {}): Promise<ProvidedTemporal> {
  if (config.address) {
    const tls = config.tls ?? (config.apiKey ? true : undefined);
    log(`using external Temporal server at ${config.address} (namespace ${config.namespace}${tls ? ', TLS' : ''})`);
    return {
      connectionOptions: {
        address: config.address,
        ...(tls !== undefined ? { tls } : {}),
        ...(config.apiKey ? { apiKey: config.apiKey } : {}),
      },
      namespace: config.namespace,
      external: true,
      stop: async () => {},
    };
  }
  const server = await startTemporalDevServer({
    dataDir: config.dataDir,
    namespace: config.namespace,
    port: config.port,
    uiPort: config.uiPort,
    headless: config.headless,
    persistent: true,
    preferDefaultPorts: true,
    log,
  });
  return {
    connectionOptions: { address: server.address },
    namespace: server.namespace,
    uiUrl: server.uiUrl,
    external: false,
    stop: server.stop,
  };
}
