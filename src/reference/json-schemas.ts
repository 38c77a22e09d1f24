import { z } from 'zod';
import { batchScoreInputSchema } from '../shared/batch-score';
import { dataConfigSchema } from '../cli/data-command';
import { pipelineInputFileSchema } from '../cli/pipeline-input-file';
import { projectConfigSchema } from '../shared/project-config';

/**
 * The JSON Schemas keel ships under schema/, generated from the zod schemas that validate the same
 * files, so an editor that follows a file's `"$schema"` checks and completes it as keel will.
 * `io: "input"` describes what a user writes: a field with a default is optional.
 */
export interface ShippedSchema {
  /** Where it is committed, relative to the repository. */
  path: string;
  title: string;
  schema: z.ZodType;
}

export const shippedSchemas: readonly ShippedSchema[] = [
  { path: 'schema/keel.config.schema.json', title: 'keel.config.json', schema: projectConfigSchema },
  { path: 'schema/pipeline-input.schema.json', title: 'keel pipeline input (keel pipeline run --input)', schema: pipelineInputFileSchema },
  { path: 'schema/data-config.schema.json', title: 'keel data config (keel data ingest)', schema: dataConfigSchema },
  { path: 'schema/batch-score-input.schema.json', title: 'batchScore workflow input (keel batch score)', schema: batchScoreInputSchema },
];

/** A JSON Schema object as zod emits it. */
export type JsonSchema = Record<string, unknown>;

export function toInputJsonSchema(schema: z.ZodType, title?: string): JsonSchema {
  // Refinements and transforms have no JSON Schema form: they stay zod's to check ("any").
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return title ? { $schema: json.$schema, title, ...json } : json;
}

/** The text of a shipped schema file: stable key order, two-space indentation, a final newline. */
export function jsonSchemaFileText(shipped: ShippedSchema): string {
  return `${JSON.stringify(toInputJsonSchema(shipped.schema, shipped.title), null, 2)}\n`;
}
