import { describe, expect, it } from 'vitest';
import { batchInputFromArgs, parseBatchTarget } from '../../src/cli/batch-command';

describe('keel batch score arguments', () => {
  it('reads --to as a table or a file format with its directory', () => {
    expect(parseBatchTarget('table:daily_scores')).toEqual({ kind: 'table', table: 'daily_scores' });
    expect(parseBatchTarget('parquet:daily/2026-12')).toEqual({ kind: 'files', format: 'parquet', directory: 'daily/2026-12' });
    expect(() => parseBatchTarget('scores.parquet')).toThrow('--to "scores.parquet": expected table:<name>');
  });

  it('builds the workflow input, with a dataset version when one is named', () => {
    expect(batchInputFromArgs('flight-delays@production', 'flights@ab12', { to: 'csv:out', chunkRows: '5000' })).toEqual({
      model: 'flight-delays@production',
      input: { dataset: 'flights', version: 'ab12' },
      output: { kind: 'files', format: 'csv', directory: 'out' },
      chunkRows: 5000,
    });
  });

  it('refuses what the workflow would refuse, naming the field', () => {
    expect(() => batchInputFromArgs('flight-delays', 'flights', { to: 'table:x' })).toThrow('model');
    expect(() => batchInputFromArgs('m@1', 'flights', { to: 'table:x', chunkRows: '0' })).toThrow('chunkRows');
    expect(() => batchInputFromArgs('m@1', 'flights', { to: 'jsonl:../up' })).toThrow('output.directory');
  });
});
