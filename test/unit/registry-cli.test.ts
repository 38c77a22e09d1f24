import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/db/database';
import { modelsCommand, parseTime } from '../../src/cli/models-command';
import { readEnvironment } from '../../src/runtime/environment';
import { tinyOnnx } from './registry-fixtures';

/** One line of `keel models history --json`. */
interface AliasMove {
  fromVersion: number | null;
  toVersion: number;
  action: string;
  actor: string;
  reason: string;
  at: string;
}

const run = promisify(execFile);

/**
 * `keel models ...` on the embedded PGlite database of a data directory: the flow in-process,
 * through the same command objects main.ts mounts, and through the real entry point in a child
 * process where another process matters.
 */
describe('keel models (CLI)', () => {
  let dir: string;
  let files: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-cli-'));
    files = { v1: join(dir, 'v1.onnx'), v2: join(dir, 'v2.onnx'), text: join(dir, 'notes.onnx') };
    await writeFile(files.v1, tinyOnnx(1));
    await writeFile(files.v2, tinyOnnx(2));
    await writeFile(files.text, 'these are my notes, not a model');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const env = () => ({
    ...process.env,
    KEEL_DATA_DIR: join(dir, 'data'),
    DATABASE_URL: '',
    KEEL_ARTIFACT_STORE: '',
    KEEL_ACTOR: 'user:cli-test',
    LOG_LEVEL: 'silent',
  });

  /** The real `keel` binary entry (src/cli/main.ts) in a child process. */
  async function keelProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'models', ...args], { env: env(), cwd: process.cwd() }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  }

  /**
   * The same command in this process (a process start per command would cost seconds each): what
   * it prints on stdout, and the error main.ts would print on stderr with exit code 1.
   */
  async function keel<Json = unknown>(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; json: Json }> {
    const saved = { ...process.env };
    Object.assign(process.env, env());
    let stdout = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
    const result = { code: 0, stdout: '', stderr: '' };
    try {
      await modelsCommand(readEnvironment()).exitOverride().parseAsync(args, { from: 'user' });
      if (process.exitCode) result.code = Number(process.exitCode);
    } catch (error) {
      result.code = 1;
      result.stderr = `keel: ${(error as Error).message}\n`;
    } finally {
      write.mockRestore();
      process.exitCode = undefined;
      process.env = saved;
    }
    result.stdout = stdout;
    let json: unknown;
    try {
      json = JSON.parse(result.stdout);
    } catch {
      json = undefined;
    }
    return { ...result, json: json as Json };
  }

  it('imports, aliases, rolls back, and answers history, at, show and diff as JSON', async () => {
    const missing = await keel('list');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no keel database in .* run `npm start` first, or set DATABASE_URL/);

    const features = ['--features', 'distance:float32,origin:string'];
    const first = await keel('import', 'ext', files.v1, ...features, '--tag', 'framework=sklearn', '--json');
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ model: 'ext', version: 1, created: true, sample: { rows: 5, source: 'synthetic' } });
    expect((await keel('import', 'ext', files.v2, ...features, '--json')).json).toMatchObject({ version: 2 });

    const notOnnx = await keel('import', 'ext', files.text, ...features, '--json');
    expect(notOnnx.code).toBe(1);
    expect(notOnnx.json).toMatchObject({
      error: '"notes.onnx" is not an ONNX model: it is plain text',
      type: 'RegistryError',
      cause: [{ kind: 'RegistryError' }],
    });
    const traversal = await keel('import', '../ext', files.v1, ...features);
    expect(traversal.code).toBe(1);
    expect(traversal.stderr).toMatch(/invalid model name "\.\.\/ext": it must not contain path separators/);

    expect((await keel('alias', 'ext@1', 'production', '--reason', 'first')).stdout).toMatch(/ext@production: \(none\) -> v1/);
    expect((await keel('alias', 'ext@2', 'production', '--reason', 'better')).stdout).toMatch(/v1 -> v2/);
    const rollback = await keel('rollback', 'ext', '--reason', 'v2 misbehaves', '--json');
    expect(rollback.json).toMatchObject({ model: 'ext', alias: 'production', fromVersion: 2, toVersion: 1 });

    const history = await keel<AliasMove[]>('history', 'ext', '--json');
    expect(history.json.map((m) => [m.fromVersion, m.toVersion, m.action, m.actor, m.reason])).toEqual([
      [null, 1, 'set', 'user:cli-test', 'first'],
      [1, 2, 'set', 'user:cli-test', 'better'],
      [2, 1, 'rollback', 'user:cli-test', 'v2 misbehaves'],
    ]);
    const whileV2 = history.json[1].at;
    const at = await keel('at', 'ext', whileV2, '--json');
    expect(at.json).toMatchObject({
      model: 'ext',
      alias: 'production',
      version: { model: 'ext', version: 2 },
      since: { reason: 'better' },
    });

    const show = await keel('show', 'ext@production', '--json');
    expect(show.json).toMatchObject({
      model: 'ext',
      version: 1,
      aliases: ['production'],
      tags: { framework: 'sklearn' },
      source: 'import',
      artifact: { check: 'ok' },
    });
    const diff = await keel('diff', 'ext@1', '@2', '--json');
    expect(diff.json).toMatchObject({
      a: 'ext@1',
      b: 'ext@2',
      artifact: { same: false },
      params: [{ path: 'imported.file', a: 'v1.onnx', b: 'v2.onnx' }],
    });

    const refused = await keel<{ error: string }>('delete', 'ext@1', '--reason', 'x', '--json');
    expect(refused.code).toBe(1);
    expect(refused.json.error).toMatch(/ext@1 is the target of "production"/);
  });

  it('refuses to open the embedded database while another process holds it, saying so', async () => {
    const holder = await openDatabase({ dataDir: join(dir, 'data') });
    try {
      const busy = await keelProcess('list');
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(`is in use by pid ${process.pid}`);
      expect(busy.stderr).toMatch(/PGlite is single-process: stop that process first, or run keel against PostgreSQL \(DATABASE_URL\)/);
    } finally {
      await holder.close();
    }
  });

  it('parses times: ISO 8601, now, relative', () => {
    const now = new Date('2026-01-31T12:00:00Z');
    expect(parseTime('2026-01-30T08:00:00Z', now).toISOString()).toBe('2026-01-30T08:00:00.000Z');
    expect(parseTime('now', now)).toBe(now);
    expect(parseTime('-2h', now).toISOString()).toBe('2026-01-31T10:00:00.000Z');
    expect(parseTime('-7d', now).toISOString()).toBe('2026-01-24T12:00:00.000Z');
    expect(() => parseTime('yesterday', now)).toThrow(/invalid time "yesterday"/);
  });
});
