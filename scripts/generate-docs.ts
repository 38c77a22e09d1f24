import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { generatedFiles } from '../src/reference/configuration-reference';

/**
 * `npm run docs:generate`: regenerates schema/*.schema.json and the generated tables of
 * docs/configuration.md from the zod schemas. `--check` writes nothing and fails when a file is
 * out of date.
 */
const root = resolve(import.meta.dirname, '..');
const check = process.argv.includes('--check');

const stale: string[] = [];
for (const file of await generatedFiles(root)) {
  const target = join(root, file.path);
  const current = await readFile(target, 'utf8').catch(() => undefined);
  if (current === file.content) continue;
  stale.push(file.path);
  if (!check) {
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content);
  }
}
if (check && stale.length > 0) {
  console.error(`out of date with the zod schemas: ${stale.join(', ')}; run \`npm run docs:generate\``);
  process.exit(1);
}
console.log(stale.length ? `${check ? 'stale' : 'wrote'}: ${stale.join(', ')}` : 'up to date');
