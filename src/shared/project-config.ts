import { z } from 'zod';
import { intervalSchema } from './interval';
import { featureStoreDefinitionsSchema } from './feature-store';
import { monitorSettingsShape } from './monitoring';
import { trainingPipelineInputSchema } from './pipeline-input';
import { strictObject } from './strict';

const cronFields = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
    offset: 1,
  },
  { name: 'day-of-week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], offset: 0 },
] as const;

const cronMacros = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/**
 * Why a five-field cron spec (minute hour day-of-month month day-of-week) does not parse, or null
 * when it does. Each field is `*`, a value, a range `a-b`, any of those with a step `/n`, or a
 * comma-separated list of them; months and weekdays also by name (JAN, MON). Checked here so a
 * typo is reported with the config's field name and the reason before Temporal sees it.
 */
export function cronSpecProblem(spec: string): string | null {
  const text = spec.trim();
  if (cronMacros.includes(text.toLowerCase())) return null;
  const parts = text.split(/\s+/);
  if (parts.length !== 5) return `needs five fields (minute hour day-of-month month day-of-week), got ${parts.length}: "${text}"`;
  for (let i = 0; i < 5; i++) {
    const field = cronFields[i];
    for (const item of parts[i].split(',')) {
      const problem = cronItemProblem(item, field);
      if (problem) return `${field.name} field "${parts[i]}": ${problem}`;
    }
  }
  return null;
}

function cronItemProblem(item: string, field: (typeof cronFields)[number]): string | null {
  if (item === '') return 'empty list item';
  const [range, step, ...extra] = item.split('/');
  if (extra.length) return `"${item}" has more than one step`;
  if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `step "${step}" must be a positive whole number`;
  if (range === '*') return null;
  const bounds = range.split('-');
  if (bounds.length > 2) return `"${range}" is not a value or a range a-b`;
  const values: number[] = [];
  for (const bound of bounds) {
    const value = cronValue(bound, field);
    if (value === null) {
      const names = 'names' in field ? ` or ${field.names[0]}-${field.names[field.names.length - 1]}` : '';
      return `"${bound}" is not a value in ${field.min}-${field.max}${names}`;
    }
    values.push(value);
  }
  if (values.length === 2 && values[0] > values[1]) return `range "${range}" runs backwards`;
  return null;
}

function cronValue(text: string, field: (typeof cronFields)[number]): number | null {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    return value >= field.min && value <= field.max ? value : null;
  }
  if ('names' in field) {
    const index = (field.names as readonly string[]).indexOf(text.toUpperCase());
    return index >= 0 ? index + field.offset : null;
  }
  return null;
}

const cronSchema = z.string().superRefine((spec, ctx) => {
  const problem = cronSpecProblem(spec);
  if (problem) ctx.addIssue({ code: 'custom', message: `not a valid cron spec: ${problem}` });
});

/** `"$schema"`: the JSON Schema an editor checks a config file against (files under schema/). */
export const jsonSchemaReference = z
  .string()
  .min(1)
  .optional()
  .describe('The JSON Schema editors check this file against, e.g. "./schema/keel.config.schema.json"; keel ignores it.');

/** keel.config.json: the model's pipeline, its monitoring and its retraining schedule. */
export const projectConfigSchema = strictObject({
  $schema: jsonSchemaReference,
  pipeline: trainingPipelineInputSchema.describe(
    'The model and how it is made: the input of the `trainingPipeline` workflow (ingest, validate, profile, split, train, evaluate, gate, register, deploy), which `npm start` runs first and `retrain.cron` runs again.',
  ),
  monitor: strictObject({
    every: intervalSchema.default('1h').describe('How often the monitor runs (a Temporal Schedule): `<n>s`, `m`, `h` or `d`.'),
    ...monitorSettingsShape,
  })
    .prefault({})
    .describe(
      "The `monitor` workflow's settings (its input without `model`, which is the pipeline's) and how often it runs. With `policy.retrain.enabled`, sustained drift starts `pipeline` on the drifted period's data.",
    ),
  retrain: strictObject({
    cron: cronSchema.describe(
      'Continuous training: when `trainingPipeline` runs on the latest data (overlap policy skip), as five-field cron (minute hour day-of-month month day-of-week, names allowed) or a macro (`@daily`); a spec that does not parse is refused with the field and reason.',
    ),
    jitter: intervalSchema.optional().describe("Each run starts up to this much later, at random (spreads many models' retraining)."),
    catchupWindow: intervalSchema
      .default('1h')
      .describe('After the Temporal server was down, runs missed less than this long ago are still taken.'),
  }).describe('The continuous-training schedule.'),
  trainers: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lowercase letters, digits, . _ -'),
      strictObject({
        command: z
          .array(z.string().min(1))
          .min(1)
          .describe('Program and arguments (no shell); an argument with a `/` that is not absolute is relative to `dir`.'),
        dir: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Where the command's relative paths start (default: this file's directory). The program itself runs in a fresh temporary directory.",
          ),
        env: z
          .array(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name'))
          .default([])
          .describe(
            'Environment variables passed on to the program; it gets only PATH, LANG, HOME and TMPDIR (its directory) and the KEEL_* file paths otherwise.',
          ),
      }).describe('One registered trainer command.'),
    )
    .default({})
    .describe(
      'The programs a `command` trainer may run, by name: a pipeline input names one (`trainer.command`) and cannot run anything else (docs/security.md).',
    ),
  featureStore: z
    .union([
      featureStoreDefinitionsSchema,
      strictObject({ file: z.string().min(1).describe('A JSON file (relative to this config) holding `entities` and `views`.') }),
    ])
    .optional()
    .describe(
      'Feature store definitions: entities and feature views, inline or in their own file (docs/features.md, "Feature store"). `keel features apply` registers them; a changed view is a new version.',
    ),
  server: strictObject({
    port: z.number().int().min(0).max(65535).default(8080).describe('Model server port (0: any free port); `KEEL_PORT` overrides it.'),
  })
    .prefault({})
    .describe('The model server `npm start` runs.'),
});
export type ProjectConfig = z.infer<typeof projectConfigSchema>;
