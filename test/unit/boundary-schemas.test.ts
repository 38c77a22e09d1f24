/// <reference types="vite/client" />
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toInputJsonSchema } from '../../src/reference/json-schemas';

/**
 * Every schema a person or a program feeds keel refuses unknown keys, at every depth. The
 * schemas are found, not listed: every zod schema exported by src/shared (workflow inputs,
 * signals and updates, config sections, dataset and feature specs), by the CLI's file schemas
 * and by the dashboard's HTTP bodies, so a new one is covered without touching this test.
 * For each, every object its JSON Schema reaches is probed with an input that holds an unknown
 * key there (and the discriminators that lead to it); the parse must name that key at that path.
 */
const modules = {
  ...import.meta.glob('../../src/shared/*.ts', { eager: true }),
  // main.ts runs the CLI when imported.
  ...import.meta.glob(['../../src/cli/*.ts', '!../../src/cli/main.ts'], { eager: true }),
  ...import.meta.glob('../../src/ui/*actions.ts', { eager: true }),
};

/** Stored records keel reads back (old rows must still load), not inputs. */
const notInputs = new Set(['../../src/shared/model-contract.ts']);

const boundary = Object.entries(modules).flatMap(([file, exports]) =>
  notInputs.has(file)
    ? []
    : Object.entries(exports as Record<string, unknown>)
        .filter((entry): entry is [string, z.ZodType] => entry[1] instanceof z.ZodType)
        .map(([name, schema]) => ({ name: `${file.replace('../../src/', '')}: ${name}`, schema })),
);

type Json = Record<string, unknown>;
type Path = (string | number)[];
const UNKNOWN = 'zzUnknownKeyProbe';

/** Inputs that put UNKNOWN into each object `node` reaches, with the path of that object. */
function probes(node: Json, defs: Record<string, Json>, depth = 0): { path: Path; value: unknown }[] {
  if (depth > 12) return [];
  if (typeof node.$ref === 'string') return probes(defs[node.$ref.replace('#/$defs/', '')], defs, depth + 1);
  const branches = (node.anyOf ?? node.oneOf ?? node.allOf) as Json[] | undefined;
  if (branches) return branches.flatMap((branch) => probes(branch, defs, depth + 1));
  if (node.type === 'array' && node.items) {
    return probes(node.items as Json, defs, depth + 1).map((p) => ({ path: [0, ...p.path], value: [p.value] }));
  }
  if (node.type !== 'object') return [];
  const properties = node.properties as Record<string, Json> | undefined;
  if (!properties) {
    // A record: probe its values under a key it allows.
    const values = node.additionalProperties;
    if (!values || typeof values !== 'object') return [];
    const key = ((node.propertyNames as Json | undefined)?.enum as string[] | undefined)?.[0] ?? 'k';
    return probes(values as Json, defs, depth + 1).map((p) => ({ path: [key, ...p.path], value: { [key]: p.value } }));
  }
  // Discriminators lead a union to this branch.
  const base = Object.fromEntries(Object.entries(properties).flatMap(([key, p]) => ('const' in p ? [[key, p.const]] : [])));
  return [
    { path: [], value: { ...base, [UNKNOWN]: 1 } },
    ...Object.entries(properties).flatMap(([key, p]) =>
      probes(p, defs, depth + 1).map((c) => ({ path: [key, ...c.path], value: { ...base, [key]: c.value } })),
    ),
  ];
}

/** Every unknown-key issue, also inside union branches, with its full path. */
function unknownKeyIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: PropertyKey[] = [],
): { path: string; keys: string[]; message: string }[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') return [{ path: path.join('.'), keys: issue.keys, message: issue.message }];
    if (issue.code === 'invalid_union') return issue.errors.flatMap((branch) => unknownKeyIssues(branch, path));
    return [];
  });
}

describe('boundary schemas', () => {
  it('are found: workflow inputs, config, specs and HTTP bodies', () => {
    const names = boundary.map((b) => b.name);
    for (const expected of [
      'shared/pipeline-input.ts: trainingPipelineInputSchema',
      'shared/canary.ts: canaryRolloutInputSchema',
      'shared/monitoring.ts: monitorInputSchema',
      'shared/approval.ts: approvalSignalSchema',
      'shared/project-config.ts: projectConfigSchema',
      'shared/dataset-spec.ts: datasetSpecSchema',
      'shared/feature-spec.ts: featureSpecSchema',
      'shared/route-spec.ts: routeSpecSchema',
      'cli/pipeline-input-file.ts: pipelineInputFileSchema',
      'cli/data-command.ts: dataConfigSchema',
      'ui/actions.ts: actionBodySchema',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it.each(boundary)('$name refuses an unknown key in every object it takes', ({ schema }) => {
    expect(objectsTakingUnknownKeys(schema)).toEqual([]);
  });

  it('would see a schema that takes unknown keys, at any depth', () => {
    const loose = z.object({ outer: z.array(z.strictObject({ inner: z.object({ leaf: z.string() }) })) });
    expect(objectsTakingUnknownKeys(loose)).toEqual(['(root)', 'outer.0', 'outer.0.inner']);
  });
});

/** The paths of the objects in `schema` that do not refuse an unknown key (with a suggestion) there. */
function objectsTakingUnknownKeys(schema: z.ZodType): string[] {
  const json = toInputJsonSchema(schema);
  const missed: string[] = [];
  for (const { path, value } of probes(json, (json.$defs ?? {}) as Record<string, Json>)) {
    const result = schema.safeParse(value);
    const found = result.success ? [] : unknownKeyIssues(result.error.issues);
    const at = found.find((issue) => issue.path === path.join('.') && issue.keys.includes(UNKNOWN));
    if (!at || !at.message.startsWith('unknown key')) missed.push(path.join('.') || '(root)');
  }
  return missed;
}
