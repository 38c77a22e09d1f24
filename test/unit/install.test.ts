import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../fixtures/json';

const root = join(import.meta.dirname, '..', '..');
interface PackageManifest {
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const readJson = <T>(file: string) => parseJson<T>(readFileSync(join(root, file), 'utf8'));

describe('package-lock.json', () => {
  it('records exactly the dependencies package.json declares', () => {
    const pkg = readJson<PackageManifest>('package.json');
    const locked = readJson<{ packages: Record<string, PackageManifest> }>('package-lock.json').packages[''];
    expect(locked.dependencies).toEqual(pkg.dependencies);
    expect(locked.devDependencies).toEqual(pkg.devDependencies);
    expect(locked.version).toBe(pkg.version);
  });
});

describe('patches/', () => {
  // postgres.js never settles a COPY the server rejects without this fix (porsager/postgres#1173);
  // every install path (npm ci, npm install, the Docker image) must apply it.
  it('is applied to the installed postgres.js, in both its builds', () => {
    for (const build of ['src', 'cjs/src']) {
      expect(readFileSync(join(root, 'node_modules/postgres', build, 'connection.js'), 'utf8')).toContain(
        'final && (final(err), final = null)',
      );
    }
  });
});

describe('.ci/lockfile-drift.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-lock-'));
  const base = {
    '': { dependencies: { a: '^1.0.0' } },
    'node_modules/a': { version: '1.2.0', optionalDependencies: { 'a-linux': '1.2.0', 'a-darwin': '1.2.0' } },
    'node_modules/a-linux': { version: '1.2.0', optional: true, os: ['linux'] },
  };
  const write = (name: string, packages: object) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify({ lockfileVersion: 3, packages }));
    return file;
  };
  const drift = (committed: object, resolved: object) => {
    try {
      return {
        code: 0,
        out: execFileSync('node', [join(root, '.ci/lockfile-drift.mjs'), write('c.json', committed), write('r.json', resolved)], {
          encoding: 'utf8',
        }),
      };
    } catch (error) {
      const e = error as { status: number; stdout: string };
      return { code: e.status, out: e.stdout };
    }
  };

  it('accepts a resolution that only adds optional platform packages', () => {
    const result = drift(base, { ...base, 'node_modules/a-darwin': { version: '1.2.0', optional: true, os: ['darwin'] } });
    expect(result.code).toBe(0);
    expect(result.out).toContain('node_modules/a-darwin@1.2.0');
  });

  it('refuses a changed version, a removed package and an added required one', () => {
    expect(drift(base, { ...base, 'node_modules/a': { ...base['node_modules/a'], version: '1.3.0' } })).toMatchObject({
      code: 1,
      out: expect.stringContaining('changed: node_modules/a (1.2.0 -> 1.3.0)'),
    });
    const { 'node_modules/a-linux': _gone, ...withoutLinux } = base;
    expect(drift(base, withoutLinux)).toMatchObject({ code: 1, out: expect.stringContaining('removed: node_modules/a-linux@1.2.0') });
    expect(drift(base, { ...base, 'node_modules/b': { version: '2.0.0' } })).toMatchObject({
      code: 1,
      out: expect.stringContaining('added, not optional: node_modules/b@2.0.0'),
    });
  });
});
