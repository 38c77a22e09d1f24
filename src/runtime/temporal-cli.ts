import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * Locating (or building) the `temporal` CLI, which embeds the Temporal dev server and web UI.
 *
 * Order: `KEEL_TEMPORAL_CLI` → `temporal` on PATH → cached build → `go install` into the cache →
 * `undefined` (the caller then lets the SDK download the CLI, which needs internet).
 *
 * The decision is a pure function of the environment and a filesystem probe
 * ({@link decideTemporalCli}) so the order is unit-testable without building anything.
 */

/** Newest tag `go install` accepts (later tags carry a `replace` directive in go.mod). */
const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
const TEMPORAL_CLI_ENV = 'KEEL_TEMPORAL_CLI';

export type Env = Record<string, string | undefined>;
export type Log = (msg: string) => void;

/** What the decision needs to know about the filesystem. */
export interface FsProbe {
  /** True if `file` exists, is a regular file and is executable by this process. */
  isExecutable(file: string): boolean;
}

export interface DecideOptions {
  /** Allow `go install` when nothing is found (default true). */
  allowBuild?: boolean;
  /** Home directory used when XDG_CACHE_HOME is unset (default os.homedir()). */
  home?: string;
  platform?: NodeJS.Platform;
}

export type CliDecision =
  | { kind: 'found'; path: string; source: 'env' | 'path' | 'cache' }
  | { kind: 'build'; go: string; cacheDir: string; target: string }
  | { kind: 'none'; reason: string };

export class TemporalCliError extends Error {
  override name = 'TemporalCliError';
}

