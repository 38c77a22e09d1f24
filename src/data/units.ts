import type { UnitId } from '../shared/dataset-spec';

/**
 * Units of measure for the mapping's `unit` transform: "130 m2", "1,200 sqft", "1200 ft²" and
 * "130 square meters" all become one number in the unit the canonical column uses.
 */

type Dimension = 'area' | 'length' | 'mass';

interface UnitDef {
  dimension: Dimension;
  /** Size in the dimension's base unit (m², m, kg). */
  factor: number;
  /** Spellings, compared after lower-casing and removing spaces, dots and ^ (so "sq. ft" = "sqft"). */
  spellings: string[];
}

export const units: Record<UnitId, UnitDef> = {
  sqft: { dimension: 'area', factor: 0.09290304, spellings: ['sqft', 'ft2', 'ft²', 'sf', 'sqfeet', 'sqfoot', 'squarefeet', 'squarefoot'] },
  m2: {
    dimension: 'area',
    factor: 1,
    spellings: [
      'm2',
      'm²',
      'sqm',
      'sqmeter',
      'sqmeters',
      'sqmetre',
      'sqmetres',
      'squaremeter',
      'squaremeters',
      'squaremetre',
      'squaremetres',
    ],
  },
  acre: { dimension: 'area', factor: 4046.8564224, spellings: ['acre', 'acres', 'ac'] },
  ha: { dimension: 'area', factor: 10_000, spellings: ['ha', 'hectare', 'hectares'] },
  in: { dimension: 'length', factor: 0.0254, spellings: ['in', 'inch', 'inches', '"'] },
  ft: { dimension: 'length', factor: 0.3048, spellings: ['ft', 'foot', 'feet', "'"] },
  yd: { dimension: 'length', factor: 0.9144, spellings: ['yd', 'yard', 'yards'] },
  mi: { dimension: 'length', factor: 1609.344, spellings: ['mi', 'mile', 'miles'] },
  mm: { dimension: 'length', factor: 0.001, spellings: ['mm', 'millimeter', 'millimeters', 'millimetre', 'millimetres'] },
  cm: { dimension: 'length', factor: 0.01, spellings: ['cm', 'centimeter', 'centimeters', 'centimetre', 'centimetres'] },
  m: { dimension: 'length', factor: 1, spellings: ['m', 'meter', 'meters', 'metre', 'metres'] },
  km: { dimension: 'length', factor: 1000, spellings: ['km', 'kilometer', 'kilometers', 'kilometre', 'kilometres'] },
  g: { dimension: 'mass', factor: 0.001, spellings: ['g', 'gram', 'grams'] },
  kg: { dimension: 'mass', factor: 1, spellings: ['kg', 'kilogram', 'kilograms', 'kilo', 'kilos'] },
  lb: { dimension: 'mass', factor: 0.45359237, spellings: ['lb', 'lbs', 'pound', 'pounds'] },
  oz: { dimension: 'mass', factor: 0.028349523125, spellings: ['oz', 'ounce', 'ounces'] },
};

const bySpelling = new Map<string, UnitId>();
for (const [id, def] of Object.entries(units) as [UnitId, UnitDef][]) {
  for (const spelling of def.spellings) bySpelling.set(normaliseSpelling(spelling), id);
}

function normaliseSpelling(text: string): string {
  return text.toLowerCase().replace(/[\s.^]/g, '');
}

/** The unit a spelling names, or undefined. */
export function findUnit(spelling: string): UnitId | undefined {
  return bySpelling.get(normaliseSpelling(spelling));
}

/** `value` in `from` expressed in `to`; throws when the dimensions differ. */
export function convertUnit(value: number, from: UnitId, to: UnitId): number {
  if (from === to) return value;
  const a = units[from];
  const b = units[to];
  if (a.dimension !== b.dimension) throw new Error(`${from} is ${articled(a.dimension)}, ${to} is ${articled(b.dimension)}`);
  return (value * a.factor) / b.factor;
}

function articled(dimension: Dimension): string {
  return dimension === 'area' ? 'an area' : `a ${dimension}`;
}
