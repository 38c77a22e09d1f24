import { describe, expect, it } from 'vitest';
import { checkViewColumns, viewDefinition, viewVersion } from '../../src/features/definitions';
import { featureStoreDefinitionsSchema } from '../../src/shared/feature-store';
import { describeIssues } from '../../src/shared/validation';

const flights = [
  { name: 'date', type: 'datetime' },
  { name: 'origin', type: 'string' },
  { name: 'destination', type: 'string' },
  { name: 'delay', type: 'integer' },
] as const;

const base = {
  entities: [
    { name: 'origin', joinKeys: ['origin'] },
    { name: 'route', joinKeys: ['origin', 'destination'] },
  ],
  views: [
    {
      name: 'origin_delays',
      entities: ['origin'],
      source: { dataset: 'flights' },
      timestamp: 'date',
      availabilityLag: '1d',
      features: [{ name: 'origin_delay_rate_7d', column: 'delay', aggregation: 'rate', window: '7d', threshold: 15 }],
    },
  ],
};

function problems(defs: unknown): string[] {
  const parsed = featureStoreDefinitionsSchema.safeParse(defs);
  if (!parsed.success) return describeIssues(parsed.error.issues, defs);
  return checkViewColumns(parsed.data, () => flights).map((i) => `${i.path}: ${i.message}`);
}

const withView = (view: Record<string, unknown>) => ({ ...base, views: [{ ...base.views[0], ...view }] });

describe('feature store definitions', () => {
  it('accepts a valid definition', () => {
    expect(problems(base)).toEqual([]);
  });

  it('names an unknown column by its path', () => {
    const found = problems(withView({ features: [{ name: 'x', column: 'delya', aggregation: 'mean', window: '7d' }] }));
    expect(found).toEqual([expect.stringMatching(/^views\.0\.features\.0\.column: unknown column "delya"/)]);
  });

  it('refuses a window without the view timestamp', () => {
    const found = problems(withView({ timestamp: undefined }));
    expect(found.join('\n')).toMatch(/views\.0\.features\.0\.window.*needs the view's timestamp/);
  });

  it('refuses an aggregate of a string column, but counts distinct strings', () => {
    expect(problems(withView({ features: [{ name: 'x', column: 'destination', aggregation: 'mean', window: '7d' }] }))).toEqual([
      expect.stringMatching(/^views\.0\.features\.0\.column: aggregate "mean" of the string column "destination"/),
    ]);
    expect(problems(withView({ features: [{ name: 'x', column: 'destination', aggregation: 'distinct_count', window: '7d' }] }))).toEqual(
      [],
    );
  });

  it('finds a cycle between views', () => {
    const view = (name: string, source: string) => ({
      name,
      entities: ['origin'],
      source: { view: source },
      features: [{ name: `${name}_f`, column: 'x' }],
    });
    const found = problems({ ...base, views: [view('a', 'b'), view('b', 'a')] });
    expect(found.join('\n')).toMatch(/views\.0\.source\.view.*cycle between views: a → b → a/);
  });

  it('refuses a feature name two views share', () => {
    const second = { ...base.views[0], name: 'route_delays', entities: ['route'] };
    const found = problems({ ...base, views: [base.views[0], second] });
    expect(found.join('\n')).toMatch(/views\.1\.features\.0\.name.*"origin_delay_rate_7d" is also defined by view "origin_delays"/);
  });

  it('gives a changed definition a new version, and the same one the same', () => {
    const parse = (defs: unknown) => featureStoreDefinitionsSchema.parse(defs);
    const version = (defs: ReturnType<typeof parse>) => viewVersion(viewDefinition(defs, defs.views[0]));
    expect(version(parse(base))).toBe(version(parse(structuredClone(base))));
    expect(version(parse(withView({ availabilityLag: '2d' })))).not.toBe(version(parse(base)));
  });
});
