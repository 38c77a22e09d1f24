import type { FeatureSpec } from '../../../src/shared/feature-spec';
import type { Row } from '../../../src/ml/row';
import { seededRandom } from './synthetic';

/**
 * A synthetic table that exercises every feature option: numeric imputations, scalings and clips,
 * every categorical encoding with per-feature vocabulary limits, booleans in every spelling, and
 * timestamps in every accepted form (ISO strings with and without zone, epoch milliseconds, dates
 * before 1970) — with missing, non-finite and unreadable values mixed in.
 */
export const everyOptionFeatures: FeatureSpec[] = [
  { name: 'distance', kind: 'numeric' },
  { name: 'amount', kind: 'numeric', impute: 'median', scale: 'minmax', clip: { min: 0, max: 5000 } },
  { name: 'score', kind: 'numeric', impute: { constant: -1 }, scale: 'none' },
  { name: 'temperature', kind: 'numeric', impute: 'mean', scale: 'standard', clip: { max: 40 } },
  { name: 'origin', kind: 'categorical', maxCategories: 6 },
  { name: 'carrier', kind: 'categorical', encoding: 'ordinal', minCount: 100 },
  { name: 'city', kind: 'categorical', encoding: 'frequency', maxCategories: 30 },
  { name: 'member', kind: 'boolean' },
  { name: 'departure', kind: 'datetime' },
  { name: 'opened', kind: 'datetime', parts: ['year', 'dayOfMonth', 'month', 'weekday', 'hour'], encoding: 'numeric' },
];

const airports = ['ATL', 'ORD', 'DFW', 'LAX', 'DEN', 'JFK', 'SFO', 'SEA', 'LAS', 'MCO'];
const carriers = ['AA', 'DL', 'UA', 'WN', 'B6', 'AS', 'NK', 'F9', 'G4'];
const trueSpellings: unknown[] = [true, 1, '1', 'true', 'TRUE', 'yes', 'Yes'];
const falseSpellings: unknown[] = [false, 0, '0', 'false', 'False', 'no', 'NO'];
const DAY = 86_400_000;

export function everyOptionRows(count: number, seed: number): Row[] {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)];
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const odd = random();
    const distance = 100 + Math.floor(random() * 2500);
    const amount =
      random() < 0.05
        ? pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e30, 1e300, null, ''])
        : -500 + random() * 7000;
    const score = random() < 0.1 ? null : Math.round(random() * 100) / 10;
    const temperature = random() < 0.05 ? pick([null, 'n/a', Number.NaN]) : -10 + random() * 60;
    const origin = random() < 0.03 ? pick([null, '']) : pick(airports);
    const carrier = random() < 0.03 ? null : random() < 0.9 ? pick(carriers.slice(0, 6)) : pick(carriers);
    const city = random() < 0.02 ? null : `city-${Math.floor(random() ** 2 * 60)}`;
    const isMember = random() < 0.4;
    const member = odd < 0.04 ? pick([null, '', 'maybe', 2]) : pick(isMember ? trueSpellings : falseSpellings);
    // 1950 … 2030, in milliseconds, as a number, an ISO string with Z, one with an offset, or date only.
    const departureMs = Math.floor((-20 * 365 + random() * 80 * 365) * DAY);
    const departure =
      random() < 0.04
        ? pick([null, 'not a date', '2021-02-30', Number.NaN])
        : pick([
            departureMs,
            new Date(departureMs).toISOString(),
            new Date(departureMs).toISOString().replace('Z', '+00:00'),
            new Date(departureMs).toISOString().slice(0, 19),
          ]);
    const openedMs = Math.floor((-300 * 365 + random() * 330 * 365) * DAY + random() * DAY);
    const opened = random() < 0.05 ? null : openedMs;
    const hour = new Date(departureMs).getUTCHours();
    const logit =
      -0.5 +
      0.0004 * (distance - 1300) +
      (isMember ? 0.8 : -0.3) +
      (origin === 'ORD' ? 0.9 : 0) +
      (hour >= 17 ? 0.7 : 0) +
      (typeof amount === 'number' && amount > 3000 ? 0.5 : 0) +
      (city === 'city-0' ? 0.6 : 0);
    rows.push({
      distance: random() < 0.02 ? null : distance,
      amount: amount,
      score,
      temperature: temperature,
      origin,
      carrier,
      city,
      member: member as Row[string],
      departure,
      opened,
      delayed: random() < 1 / (1 + Math.exp(-logit)) ? 1 : 0,
    });
  }
  return rows;
}

/** Rows with what serving may meet and training never saw: unseen categories, odd spellings, extreme dates. */
export const unusualRows: Row[] = [
  {
    distance: 640,
    amount: 1e300,
    score: Number.POSITIVE_INFINITY,
    temperature: 1e39,
    origin: 'ZZZ',
    carrier: 'XX',
    city: 'atlantis',
    member: 'maybe',
    departure: 'yesterday',
    opened: Number.POSITIVE_INFINITY,
  },
  {
    distance: null,
    amount: null,
    score: null,
    temperature: null,
    origin: null,
    carrier: null,
    city: null,
    member: null,
    departure: null,
    opened: null,
  },
  { distance: '', amount: '', score: '', temperature: '', origin: '', carrier: '', city: '', member: '', departure: '', opened: '' },
  {
    distance: Number.NEGATIVE_INFINITY,
    amount: -1e30,
    score: -1e30,
    temperature: -273,
    origin: 'ATL',
    carrier: 'AA',
    city: 'city-0',
    member: 'YES',
    departure: -1,
    opened: 0,
  },
  {
    distance: 1e30,
    amount: 99_999,
    score: 3.5,
    temperature: 99,
    origin: 'ORD',
    carrier: 'G4',
    city: 'city-59',
    member: 'FaLsE',
    departure: '1969-12-31T23:59:59.999Z',
    opened: '1900-03-01',
  },
  {
    distance: 10,
    amount: 5000,
    score: 0,
    temperature: 40,
    origin: 'SEA',
    carrier: 'F9',
    city: 'city-1',
    member: 'No',
    departure: 8.64e15,
    opened: -8.64e15,
  },
  {
    distance: 10,
    amount: 0,
    score: 0,
    temperature: -40,
    origin: 'SEA',
    carrier: 'F9',
    city: 'city-1',
    member: 'tRuE',
    departure: 8.64e15 + 1,
    opened: -62_135_596_800_001,
  },
  {
    distance: 10,
    amount: 2500.5,
    score: 1,
    temperature: 20,
    origin: 'LAX',
    carrier: 'DL',
    city: 'city-2',
    member: 1,
    departure: 1.5,
    opened: -1.5,
  },
  {
    distance: 10,
    amount: 2500.5,
    score: 1,
    temperature: 20,
    origin: 'LAX',
    carrier: 'DL',
    city: 'city-2',
    member: 0,
    departure: '2024-02-29T23:30:00-05:00',
    opened: '0001-01-01T00:00:00Z',
  },
];
