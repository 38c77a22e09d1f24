import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { clientScript } from './html/client-script';
import { styleSheet } from './html/style';

/**
 * The files a page loads, all from this machine (no CDN: pages work offline): Vega, Vega-Lite and
 * vega-embed from their packages' builds in node_modules, and keel's own script and style sheet.
 * A self-contained report inlines the same texts.
 */
export interface Asset {
  contentType: string;
  body: string;
}

const require = createRequire(import.meta.url);

/** A file of an installed package, found from the package's entry point (its `exports` hide the builds). */
function packageFile(name: string, file: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    const candidate = join(dir, file);
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${file} of the package ${name} (is it installed? npm ci)`);
    dir = parent;
  }
}

/** The chart libraries in load order: vega-embed needs the globals `vega` and `vegaLite`. */
export function chartLibraries(): { name: string; text: string }[] {
  return [
    ['vega.min.js', 'vega', 'build/vega.min.js'],
    ['vega-lite.min.js', 'vega-lite', 'build/vega-lite.min.js'],
    ['vega-embed.min.js', 'vega-embed', 'build/vega-embed.min.js'],
  ].map(([asset, pkg, file]) => ({
    name: asset,
    // The source-map comment would make a browser's devtools ask for a file that is not served.
    text: readFileSync(packageFile(pkg, file), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'),
  }));
}

/** Every asset by its file name under /assets/. */
export function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const { name, text } of chartLibraries()) assets.set(name, { contentType: 'text/javascript; charset=utf-8', body: text });
  assets.set('keel-ui.js', { contentType: 'text/javascript; charset=utf-8', body: clientScript });
  assets.set('keel-ui.css', { contentType: 'text/css; charset=utf-8', body: styleSheet });
  return assets;
}
