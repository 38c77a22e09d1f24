import { CsvError, parse } from 'csv-parse';
import { InvalidInputError } from '../shared/errors';
import type { CsvSourceSpec } from '../shared/dataset-spec';
import type { OpenedSource, SourceRecord } from './source-types';
import { openTextFile } from './text-file';

/**
 * CSV through csv-parse, streaming: text chunks go in, records come out, never the whole file.
 * Values are strings (the mapping coerces them), `nullValues` (default "") become null.
 *
 * Bad input: a row with another number of fields than the header is quarantined with its line
 * (the rest of the file is fine); an unbalanced quote swallows the rest of the file, so it fails
 * the source with the line where the quote opened; an encoding error fails with its line.
 */
export async function openCsvSource(spec: CsvSourceSpec, name: string): Promise<OpenedSource> {
  const file = await openTextFile(spec.path, 'csv', spec.encoding);
  const nullValues = new Set(spec.nullValues ?? ['']);
  const parser = parse({
    delimiter: spec.delimiter ?? ',',
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
  });
  // Feed the decoded text with backpressure; an error (e.g. encoding) ends the parser with it.
  void (async () => {
    try {
      for await (const text of file.text()) {
        if (!parser.write(text)) await new Promise((resolve) => parser.once('drain', resolve));
      }
      parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();

  const iterator = (parser as AsyncIterable<{ record: string[]; info: { lines: number } }>)[Symbol.asyncIterator]();
  let lastLine = 0;
  const next = async () => {
    try {
      const step = await iterator.next();
      if (!step.done) lastLine = step.value.info.lines;
      return step;
    } catch (error) {
      if (!(error instanceof CsvError)) throw error;
      // csv-parse names the line where parsing stopped; the bad record starts after the last good one.
      const start = error.code === 'CSV_QUOTE_NOT_CLOSED' ? ` (the record with the unclosed quote starts at line ${lastLine + 1})` : '';
      throw new InvalidInputError(`${file.where}: ${error.message}${start}`);
    }
  };

  if (spec.header !== false && spec.columns) {
    await file.close();
    throw new InvalidInputError(`${file.where}: "columns" is for files without a header; set "header": false or drop "columns"`);
  }
  let header: string[];
  if (spec.header === false) {
    header = spec.columns!;
  } else {
    const first = await next();
    header = first.done ? [] : first.value.record.map((field) => field.trim());
    const seen = new Set<string>();
    for (const field of header) {
      if (field === '') throw new InvalidInputError(`${file.where}: the header (line 1) has an empty field name`);
      if (seen.has(field)) throw new InvalidInputError(`${file.where}: the header (line 1) names field "${field}" twice`);
      seen.add(field);
    }
  }

  async function* records(): AsyncGenerator<SourceRecord> {
    let recordNumber = 0;
    try {
      for (;;) {
        const step = await next();
        if (step.done) break;
        const { record: fields, info } = step.value;
        if (fields.length !== header.length) {
          yield {
            recordNumber: recordNumber++,
            record: { line: info.lines, fields },
            unreadable: `line ${info.lines}: has ${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${header.length}`,
          };
          continue;
        }
        const record: Record<string, unknown> = {};
        for (let i = 0; i < header.length; i++) {
          const value = fields[i];
          record[header[i]] = nullValues.has(value) ? null : value;
        }
        yield { recordNumber: recordNumber++, record };
      }
    } finally {
      parser.destroy();
    }
  }

  return {
    name,
    where: file.where,
    fields: header,
    records: records(),
    fraction: () => (file.size > 0 ? Math.min(1, file.bytesRead() / file.size) : 1),
    close: async () => {
      parser.destroy();
      await file.close();
    },
  };
}
