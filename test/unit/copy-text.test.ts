import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeCopyText } from '../../src/db/copy-text';
import { openDatabase } from '../../src/db/database';
import { datasetRows } from '../../src/db/schema';

describe('COPY text encoding', () => {
  it('escapes backslash, tab, newline and carriage return, and writes null as \\N', () => {
    const text = [...encodeCopyText([['a\tb', 'c\\d', null, 'e\nf\rg', 3]])].join('');
    expect(text).toBe('a\\tb\tc\\\\d\t\\N\te\\nf\\rg\t3\n');
  });

  it('round-trips awkward JSON through COPY into PGlite unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-copy-'));
    const database = await openDatabase({ dataDir: dir });
    try {
      const data = { text: 'tab\there "quoted" back\\slash\nnew line', nested: { n: null, v: [1, 2.5] } };
      await database.copyRows('dataset_rows', ['dataset_version_id', 'row_index', 'data'], [['v', 0, data]]);
      const [row] = await database.db.select().from(datasetRows);
      expect(row.data).toEqual(data);
    } finally {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
