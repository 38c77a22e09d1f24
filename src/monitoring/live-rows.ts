import type { VersionPerformance } from './live-performance-types';

/**
 * What every live-performance monitor (binary, multiclass, regression) does with its logged rows
 * whatever the task: split them by model version, count how many carry a label, and follow the
 * metric through consecutive buckets of the window. The task decides what a usable label is and
 * how the metric is computed; these parts only count and slice.
 */

/** The rows of each version, versions in ascending order (each version's rows in input order). */
export function rowsByVersion<Row extends { version: number }>(rows: readonly Row[]): [version: number, rows: Row[]][] {
  const groups = new Map<number, Row[]>();
  for (const row of rows) {
    let list = groups.get(row.version);
    if (!list) groups.set(row.version, (list = []));
    list.push(row);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b);
}

/** A version's prediction count, labelled count and their ratio (0 without predictions). */
export function labelCoverage(
  version: number,
  predictions: number,
  labelled: number,
): Pick<VersionPerformance, 'version' | 'predictions' | 'labelled' | 'coverage'> {
  return { version, predictions, labelled, coverage: predictions ? labelled / predictions : 0 };
}

/**
 * The metric in consecutive buckets of `bucketMs` over the window (the last one cut at its end):
 * per bucket, its predictions, those `isLabelled` accepts, and `metricOf` them (null without any).
 */
export function rollingBuckets<Row extends { at: number }>(
  rows: readonly Row[],
  window: { start: string; end: string },
  bucketMs: number,
  isLabelled: (row: Row) => boolean,
  metricOf: (labelled: Row[]) => number | null,
): VersionPerformance['rolling'] {
  const start = Date.parse(window.start);
  const end = Date.parse(window.end);
  const buckets: VersionPerformance['rolling'] = [];
  for (let from = start; from < end; from += bucketMs) {
    const to = Math.min(end, from + bucketMs);
    const inside = rows.filter((r) => r.at >= from && r.at < to);
    const labelled = inside.filter(isLabelled);
    buckets.push({
      start: new Date(from).toISOString(),
      end: new Date(to).toISOString(),
      predictions: inside.length,
      labelled: labelled.length,
      value: labelled.length ? metricOf(labelled) : null,
    });
  }
  return buckets;
}
