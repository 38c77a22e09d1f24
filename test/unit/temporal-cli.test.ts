import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  TemporalCliError,
  buildTemporalCli,
  decideTemporalCli,
  findGo,
  nodeFsProbe,
  temporalCacheDir,
} from '../../src/runtime/temporal-cli';
import { devServerArgs, provideTemporal, temporalConfigFromEnv } from '../../src/runtime/temporal-dev-server';

let root: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'keel-cli-test-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Writes a small shell script (executable unless `mode` says otherwise). */
function script(rel: string, body = 'echo ok', mode = 0o755): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, mode);
  return file;
}

const home = () => path.join(root, 'home');
const decide = (env: Record<string, string | undefined>, allowBuild?: boolean) =>
  decideTemporalCli(env, nodeFsProbe, { home: home(), platform: 'linux', allowBuild });

describe('decideTemporalCli', () => {
  it('prefers KEEL_TEMPORAL_CLI over PATH and the cache', () => {
    const explicit = script('explicit/temporal');
    script('bin/temporal');
    script('home/.cache/keel/bin/temporal');
    expect(decide({ KEEL_TEMPORAL_CLI: explicit, PATH: path.join(root, 'bin') })).toEqual({
      kind: 'found',
      path: explicit,
      source: 'env',
    });
  });

  it('fails, naming the path, when KEEL_TEMPORAL_CLI is not executable', () => {
    const notExec = script('explicit/temporal', 'echo', 0o644);
    script('bin/temporal');
    expect(() => decide({ KEEL_TEMPORAL_CLI: notExec, PATH: path.join(root, 'bin') })).toThrow(TemporalCliError);
    expect(() => decide({ KEEL_TEMPORAL_CLI: notExec })).toThrow(notExec);
    const missing = path.join(root, 'nope', 'temporal');
    expect(() => decide({ KEEL_TEMPORAL_CLI: missing })).toThrow(missing);
    // a directory is not an executable file either
    expect(() => decide({ KEEL_TEMPORAL_CLI: root })).toThrow(root);
  });

  it('treats an empty KEEL_TEMPORAL_CLI as unset', () => {
    const onPath = script('bin/temporal');
    expect(decide({ KEEL_TEMPORAL_CLI: '', PATH: path.join(root, 'bin') })).toMatchObject({ path: onPath, source: 'path' });
  });

  it('takes the first executable temporal on PATH, skipping non-executable ones', () => {
    script('a/temporal', 'echo', 0o644);
    const b = script('b/temporal');
    script('c/temporal');
    script('home/.cache/keel/bin/temporal');
    const PATH = ['', path.join(root, 'missing'), path.join(root, 'a'), path.join(root, 'b'), path.join(root, 'c')].join(':');
    expect(decide({ PATH })).toEqual({ kind: 'found', path: b, source: 'path' });
  });

  it('falls back to the cached build under ~/.cache or $XDG_CACHE_HOME', () => {
    const cached = script('home/.cache/keel/bin/temporal');
    expect(decide({ PATH: path.join(root, 'empty') })).toEqual({ kind: 'found', path: cached, source: 'cache' });

    const xdg = script('xdg/keel/bin/temporal');
    expect(decide({ PATH: '', XDG_CACHE_HOME: path.join(root, 'xdg') })).toEqual({ kind: 'found', path: xdg, source: 'cache' });
    expect(temporalCacheDir({ XDG_CACHE_HOME: '' }, '/h')).toBe('/h/.cache/keel/bin');
  });

  it('decides to build with go when nothing is found and go is available', () => {
    const go = script('gobin/go');
    expect(decide({ PATH: path.join(root, 'gobin') })).toEqual({
      kind: 'build',
      go,
      cacheDir: path.join(home(), '.cache', 'keel', 'bin'),
      target: path.join(home(), '.cache', 'keel', 'bin', 'temporal'),
    });
  });

  it('finds go under GOROOT when it is not on PATH', () => {
    const go = script('goroot/bin/go');
    expect(findGo({ PATH: '', GOROOT: path.join(root, 'goroot') }, nodeFsProbe, 'linux')).toBe(go);
  });

  it('returns none when building is disallowed or impossible', () => {
    script('gobin/go');
    expect(decide({ PATH: path.join(root, 'gobin') }, false)).toMatchObject({ kind: 'none' });
    // no go anywhere: a probe that only knows about files under root
    const probe = { isExecutable: (f: string) => f.startsWith(root) && nodeFsProbe.isExecutable(f) };
    const d = decideTemporalCli({ PATH: path.join(root, 'empty') }, probe, { home: home(), platform: 'linux' });
    expect(d).toMatchObject({ kind: 'none' });
    if (d.kind === 'none') expect(d.reason).toMatch(/no Go toolchain/);
  });
});

describe('buildTemporalCli (with a fake go)', () => {
  it('installs into the cache dir via GOBIN', async () => {
    const go = script(
      'fake/go',
      'printf "#!/bin/sh\\necho built\\n" > "$GOBIN/temporal"; chmod +x "$GOBIN/temporal"; echo "go: downloading stuff" >&2',
    );
    const cacheDir = path.join(root, 'cache', 'keel', 'bin');
    const logs: string[] = [];
    const built = await buildTemporalCli(go, cacheDir, { log: (m) => logs.push(m) });
    expect(built).toBe(path.join(cacheDir, 'temporal'));
    expect(nodeFsProbe.isExecutable(built)).toBe(true);
    expect(logs.join('\n')).toMatch(/built/);
  });

  it('fails with the tail of the output when go install fails', async () => {
    const go = script('fake/go', 'echo "go: module lookup disabled" >&2; exit 1');
    await expect(buildTemporalCli(go, path.join(root, 'cache'))).rejects.toThrow(/exit 1[\s\S]*module lookup disabled/);
  });
});

describe('dev server helpers', () => {
  it('builds start-dev arguments', () => {
    expect(devServerArgs({ port: 1, uiPort: 2, namespace: 'ns', dbFilename: '/d/temporal.sqlite' })).toEqual([
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      '1',
      '--ui-port',
      '2',
      '--namespace',
      'ns',
      '--db-filename',
      '/d/temporal.sqlite',
      '--log-level',
      'warn',
    ]);
    const headless = devServerArgs({ port: 1, uiPort: 2, namespace: 'default', headless: true });
    expect(headless).toContain('--headless');
    expect(headless).not.toContain('--ui-port');
    expect(headless).not.toContain('--db-filename');
  });

  it('connects to an external server without starting one', async () => {
    const cloud = await provideTemporal({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', apiKey: 'k', dataDir: root });
    expect(cloud).toMatchObject({
      connectionOptions: { address: 'ns.acct.tmprl.cloud:7233', tls: true, apiKey: 'k' },
      namespace: 'ns.acct',
      external: true,
    });
    await cloud.stop();
    const plain = await provideTemporal({ address: 'temporal:7233', namespace: 'default', dataDir: root });
    expect(plain.connectionOptions).toEqual({ address: 'temporal:7233' });
  });

  it('reads the standard TEMPORAL_* variables', () => {
    expect(temporalConfigFromEnv({ TEMPORAL_ADDRESS: 'h:1', TEMPORAL_TLS: 'false', TEMPORAL_NAMESPACE: 'x' }, { dataDir: '/d' })).toEqual({
      address: 'h:1',
      namespace: 'x',
      apiKey: undefined,
      tls: false,
      dataDir: '/d',
    });
    expect(temporalConfigFromEnv({ TEMPORAL_ADDRESS: ' ' }, { dataDir: '/d' }).address).toBeUndefined();
  });
});
