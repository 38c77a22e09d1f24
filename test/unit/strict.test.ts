import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readEnvironment } from '../../src/runtime/environment';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { categoryStringProblem } from '../../src/serving/request-limits';
import { parseInstances } from '../../src/serving/predict';
import { datasetNameSchema } from '../../src/shared/dataset-spec';
import { trainingPipelineInputSchema } from '../../src/shared/pipeline-input';
import { strictObject, suggestKey, unknownKeysMessage, withoutUnknownKeys } from '../../src/shared/strict';
import { describeIssues, safeParseInput } from '../../src/shared/validation';
import { TINY_CONTRACT } from '../fixtures/register-onnx';
import { parseJson } from '../fixtures/json';

describe('unknown keys', () => {
  it('suggests the key meant: same letters in another case, else a near miss by edit distance', () => {
    expect(suggestKey('minRocAUC', ['min', 'max', 'minRocAuc'])).toBe('minRocAuc');
    expect(suggestKey('deplyo', ['deploy', 'rollout', 'model'])).toBe('deploy');
    expect(suggestKey('maxCategorys', ['maxCategories', 'minCount'])).toBe('maxCategories');
    expect(suggestKey('learningRate', ['kind', 'l2', 'maxIterations', 'tolerance', 'maxCategories'])).toBeUndefined();
    expect(suggestKey('ab', ['xy'])).toBeUndefined();
  });

  it('names the suggestion, else the known keys, and every key when there are several', () => {
    expect(unknownKeysMessage(['deplyo'], ['deploy'])).toBe('unknown key (did you mean deploy?)');
    expect(unknownKeysMessage(['colour'], ['model', 'dataset'])).toBe('unknown key (known keys: model, dataset)');
    expect(unknownKeysMessage(['x'], [])).toBe('unknown key (this object takes no keys)');
    expect(unknownKeysMessage(['deplyo', 'colour'], ['deploy'])).toBe('unknown keys: deplyo (did you mean deploy?), colour');
  });

  it('puts the key into the path of the line describeIssues writes, at any depth', () => {
    const schema = strictObject({
      gate: strictObject({ minRocAuc: z.number().optional() }),
      features: z.array(strictObject({ name: z.string() })),
    });
    const input = { gate: { minRocAUC: 0.99 }, features: [{ name: 'a' }, { name: 'b', Name: 'c' }] };
    const result = schema.safeParse(input);
    expect(result.success).toBe(false);
    expect(describeIssues(result.error!.issues, input)).toEqual([
      'gate.minRocAUC: unknown key (did you mean minRocAuc?)',
      'features.1.Name: unknown key (did you mean name?)',
    ]);
  });

  it('keeps refusing after extend, suggesting from the extended keys', () => {
    const schema = strictObject({ a: z.number() }).extend({ deploy: z.boolean() });
    const result = schema.safeParse({ a: 1, deploy: true, deplyo: false });
    expect(result.error?.issues.map((i) => i.message)).toEqual(['unknown key (did you mean deploy?)']);
  });

  it('reads an old input without its unknown keys only when asked to (a history from before strict inputs)', () => {
    const schema = strictObject({ gate: strictObject({ min: z.number().default(0) }) });
    const input = { gate: { min: 1, minRocAUC: 0.9 }, colour: 'blue' };
    expect(safeParseInput(schema, input).success).toBe(false);
    expect(safeParseInput(schema, input, () => true)).toEqual({ success: true, data: { gate: { min: 1 } } });
    let asked = 0;
    // Another problem than unknown keys: refused whatever, and the patch is not asked about.
    expect(safeParseInput(schema, { gate: { min: 'x', extra: 1 } }, () => ++asked > 0).success).toBe(false);
    expect(asked).toBe(0);
    expect(withoutUnknownKeys(input, schema.safeParse(input).error!.issues)).toEqual({ gate: { min: 1 } });
    expect(input).toEqual({ gate: { min: 1, minRocAUC: 0.9 }, colour: 'blue' });
  });

  it('refuses a keel.config.json with a misspelt key, naming its path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-strict-'));
    try {
      const config = parseJson<Record<'pipeline' | 'retrain', Record<string, unknown>>>(
        await import('node:fs/promises').then((fs) => fs.readFile('keel.config.json', 'utf8')),
      );
      config.pipeline.gate = { minRocAUC: 0.99 };
      config.retrain.crn = '@daily';
      await writeFile(join(dir, 'keel.config.json'), JSON.stringify(config));
      await expect(loadProjectConfig(join(dir, 'keel.config.json'))).rejects.toThrow(
        /pipeline\.gate\.minRocAUC: unknown key \(did you mean minRocAuc\?\).*retrain\.crn: unknown key \(did you mean cron\?\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the pipeline input of the README still parses', () => {
    const readme = {
      model: 'flight-delays',
      dataset: {
        name: 'flights-2001-01',
        source: { format: 'parquet', path: 'vega-datasets:flights-3m.parquet' },
        recipe: 'flights',
        period: { from: '2001-01-01', to: '2001-02-01' },
      },
      rules: { minRows: 1000, maxNullFraction: 0.05 },
      features: [{ name: 'hour', kind: 'categorical' }],
      target: 'delayed',
      trainer: { kind: 'logistic-regression', l2: 0.0001, maxIterations: 300, tolerance: 1e-6, maxCategories: 400 },
      split: { seed: 42, train: 0.7, validation: 0.15, test: 0.15 },
      gate: { minRocAuc: 0.6 },
      deploy: true,
    };
    expect(trainingPipelineInputSchema.safeParse(readme).success).toBe(true);
  });
});

describe('limits named in their messages', () => {
  it('tells a 1.5 MB lowercase dataset name the length limit, not that its letters are wrong', () => {
    const name = 'a'.repeat(1_500_000);
    const result = datasetNameSchema.safeParse(name);
    expect(result.error?.issues.map((i) => i.message)).toEqual(['must be at most 63 characters long; it has 1500000']);
    expect(datasetNameSchema.safeParse('Flights').error?.issues.map((i) => i.message)).toEqual([
      'must be lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit',
    ]);
  });

  it('refuses a categorical value over its limit (per feature when overridden), NUL and lone surrogates', () => {
    expect(categoryStringProblem('SFO', 1024)).toBeUndefined();
    expect(categoryStringProblem('😀', 2)).toBeUndefined();
    expect(categoryStringProblem('x'.repeat(1025), 1024)).toMatch(/is 1025 characters long, over the limit of 1024/);
    expect(categoryStringProblem('a\u0000b', 1024)).toMatch(/NUL character \(\\u0000\) at character 1/);
    expect(categoryStringProblem('a\udc00', 1024)).toMatch(/unpaired UTF-16 surrogate \(\\udc00\) at character 1/);
    const contract = TINY_CONTRACT as Parameters<typeof parseInstances>[0];
    const limits = readEnvironment({ KEEL_MAX_CATEGORY_LENGTHS: 'origin=3' }).requestLimits;
    expect(limits.maxCategoryLength).toBe(1024);
    expect(() => parseInstances(contract, [{ distance: 1, origin: 'SFOX' }], limits)).toThrow(
      /instances\[0\]\.origin is 4 characters long, over the limit of 3/,
    );
    expect(parseInstances(contract, [{ distance: 1, origin: 'SFO' }], limits)).toHaveLength(1);
    expect(() => parseInstances(contract, [{ distance: 1, Origin: 'SFO' }])).toThrow(
      /instances\[0\]\.Origin is not a feature of this model \(did you mean origin\?/,
    );
  });
});
