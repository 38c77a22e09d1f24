import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { datasetSpecSchema } from '../shared/dataset-spec';
import { InvalidInputError } from '../shared/errors';
import { trainingPipelineInputSchema, type TrainingPipelineInput } from '../shared/pipeline-input';
import { jsonSchemaReference } from '../shared/project-config';
import { parseOrThrow } from '../shared/validation';
import { loadDataConfig } from './data-command';
import { strictObject } from '../shared/strict';

/**
 * Reads a trainingPipeline input from a JSON file. `dataset` may name a data config file instead
 * of holding the dataset (`"dataset": "dataset.json"`, relative to this file): its `dataset` and,
 * unless this file has its own, its `rules` are used, so several models can share one dataset
 * definition with `keel data ingest`. Relative source paths are resolved from the file that holds
 * them, so the workers get absolute paths whatever their working directory.
 */
/**
 * The file's shape, for its JSON Schema (schema/pipeline-input.schema.json): a pipeline input
 * whose `dataset` may also be the path of a data config file. Loading parses with the pipeline
 * input schema itself once the dataset is read.
 */
export const pipelineInputFileSchema = strictObject({
  $schema: jsonSchemaReference,
  ...trainingPipelineInputSchema.shape,
  dataset: z
    .union([z.string().min(1).describe('a data config file (`{ "dataset", "rules" }`), relative to this file'), datasetSpecSchema])
    .describe(trainingPipelineInputSchema.shape.dataset.description ?? 'the dataset'),
});

export async function loadPipelineInputFile(path: string): Promise<TrainingPipelineInput> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidInputError(`cannot read pipeline input ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new InvalidInputError(`pipeline input ${path} must hold a JSON object`);
  const here = dirname(resolve(path));
  const { $schema: _editorSchema, ...fields } = json;
  const data = typeof fields.dataset === 'string' ? await loadDataConfig(resolve(here, fields.dataset)) : undefined;
  const input = data ? { ...fields, dataset: data.dataset, rules: fields.rules ?? data.rules } : fields;
  return parseOrThrow(trainingPipelineInputSchema, input, `pipeline input ${path}`, (message) => new InvalidInputError(message));
}
