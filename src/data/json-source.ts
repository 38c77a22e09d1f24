import { JSONParser } from '@streamparser/json';
import { InvalidInputError } from '../shared/errors';
import type { JsonlSourceSpec, JsonSourceSpec } from '../shared/dataset-spec';
import type { OpenedSource, SourceRecord } from './source-types';
import { openTextFile } from './text-file';

/**
 * JSON: one array of records (at the top level, or at `recordsPath`), parsed as a stream, so only
 * the records of one 64 KiB chunk are in memory at a time. Invalid JSON (an HTML error page saved
 * as .json, a truncated file) fails the source with its line; an element that is not an object is
 * quarantined.
 */
export async function openJsonSource(spec: JsonSourceSpec, name: string): Promise<OpenedSource> {
  const file = await openTextFile(spec.path, 'json', spec.encoding);
  const path = spec.recordsPath ? `$.${spec.recordsPath}.*` : '$.*';

  async function* records(): AsyncGenerator<SourceRecord> {
    const parser = new JSONParser({ paths: [path], keepStack: false });
    let pending: { value: unknown; key: unknown }[] = [];
    parser.onValue = ({ value, key }) => void pending.push({ value, key });
    let recordNumber = 0;
    let bytesBefore = 0;
    let linesBefore = 0;
    let first: string | undefined;
    for await (const text of file.text()) {
      first ??= text.trimStart()[0];
      if (parser.isEnded) {
        if (text.trim() !== '')
          throw new InvalidInputError(`${file.where}: unexpected data after the end of the JSON value (line ${linesBefore + 1})`);
        continue;
      }
      try {
        parser.write(text);
      } catch (error) {
        throw jsonError(error as Error, file.where, text, bytesBefore, linesBefore, first);
      }
      bytesBefore += Buffer.byteLength(text);
      linesBefore += countNewlines(text);
      const batch = pending;
      pending = [];
      for (const { value, key } of batch) {
        if (typeof key === 'string') {
          throw new InvalidInputError(
            spec.recordsPath
              ? `${file.where}: ${spec.recordsPath} is an object, not an array of records (found key "${key}")`
              : `${file.where}: the top level is an object, not an array of records (found key "${key}"); set "recordsPath" to the array inside it`,
          );
        }
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          yield {
            recordNumber: recordNumber++,
            record: { value },
            unreadable: `element ${recordNumber - 1} is not an object (got ${JSON.stringify(value)?.slice(0, 40)})`,
          };
        } else {
          yield { recordNumber: recordNumber++, record: value as Record<string, unknown> };
        }
      }
    }
    if (!parser.isEnded) {
      if (first === undefined) throw new InvalidInputError(`${file.where}: the file is empty (expected a JSON array of records)`);
      throw new InvalidInputError(`${file.where}: the JSON ends early (line ${linesBefore + 1}): the file is truncated or not JSON`);
    }
    if (recordNumber === 0 && !spec.recordsPath && first === '{') {
      throw new InvalidInputError(
        `${file.where}: the top level is an object, not an array of records; set "recordsPath" to the array inside it`,
      );
    }
  }

  return {
    name,
    where: file.where,
    fields: null,
    records: records(),
    fraction: () => (file.size > 0 ? Math.min(1, file.bytesRead() / file.size) : 1),
    close: () => file.close(),
  };
}

/**
 * JSONL (one JSON object per line). A line that is not a JSON object is quarantined with its line
 * number and text; blank lines are skipped.
 */
export async function openJsonlSource(spec: JsonlSourceSpec, name: string): Promise<OpenedSource> {
  const file = await openTextFile(spec.path, 'jsonl', spec.encoding);

  async function* records(): AsyncGenerator<SourceRecord> {
    let carry = '';
    let line = 0;
    let recordNumber = 0;
    const take = (text: string): SourceRecord | undefined => {
      line++;
      const trimmed = text.trim();
      if (trimmed === '') return undefined;
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch (error) {
        return {
          recordNumber: recordNumber++,
          record: { line, text: clip(trimmed, 200) },
          unreadable: `line ${line}: not JSON (${(error as Error).message})`,
        };
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return {
          recordNumber: recordNumber++,
          record: { line, value },
          unreadable: `line ${line}: not a JSON object (got ${clip(trimmed, 40)})`,
        };
      }
      return { recordNumber: recordNumber++, record: value as Record<string, unknown> };
    };
    for await (const text of file.text()) {
      const lines = (carry + text).split('\n');
      carry = lines.pop()!;
      for (const one of lines) {
        const record = take(one);
        if (record) yield record;
      }
    }
    const record = take(carry);
    if (record) yield record;
  }

  return {
    name,
    where: file.where,
    fields: null,
    records: records(),
    fraction: () => (file.size > 0 ? Math.min(1, file.bytesRead() / file.size) : 1),
    close: () => file.close(),
  };
}

function jsonError(
  error: Error,
  where: string,
  chunk: string,
  bytesBefore: number,
  linesBefore: number,
  first: string | undefined,
): InvalidInputError {
  const absolute = /absolute position "(\d+)"/.exec(error.message);
  let location = '';
  if (absolute) {
    const offset = Number(absolute[1]);
    const inChunk = Buffer.from(chunk)
      .subarray(0, Math.max(0, offset - bytesBefore))
      .toString();
    location = ` at line ${linesBefore + countNewlines(inChunk) + 1} (byte ${offset})`;
  }
  const hint = first === '<' ? ' — it looks like HTML or XML, not JSON' : '';
  return new InvalidInputError(`${where}: not valid JSON${location}${hint}: ${error.message}`);
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
