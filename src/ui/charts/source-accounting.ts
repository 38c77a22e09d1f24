import { base, type ChartSpec } from './spec';

/** One source's records: read = accepted + quarantined + duplicates. */
export interface SourceCounts {
  source: string;
  accepted: number;
  quarantined: number;
  duplicates: number;
}

const outcomes = ['accepted', 'quarantined', 'duplicates'] as const;

/** A stacked bar per source (and the dataset's total): what became of every record read. */
export function sourceAccountingSpec(sources: SourceCounts[]): ChartSpec {
  const values = sources.flatMap((s) => {
    const read = s.accepted + s.quarantined + s.duplicates;
    return outcomes.map((outcome, order) => ({
      source: s.source,
      outcome,
      order,
      records: s[outcome],
      share: read ? s[outcome] / read : 0,
      read,
    }));
  });
  return {
    ...base('Records read: accepted + quarantined + duplicates', { width: 520, height: Math.max(40, 34 * sources.length) }),
    data: { name: 'source_accounting', values },
    mark: 'bar',
    encoding: {
      y: { field: 'source', type: 'nominal', title: null, sort: sources.map((s) => s.source) },
      x: { field: 'records', type: 'quantitative', title: 'records', stack: 'zero' },
      color: {
        field: 'outcome',
        type: 'nominal',
        title: null,
        sort: [...outcomes],
        scale: { domain: [...outcomes], range: ['#4c78a8', '#e45756', '#bab0ac'] },
      },
      order: { field: 'order', type: 'quantitative' },
      tooltip: [
        { field: 'source', type: 'nominal' },
        { field: 'outcome', type: 'nominal' },
        { field: 'records', type: 'quantitative', format: ',' },
        { field: 'share', type: 'quantitative', format: '.2%' },
        { field: 'read', type: 'quantitative', format: ',' },
      ],
    },
  };
}
