import { describe, expect, it } from 'vitest';
import { ksStatistic } from '../../src/monitoring/kolmogorov';
import { evaluateDrift } from '../../src/monitoring/drift';
import { DriftWindow } from '../../src/monitoring/drift-window';
import {
  BinIndex,
  binnedKs,
  binnedWasserstein,
  binOf,
  HistogramSketchBuilder,
  quantileEdges,
  SKETCH_PILOT,
} from '../../src/monitoring/histogram-sketch';
import { wassersteinDistance } from '../../src/monitoring/distances';
import {
  categoricalDriftReference,
  DriftReferenceBuilder,
  driftReferenceSchema,
  numericDriftReference,
  REFERENCE_SAMPLE_SIZE,
} from '../../src/monitoring/reference';
import { numbers } from '../fixtures/drift/samples';

const normal = (n: number, seed: number, loc = 0, scale = 1) => numbers({ dist: 'normalish', n, seed, loc, scale });

/** A window counted into `sketch`'s bins, as DriftWindow does. */
function binned(builder: HistogramSketchBuilder, values: number[]) {
  for (const v of values) builder.add(v);
  const sketch = builder.finish()!;
  return { sketch, side: { counts: sketch.counts, total: values.length, min: Math.min(...values), max: Math.max(...values) } };
}

function countInto(edges: readonly number[], values: number[]) {
  const counts = new Float64Array(edges.length + 1);
  for (const v of values) {
    let j = 0;
    while (j < edges.length && edges[j] < v) j++;
    counts[j]++;
  }
  return { counts, total: values.length, min: Math.min(...values), max: Math.max(...values) };
}

const sorted = (values: number[]) => Float64Array.from(values).sort();

describe('BinIndex', () => {
  it('puts every value in the bin binOf finds, the edges themselves included', () => {
    const data = normal(20_000, 30).map((v, i) => (i % 7 === 0 ? v ** 3 : v));
    const edges = quantileEdges(sorted(data), 1024);
    const index = new BinIndex(edges);
    for (const x of [...data, ...edges, ...normal(5_000, 31, 0, 20), -1e9, 1e9, edges[0], edges[edges.length - 1]]) {
      expect(index.bin(x)).toBe(binOf(edges, x));
    }
  });
});

describe('histogram sketch statistics', () => {
  // A mixture with long tails, in random order, and a shifted, wider window.
  const mixed = normal(32_000, 1).map((v, i) => (i % 16 === 0 ? v * 8 : v));
  const window = normal(8_000, 3, 0.2, 1.3);

  it('brackets the exact KS statistic, and finds Wasserstein within its bound', () => {
    const { sketch, side: ref } = binned(new HistogramSketchBuilder(), mixed);
    const cur = countInto(sketch.edges, window);
    const exact = ksStatistic(sorted(mixed), sorted(window)).statistic;
    const { statistic, upper } = binnedKs(sketch.edges, ref, cur);
    expect(statistic).toBeLessThanOrEqual(exact + 1e-12);
    expect(upper).toBeGreaterThanOrEqual(exact - 1e-12);
    expect(upper - statistic).toBeLessThan(0.01);
    const w = wassersteinDistance(sorted(mixed), sorted(window));
    const { distance, bound } = binnedWasserstein(sketch.edges, ref, cur);
    expect(Math.abs(distance - w)).toBeLessThanOrEqual(bound);
    // Tight enough to decide at the default threshold 0.1 of the normed distance (std ≈ 2.2 here).
    expect(bound / 2.2).toBeLessThan(0.02);
    expect(binnedWasserstein(sketch.edges, ref, ref).distance).toBe(0);
  });

  it('keeps its bounds when the pilot is not representative (sorted data: the outer bins are wide and heavy)', () => {
    const ordered = [...normal(30_000, 4), ...normal(2_000, 5, 0, 8)];
    const { sketch, side: ref } = binned(new HistogramSketchBuilder(), ordered);
    const cur = countInto(sketch.edges, window);
    const exact = ksStatistic(sorted(ordered), sorted(window)).statistic;
    const { statistic, upper } = binnedKs(sketch.edges, ref, cur);
    expect(statistic).toBeLessThanOrEqual(exact + 1e-12);
    expect(upper).toBeGreaterThanOrEqual(exact - 1e-12);
    const w = wassersteinDistance(sorted(ordered), sorted(window));
    const { distance, bound } = binnedWasserstein(sketch.edges, ref, cur);
    expect(Math.abs(distance - w)).toBeLessThanOrEqual(bound);
  });
});

