import { z } from 'zod';
import { monitorInputSchema, trainingPipelineInputSchema } from './pipeline-input';

/** A Temporal interval: a whole number of seconds, minutes, hours or days, e.g. `5m`. */
const intervalSchema = z.string().regex(/^\d+[smhd]$/, 'must be a number followed by s, m, h or d, e.g. "5m"');

/**
 * A five-field cron spec (minute hour day-of-month month day-of-week) — checked here for shape so
 * a typo is reported with the config's field name before Temporal sees it.
 */
const cronSchema = z
  .string()
  .regex(/^\s*(\S+\s+){4}\S+\s*$/, 'must be a cron spec with five fields, e.g. "0 3 * * 1"');

/** keel.config.json: the model's pipeline, its monitoring and its retraining schedule. */
export const projectConfigSchema = z.object({
  pipeline: trainingPipelineInputSchema,
  monitor: monitorInputSchema.omit({ model: true }).extend({ every: intervalSchema }),
  retrain: z.object({ cron: cronSchema }),
  server: z.object({ port: z.number().int().min(0).max(65535) }),
});
export type ProjectConfig = z.infer<typeof projectConfigSchema>;
