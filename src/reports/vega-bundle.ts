import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';

/**
 * The browser builds of Vega, Vega-Lite and vega-embed, read from node_modules to be inlined in a
 * report: a report must open with no network, so nothing may come from a CDN. Read once per
 * process (about 840 kB together).
 */
const libraries = ['vega', 'vega-lite', 'vega-embed'] as const;

let cached: Promise<string[]> | undefined;

/** The three builds, in load order (vega-embed needs vega and vega-lite). */
export function vegaBuilds(): Promise<string[]> {
  cached ??= Promise.all(libraries.map((name) => readFile(join(packageRoot(name), 'build', `${name}.min.js`), 'utf8')));
  return cached;
}

/** The package's directory: its entry point resolved, then up to the package.json that names it. */
function packageRoot(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package directory of ${name}`);
    dir = parent;
  }
}
