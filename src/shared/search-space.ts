import { z } from 'zod';
import { strictObject } from './strict';

/** The space a hyperparameter search draws from: pure types and schemas, shared by the planner (tuning.ts) and TPE. */

const rangeSchema = strictObject({
  min: z.number().describe('Lowest value drawn.'),
  max: z.number().describe('Highest value drawn.'),
  scale: z.enum(['linear', 'log']).default('linear').describe('Drawn uniformly (`linear`) or log-uniformly (`log`, min > 0).'),
  integer: z.boolean().default(false).describe('Rounded to a whole number.'),
})
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max' })
  .refine((r) => r.scale === 'linear' || r.min > 0, { message: 'a log scale needs min > 0' });

/** A parameter's candidates: an explicit list, or a range (random, successive halving and tpe). */
export const searchDimensionSchema = z
  .union([z.array(z.number()).min(1), rangeSchema])
  .describe("A parameter's candidates: a list of values, or a range `{ min, max, scale, integer }` (random, successive halving and tpe).");
export type SearchDimension = z.infer<typeof searchDimensionSchema>;

/** One trial's hyperparameters, by name. */
export type ParamSet = Record<string, number>;