describe('references with a sketch, windows fed in chunks', () => {
  const rows = REFERENCE_SAMPLE_SIZE + SKETCH_PILOT + 5_000;
  const x = normal(rows, 10, 50, 10);
  const y = normal(rows, 11);
  const g = Array.from({ length: rows }, (_, i) => ['a', 'b', 'c'][i % 3]);

  it('builds the same sketch in bulk and row by row, and it survives JSON', () => {
    const bulk = numericDriftReference(x);
    const builder = new DriftReferenceBuilder([{ name: 'x', kind: 'numeric' }]);
    for (const v of x) builder.add({ x: v });
    const streamed = builder.finish().x;
    expect(bulk.sketch).toBeDefined();
    expect(streamed.kind === 'numeric' && streamed.sketch).toEqual(bulk.sketch);
    expect(bulk.sketch!.counts.reduce((a, b) => a + b, 0)).toBe(rows);
    // PSI cut points are sketch edges, so their proportions are exact sums of counts.
    for (const edge of bulk.bins.edges) expect(bulk.sketch!.edges).toContain(edge);
    const exactBelowFirstCut = x.filter((v) => v <= bulk.bins.edges[0]).length / rows;
    expect(bulk.bins.proportions[0]).toBeCloseTo(exactBelowFirstCut, 12);
    expect(driftReferenceSchema.safeParse(JSON.parse(JSON.stringify(bulk))).success).toBe(true);
  });

  it('reports the same drift from a chunked window as from the whole columns, with bounds', () => {
    const reference = { x: numericDriftReference(x), y: numericDriftReference(y), g: categoricalDriftReference(g) };
    const shifted = normal(20_000, 12, 53, 10);
    const same = normal(20_000, 13);
    const groups = Array.from({ length: 20_000 }, (_, i) => ['a', 'b', 'c', 'd'][i % 4]);
    const window = new DriftWindow(reference, ['x', 'y', 'g']);
    for (let start = 0; start < 20_000; start += 3_000) {
      const end = Math.min(20_000, start + 3_000);
      // Rows for half of the chunks, columns for the others: both ways in.
      if ((start / 3_000) % 2 === 0)
        window.addRows(shifted.slice(start, end).map((v, i) => ({ x: v, y: same[start + i], g: groups[start + i] })));
      else window.addColumns({ x: shifted.slice(start, end), y: same.slice(start, end), g: groups.slice(start, end) }, end - start);
    }
    const chunked = evaluateDrift({ reference, current: { window }, features: ['x', 'y', 'g'], config: { statistics: 'all' } });
    const whole = evaluateDrift({
      reference,
      current: { columns: { x: shifted, y: same, g: groups }, rowCount: 20_000 },
      features: ['x', 'y', 'g'],
      config: { statistics: 'all' },
    });
    expect(chunked.rowCount).toBe(20_000);
    expect(chunked.dataset.driftedColumns).toEqual(['x', 'g']);
    expect(chunked.dataset.driftedColumns).toEqual(whole.dataset.driftedColumns);
    const [cx, cy, cg] = chunked.columns;
    expect(cx.method).toBe('wasserstein');
    expect(cx.exact).toBe(false);
    expect(cx.errorBound).toBeGreaterThan(0);
    // The sample-based score of the whole-column path and the sketch's agree within the bound and the sample's noise.
    expect(Math.abs(cx.score! - whole.columns[0].score!)).toBeLessThan(cx.errorBound! + 0.05);
    expect(cy.status).toBe('ok');
    // PSI is exact on both paths: the same cut points, every value counted.
    expect(cy.statistics.psi).toBeCloseTo(whole.columns[1].statistics.psi!, 12);
    expect(cg.statistics).toEqual(whole.columns[2].statistics);
  });

  it('keeps a window column absent when no chunk had it, and compares references without a sketch exactly', () => {
    const small = numericDriftReference(normal(500, 20));
    expect(small.sketch).toBeUndefined();
    const reference = { s: small, x: numericDriftReference(x) };
    const window = new DriftWindow(reference, ['s', 'x']);
    const s = normal(800, 21);
    window.addRows(s.map((v) => ({ s: v })));
    const result = evaluateDrift({ reference, current: { window }, features: ['s', 'x'] });
    const exact = evaluateDrift({ reference: { s: small }, current: { columns: { s }, rowCount: 800 }, features: ['s'] });
    expect(result.columns[0]).toEqual(exact.columns[0]);
    expect(result.columns[1].status).toBe('absent');
  });
});
