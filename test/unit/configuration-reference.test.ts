import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generatedFiles } from '../../src/reference/configuration-reference';
import { fieldRows, markdownTable } from '../../src/reference/field-table';
import { fillGeneratedBlocks } from '../../src/reference/generated-blocks';
import { jsonSchemaFileText, shippedSchemas, toInputJsonSchema } from '../../src/reference/json-schemas';
import { environmentSchema } from '../../src/runtime/environment';

const root = join(import.meta.dirname, '../..');

describe('the configuration reference and the JSON Schemas', () => {
  it('are what the zod schemas generate today', async () => {
    const stale: string[] = [];
    for (const file of await generatedFiles(root)) {
      const committed = await readFile(join(root, file.path), 'utf8').catch(() => '(missing)');
      if (committed !== file.content) stale.push(file.path);
    }
    expect(stale, `out of date with the zod schemas: ${stale.join(', ')}. Run \`npm run docs:generate\` and commit the result.`).toEqual(
      [],
    );
  });
});

describe('the configuration reference', () => {
  it('describes every field of the config files and the environment', () => {
    const undocumented = [...shippedSchemas.map((shipped) => shipped.schema), environmentSchema].flatMap((schema) =>
      fieldRows(toInputJsonSchema(schema))
        .filter((row) => !row.meaning)
        .map((row) => row.path),
    );
    expect(undocumented, 'give these fields a .describe() in their zod schema, then run `npm run docs:generate`').toEqual([]);
  });
});

describe('the shipped JSON Schemas', () => {
  // Formats (uri, date-time) are zod's to check; the schemas' structure is what editors rely on.
  const ajv = new Ajv2020({ allErrors: true, validateFormats: false });
  const validators = new Map(
    shippedSchemas.map((shipped) => [resolve(root, shipped.path), ajv.compile(JSON.parse(jsonSchemaFileText(shipped)))]),
  );

  /** Every JSON file of the repository that names a shipped schema in "$schema". */
  function filesNamingASchema(): { file: string; schema: string }[] {
    const candidates = [
      'keel.config.json',
      ...readdirSync(join(root, 'examples'), { recursive: true, encoding: 'utf8' }).map((f) => join('examples', f)),
    ];
    return candidates
      .filter((file) => file.endsWith('.json'))
      .flatMap((file) => {
        const text = readJson(join(root, file));
        const ref = (text as { $schema?: unknown }).$schema;
        return typeof ref === 'string' ? [{ file, schema: resolve(dirname(join(root, file)), ref) }] : [];
      });
  }

  it('accept the config files of this repository, which name them', () => {
    const files = filesNamingASchema();
    expect(files.map((f) => f.file).sort()).toEqual([
      'examples/home-prices/dataset.json',
      'examples/home-prices/pipeline.json',
      'keel.config.json',
    ]);
    for (const { file, schema } of files) {
      const validate = validators.get(schema);
      expect(validate, `${file} names ${schema}, which is not a shipped schema`).toBeDefined();
      expect(validate!(readJson(join(root, file))) ? [] : validate!.errors, file).toEqual([]);
    }
  });

  it('refuse a wrong type and a missing required field, naming where', () => {
    const config = readJson(join(root, 'keel.config.json')) as { pipeline: Record<string, unknown> };
    const validate = validators.get(resolve(root, 'schema/keel.config.schema.json'))!;
    const { target: _target, ...noTarget } = config.pipeline;
    expect(validate({ ...config, pipeline: { ...noTarget, split: { train: 'most' } } })).toBe(false);
    const problems = validate.errors!.map((e) => `${e.instancePath} ${e.message}`);
    expect(problems).toContain("/pipeline must have required property 'target'");
    expect(problems).toContain('/pipeline/split/train must be number');
  });
});

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

describe('field tables', () => {
  const schema = z.object({
    name: z.string().describe('what it is called'),
    retries: z.number().int().min(0).max(10).default(3).describe('attempts after the first'),
    trainer: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('linear'), l2: z.number().min(0).default(0), shared: z.boolean().optional() }).describe('least squares'),
        z.object({ kind: z.literal('trees'), depth: z.number().int().gt(0), shared: z.boolean().optional() }).describe('boosted trees'),
      ])
      .describe('how to learn'),
    limits: z.record(z.string(), z.object({ max: z.number().describe('the ceiling') })).optional(),
  });

  it('list every field at every depth with its type, default or requiredness and description', () => {
    const rows = fieldRows(toInputJsonSchema(schema));
    const line = (path: string) =>
      rows
        .filter((row) => row.path === path)
        .map((row) => [row.type, row.presence, row.meaning, row.variants.map((v) => `${v.key}=${v.values.join('|')}`).join(',')]);
    expect(line('name')).toEqual([['string', 'required', 'what it is called', '']]);
    expect(line('retries')).toEqual([['integer 0–10', 'default `3`', 'attempts after the first', '']]);
    expect(line('trainer.kind')).toEqual([['"linear" | "trees"', 'required', '`"linear"`: least squares; `"trees"`: boosted trees', '']]);
    expect(line('trainer.l2')).toEqual([['number ≥ 0', 'default `0`', '', 'kind=linear']]);
    expect(line('trainer.depth')).toEqual([['integer > 0', 'required', '', 'kind=trees']]);
    // A field every member has is one row, without a variant.
    expect(line('trainer.shared')).toEqual([['boolean', 'optional', '', '']]);
    expect(line('limits.<key>.max')).toEqual([['number', 'required', 'the ceiling', '']]);
  });

  it('render as Markdown with pipes escaped', () => {
    const table = markdownTable(fieldRows(toInputJsonSchema(schema)));
    expect(table).toContain('| `trainer.kind` | "linear" \\| "trees" | required |');
    expect(table).toContain('| `trainer.l2` | number ≥ 0 | default `0` | (`kind: "linear"`) |');
  });
});

describe('generated blocks', () => {
  it('replace only what lies between their markers', () => {
    const doc = 'Prose before.\n\n<!-- generated:table -->\nold rows\n<!-- /generated -->\n\nProse after.\n';
    expect(fillGeneratedBlocks(doc, { table: () => 'new rows\n' }, 'doc.md')).toBe(
      'Prose before.\n\n<!-- generated:table -->\nnew rows\n<!-- /generated -->\n\nProse after.\n',
    );
  });

  it('refuse a block nobody generates, and a generator without its block', () => {
    expect(() => fillGeneratedBlocks('<!-- generated:nope -->\n<!-- /generated -->', {}, 'doc.md')).toThrow(
      'doc.md: unknown generated block "nope"',
    );
    expect(() => fillGeneratedBlocks('no markers', { table: () => '' }, 'doc.md')).toThrow('doc.md: no <!-- generated:table -->');
  });
});
