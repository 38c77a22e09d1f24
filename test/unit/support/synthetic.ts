import type { Row } from '../../../src/ml/row';

/** Deterministic test data: a seeded PRNG (mulberry32) and flight-like rows built from it. */

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Standard normal draws (Box-Muller). */
export function seededNormal(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const airports = ['ATL', 'ORD', 'DFW', 'LAX', 'DEN', 'JFK', 'SFO', 'SEA', 'LAS', 'MCO', 'BOS', 'PHX'];

export const flightFeatures = [
  { name: 'hour', kind: 'categorical' },
  { name: 'weekday', kind: 'categorical' },
  { name: 'distance', kind: 'numeric' },
  { name: 'origin', kind: 'categorical' },
  { name: 'destination', kind: 'categorical' },
] as const satisfies { name: string; kind: 'numeric' | 'categorical' }[];

/**
 * Flights whose delay probability depends on hour, distance and origin; about 2% of the values
 * of each feature are missing, as in real data.
 */
export function syntheticFlights(count: number, seed: number): Row[] {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)];
  const maybeMissing = <T>(value: T) => (random() < 0.02 ? null : value);
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const hour = Math.floor(random() * 24);
    const distance = 100 + Math.floor(random() * 2500);
    const origin = pick(airports);
    const logit = -1.2 + 0.08 * (hour - 12) + 0.0003 * (distance - 1300) + (origin === 'ORD' ? 0.9 : 0) + (origin === 'SEA' ? -0.7 : 0);
    rows.push({
      hour: maybeMissing(hour),
      weekday: maybeMissing(Math.floor(random() * 7)),
      distance: maybeMissing(distance),
      origin: maybeMissing(origin),
      destination: maybeMissing(pick(airports)),
      delayed: random() < 1 / (1 + Math.exp(-logit)) ? 1 : 0,
    });
  }
  return rows;
}
