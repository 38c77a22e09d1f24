import type { ColumnProfile, DatasetProfile } from '../../data/profile';
import { base, type ChartSpec } from './spec';

const small = { width: 260, height: 150 };

/** A column's distribution: a histogram (numbers), its top categories (strings) or true/false (booleans); none for dates. */
export function columnDistributionSpec(column: string, profile: ColumnProfile): ChartSpec | undefined {
  switch (profile.type) {
    case 'number':
      return profile.histogram ? histogramSpec(column, profile.histogram) : undefined;
    case 'string':
      return profile.top.length ? categoriesSpec(column, profile.top, profile.count) : undefined;
    case 'boolean':
      return categoriesSpec(
        column,
        [
          { value: 'true', count: profile.trueCount },
          { value: 'false', count: profile.count - profile.trueCount },
        ],
        profile.count,
      );
    default:
      return undefined;
  }
}

function histogramSpec(column: string, histogram: { edges: number[]; counts: number[] }): ChartSpec {
  const values = histogram.counts.map((count, i) => ({ from: histogram.edges[i], to: histogram.edges[i + 1], count }));
  return {
    ...base(column, small),
    data: { name: 'histogram', values },
    mark: { type: 'bar', binSpacing: 0 },
    encoding: {
      x: { field: 'from', type: 'quantitative', bin: { binned: true }, title: column },
      x2: { field: 'to' },
      y: { field: 'count', type: 'quantitative', title: 'rows' },
      tooltip: [
        { field: 'from', type: 'quantitative', format: '.4~f' },
        { field: 'to', type: 'quantitative', format: '.4~f' },
        { field: 'count', type: 'quantitative', format: ',' },
      ],
    },
  };
}

function categoriesSpec(column: string, top: { value: string; count: number }[], present: number): ChartSpec {
  const values = top.map((t) => ({ value: t.value, count: t.count, share: present ? t.count / present : 0 }));
  return {
    ...base(`${column} (top ${top.length})`, { width: 260, height: Math.max(60, 16 * top.length) }),
    data: { name: 'categories', values },
    mark: 'bar',
    encoding: {
      y: { field: 'value', type: 'nominal', title: null, sort: '-x' },
      x: { field: 'count', type: 'quantitative', title: 'rows' },
      tooltip: [
        { field: 'value', type: 'nominal' },
        { field: 'count', type: 'quantitative', format: ',' },
        { field: 'share', type: 'quantitative', format: '.2%' },
      ],
    },
  };
}

/** The share of missing values per column (0 drawn too: a column without nulls is news as well). */
export function nullShareSpec(profile: DatasetProfile): ChartSpec {
  const values = Object.entries(profile).map(([column, p]) => ({
    column,
    nulls: p.nulls,
    share: p.count + p.nulls ? p.nulls / (p.count + p.nulls) : 0,
  }));
  const none = values.every((v) => v.share === 0);
  return {
    ...base('Null share per column', { width: 360, height: Math.max(60, 18 * values.length) }),
    data: { name: 'null_share', values },
    mark: 'bar',
    encoding: {
      y: { field: 'column', type: 'nominal', title: null },
      // Without any null the domain would be [0, 0], drawn as one tick reading 0.000000 %.
      x: none
        ? {
            field: 'share',
            type: 'quantitative',
            title: 'share of rows missing (no column has a null)',
            axis: { format: '%' },
            scale: { domain: [0, 0.01] },
          }
        : { field: 'share', type: 'quantitative', title: 'share of rows missing', axis: { format: '%' }, scale: { domainMin: 0 } },
      tooltip: [
        { field: 'column', type: 'nominal' },
        { field: 'nulls', type: 'quantitative', format: ',' },
        { field: 'share', type: 'quantitative', format: '.3%' },
      ],
    },
  };
}

export interface CorrelationMatrix {
  columns: string[];
  /** Pearson r, row-major; null when a column is constant over the sample. */
  r: (number | null)[][];
  /** Rows the correlations were computed from. */
  rows: number;
}

/** Pearson correlations between the numeric columns as a diverging heat map, each cell labelled. */
export function correlationSpec(matrix: CorrelationMatrix): ChartSpec {
  const values = matrix.columns.flatMap((a, i) => matrix.columns.map((b, j) => ({ a, b, r: matrix.r[i][j] })));
  const size = Math.min(480, 60 * matrix.columns.length + 40);
  return {
    ...base(`Correlations (Pearson, ${matrix.rows.toLocaleString('en')} sampled rows)`, { width: size, height: size }),
    data: { name: 'correlations', values },
    encoding: {
      x: { field: 'a', type: 'nominal', title: null, sort: matrix.columns },
      y: { field: 'b', type: 'nominal', title: null, sort: matrix.columns },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: { field: 'r', type: 'quantitative', title: 'r', scale: { domain: [-1, 1], scheme: 'redblue', reverse: true } },
          tooltip: [
            { field: 'a', type: 'nominal' },
            { field: 'b', type: 'nominal' },
            { field: 'r', type: 'quantitative', format: '.3f' },
          ],
        },
      },
      { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'r', type: 'quantitative', format: '.2f' } } },
    ],
  };
}
