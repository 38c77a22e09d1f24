import { describe, expect, it } from 'vitest';
import { pointInTime, type PitFeature } from '../../src/features/point-in-time';

const day = 86_400_000;
const t = (d: number) => d * day;

// One entity (0), events on days 1, 2, 2, 5 with delays 10, 20, 40, 0; another entity (1) on day 3.
const events = {
  keys: Int32Array.from([0, 0, 0, 0, 1]),
  times: Float64Array.from([t(1), t(2), t(2), t(5), t(3)]),
  values: [Float64Array.from([10, 20, 40, 0, 99])],
};
const features: PitFeature[] = [
  { name: 'n', aggregation: 'count', valueIndex: -1, windowMs: 2 * day },
  { name: 'mean', aggregation: 'mean', valueIndex: 0, windowMs: 2 * day },
  { name: 'rate', aggregation: 'rate', valueIndex: 0, windowMs: 2 * day, threshold: 15 },
  { name: 'max', aggregation: 'max', valueIndex: 0, windowMs: 7 * day },
  { name: 'min', aggregation: 'min', valueIndex: 0, windowMs: 7 * day },
  { name: 'sum', aggregation: 'sum', valueIndex: 0, windowMs: 7 * day },
  { name: 'last', aggregation: 'last', valueIndex: 0, windowMs: 7 * day },
  { name: 'distinct', aggregation: 'distinct_count', valueIndex: 0, windowMs: 7 * day },
  { name: 'latest', valueIndex: 0 },
];

function at(key: number, time: number, lag = 0): Record<string, number> {
  const out = pointInTime(events, { keys: Int32Array.from([key]), times: Float64Array.from([time]) }, features, lag);
  return Object.fromEntries(features.map((f, i) => [f.name, out[i][0]]));
}

describe('point-in-time values', () => {
  it('sees nothing before the first event', () => {
    const v = at(0, t(1) - 1);
    expect(v.n).toBe(0);
    expect(v.mean).toBeNaN();
    expect(v.latest).toBeNaN();
  });

  it('counts an event whose time equals the as-of time (a tie is known), and none after it', () => {
    // As of day 2 exactly: events of days 1 and 2 (both), window (0, 2].
    expect(at(0, t(2))).toMatchObject({
      n: 3,
      mean: (10 + 20 + 40) / 3,
      rate: 2 / 3,
      max: 40,
      min: 10,
      sum: 70,
      last: 40,
      distinct: 3,
      latest: 40,
    });
    // A millisecond earlier the day-2 events are the future.
    expect(at(0, t(2) - 1)).toMatchObject({ n: 1, mean: 10, rate: 0, sum: 10, latest: 10 });
  });

  it('drops an event exactly one window before the as-of time (the window is (a − w, a])', () => {
    // As of day 3: 2-day window (1, 3] leaves out day 1.
    expect(at(0, t(3))).toMatchObject({ n: 2, mean: 30, rate: 1, sum: 70, max: 40 });
  });

  it('shifts the as-of time back by the availability lag', () => {
    // Asked at day 4.5 with a 1-day lag: as of day 3.5, window (1.5, 3.5]: the day-2 events only.
    expect(at(0, t(4.5), day)).toMatchObject({ n: 2, mean: 30, latest: 40, sum: 70 });
    // Asked at day 5 with a 1-day lag: as of day 4, the day-5 event (0) is not known yet; (2, 4] is empty.
    expect(at(0, t(5), day)).toMatchObject({ n: 0, mean: Number.NaN, latest: 40, sum: 70 });
    expect(at(0, t(5), 0)).toMatchObject({ n: 1, mean: 0, rate: 0, latest: 0, sum: 70, min: 0, last: 0, distinct: 4 });
  });

  it('keeps entities apart and answers queries in any order', () => {
    const out = pointInTime(
      events,
      { keys: Int32Array.from([1, 0, 1, 2]), times: Float64Array.from([t(3), t(2), t(2), t(9)]) },
      [features[1], features[8]],
      0,
    );
    expect([...out[0]]).toEqual([99, 70 / 3, Number.NaN, Number.NaN]);
    expect([...out[1]]).toEqual([99, 40, Number.NaN, Number.NaN]);
  });

  it('makes a plain column missing once it is older than the TTL', () => {
    const ttl: PitFeature = { name: 'latest', valueIndex: 0, ttlMs: day };
    const out = pointInTime(events, { keys: Int32Array.from([0, 0]), times: Float64Array.from([t(2) + day - 1, t(3)]) }, [ttl], 0);
    expect([...out[0]]).toEqual([40, Number.NaN]);
  });
});
