import { z } from 'zod';
import { strictObject } from './strict';

/**
 * The input of `setRoute` (src/serving/routes.ts): pure zod, no I/O, so a workflow or an activity
 * can validate a route before it reaches the database.
 *
 * - `baseline`: the model's current `production` version (checked when the route is written).
 * - `candidate`: the version that shares traffic with it.
 * - `candidateWeight`: fraction of requests, 0..1. Without `shadow`, the candidate answers that
 *   fraction; with `shadow`, the baseline answers everything and the candidate scores a mirrored
 *   copy of that fraction, which is logged (`prediction_log.shadow`) and never returned.
 *
 * Requests carrying a routing key (header `x-keel-route-key`) are sticky: a key goes to the
 * candidate when hash(model, candidate, key) < candidateWeight, so a key that reached the
 * candidate at 10 % stays there at 25, 50 and 100 %.
 */
export const routeSpecSchema = strictObject({
  model: z.string().min(1).max(200),
  baseline: z.number().int().positive(),
  candidate: z.number().int().positive(),
  candidateWeight: z.number().min(0).max(1),
  shadow: z.boolean().default(false),
  /** Who changes it: `workflow:<id>` or `user:<name>`. */
  actor: z.string().min(1).default('api'),
  reason: z.string().default(''),
}).refine((route) => route.baseline !== route.candidate, { message: 'candidate must differ from baseline', path: ['candidate'] });

export type RouteSpec = z.output<typeof routeSpecSchema>;
export type RouteSpecInput = z.input<typeof routeSpecSchema>;