export const nodeFsProbe: FsProbe = {
  isExecutable(file) {
    try {
      if (!statSync(file).isFile()) return false;
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
};

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v : undefined;
}

/**
 * `${XDG_CACHE_HOME:-~/.cache}/keel/bin`. Takes the whole environment: it also runs in test setups
 * before keel's environment is read.
 */
export function temporalCacheDir(env: Env = process.env, home: string = homedir()): string {
  const base = nonEmpty(env.XDG_CACHE_HOME) ?? path.join(home, '.cache');
  return path.join(base, 'keel', 'bin');
}

function exeName(name: string, platform: NodeJS.Platform): string {
  return platform === 'win32' ? `${name}.exe` : name;
}

/** First executable `name` on `env.PATH`, like `command -v`. */
export function findOnPath(name: string, env: Env, probe: FsProbe, platform: NodeJS.Platform = process.platform): string | undefined {
  const pathVar = env.PATH ?? env.Path ?? '';
  const delimiter = platform === 'win32' ? ';' : ':';
  for (const dir of pathVar.split(delimiter)) {
    if (dir === '') continue; // an empty entry means cwd; never pick up binaries from there
    const candidate = path.join(dir, exeName(name, platform));
    if (probe.isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** `go` on PATH, else the usual install locations (`$GOROOT/bin`, `/usr/local/go/bin`). */
export function findGo(env: Env, probe: FsProbe, platform: NodeJS.Platform = process.platform): string | undefined {
  const onPath = findOnPath('go', env, probe, platform);
  if (onPath) return onPath;
  const extra = [nonEmpty(env.GOROOT), platform === 'win32' ? undefined : '/usr/local/go'];
  for (const root of extra) {
    if (!root) continue;
    const candidate = path.join(root, 'bin', exeName('go', platform));
    if (probe.isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Pure locate-order decision. Throws {@link TemporalCliError} when `KEEL_TEMPORAL_CLI` is set but
 * does not name an executable file (a misconfiguration must not silently fall through).
 */
export function decideTemporalCli(env: Env, probe: FsProbe, opts: DecideOptions = {}): CliDecision {
  const platform = opts.platform ?? process.platform;
  const explicit = nonEmpty(env[TEMPORAL_CLI_ENV]);
  if (explicit !== undefined) {
    if (!probe.isExecutable(explicit)) {
      throw new TemporalCliError(`${TEMPORAL_CLI_ENV} is set to "${explicit}", which is not an executable file`);
    }
    return { kind: 'found', path: explicit, source: 'env' };
  }

  const onPath = findOnPath('temporal', env, probe, platform);
  if (onPath) return { kind: 'found', path: onPath, source: 'path' };

  const cacheDir = temporalCacheDir(env, opts.home ?? homedir());
  const target = path.join(cacheDir, exeName('temporal', platform));
  if (probe.isExecutable(target)) return { kind: 'found', path: target, source: 'cache' };

  if (opts.allowBuild === false) {
    return { kind: 'none', reason: `no temporal CLI found (${TEMPORAL_CLI_ENV}, PATH, ${target}) and building is disabled` };
  }
  const go = findGo(env, probe, platform);
  if (go) return { kind: 'build', go, cacheDir, target };
  return { kind: 'none', reason: `no temporal CLI found (${TEMPORAL_CLI_ENV}, PATH, ${target}) and no Go toolchain to build it` };
}

let buildNoticeLogged = false;

/**
 * `go install <module>@<version>` into `cacheDir`. Builds into a private temporary GOBIN inside the
 * cache dir and renames the result into place, so concurrent builds never expose a half-written
 * binary.
 */
export async function buildTemporalCli(
  go: string,
  cacheDir: string,
  opts: { log?: Log; env?: Env; timeoutMs?: number } = {},
): Promise<string> {
  const log = opts.log ?? (() => {});
  // `go install` needs the whole environment (PATH, HOME, GOPATH, proxies).
  const env = { ...process.env, ...opts.env };
  const target = path.join(cacheDir, exeName('temporal', process.platform));
  const spec = `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`;
  if (!buildNoticeLogged) {
    buildNoticeLogged = true;
    log(`building the temporal CLI with "${go} install ${spec}" into ${cacheDir}; a cold build takes several minutes (once)`);
  }
  mkdirSync(cacheDir, { recursive: true });
  const gobin = mkdtempSync(path.join(cacheDir, '.build-'));
  const started = Date.now();
  const output: string[] = [];
  const keep = 200;
  try {
    const code = await new Promise<number | string>((resolve, reject) => {
      const child = spawn(go, ['install', spec], {
        env: { ...env, GOBIN: gobin },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const collect = (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line.trim() === '') continue;
          output.push(line);
          if (output.length > keep) output.shift();
        }
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      const progress = setInterval(() => {
        const last = output.at(-1);
        log(`still building the temporal CLI (${Math.round((Date.now() - started) / 1000)} s)${last ? `: ${last}` : ''}`);
      }, 30_000);
      const timeout = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs ?? 30 * 60_000);
      child.on('error', (err) => {
        clearInterval(progress);
        clearTimeout(timeout);
        reject(err);
      });
      child.on('close', (c, signal) => {
        clearInterval(progress);
        clearTimeout(timeout);
        resolve(c ?? signal ?? 'unknown');
      });
    });
    const built = path.join(gobin, exeName('temporal', process.platform));
    if (code !== 0 || !nodeFsProbe.isExecutable(built)) {
      throw new TemporalCliError(
        `"${go} install ${spec}" failed (exit ${code}). If this Go version cannot build it, try ` +
          `GOTOOLCHAIN=go1.25.0, or set ${TEMPORAL_CLI_ENV} to an existing temporal binary. Last output:\n` +
          output.slice(-40).join('\n'),
      );
    }
    renameSync(built, target);
    log(`built ${target} in ${Math.round((Date.now() - started) / 1000)} s`);
    return target;
  } catch (err) {
    if (err instanceof TemporalCliError) throw err;
    throw new TemporalCliError(`could not run "${go} install ${spec}": ${(err as Error).message}`);
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
}

/**
 * Path of a usable `temporal` CLI, building it with Go if needed; `undefined` when none can be had
 * locally (the caller then falls back to the SDK's download).
 */
export async function locateTemporalCli(opts: { allowBuild?: boolean; log?: Log } = {}): Promise<string | undefined> {
  const log = opts.log ?? (() => {});
  // The whole environment: the lookup reads KEEL_TEMPORAL_CLI, PATH and the cache location, as `command -v` would.
  const decision = decideTemporalCli(process.env, nodeFsProbe, { allowBuild: opts.allowBuild });
  switch (decision.kind) {
    case 'found':
      return decision.path;
    case 'build':
      return buildTemporalCli(decision.go, decision.cacheDir, { log });
    case 'none':
      log(decision.reason);
      return undefined;
  }
}
