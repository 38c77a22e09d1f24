import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { resolveSourcePath } from '../../src/data/parquet-source';

/** The flights of vega-datasets' flights-3m.parquet as columns (dates as UTC ms of their local-naive time). */
export interface FlightColumns {
  rows: number;
  time: Float64Array;
  delay: Float64Array;
  distance: Float64Array;
  /** Airport codes as indexes into `airports` (3 M strings would cost hundreds of MB). */
  origin: Uint16Array;
  destination: Uint16Array;
  airports: string[];
}

/** Reads every flight in [fromMs, toMs) column by column (about 3 M rows; no row objects). */
export async function readFlightColumns(fromMs = Number.NEGATIVE_INFINITY, toMs = Number.POSITIVE_INFINITY): Promise<FlightColumns> {
  const file = await asyncBufferFromFile(resolveSourcePath('vega-datasets:flights-3m.parquet'));
  const metadata = await parquetMetadataAsync(file);
  const n = Number(metadata.num_rows);
  const time = new Float64Array(n);
  const delay = new Float64Array(n);
  const distance = new Float64Array(n);
  const origin = new Uint16Array(n);
  const destination = new Uint16Array(n);
  const airports: string[] = [];
  const codes = new Map<string, number>();
  const code = (name: string) => {
    let c = codes.get(name);
    if (c === undefined) codes.set(name, (c = airports.push(name) - 1));
    return c;
  };
  await parquetRead({
    file,
    metadata,
    compressors,
    columns: ['date', 'delay', 'distance', 'origin', 'destination'],
    onChunk: ({ columnName, columnData, rowStart }) => {
      for (let i = 0; i < columnData.length; i++) {
        const value = columnData[i] as unknown;
        const row = rowStart + i;
        if (columnName === 'date') time[row] = value instanceof Date ? value.getTime() : Number(value);
        else if (columnName === 'delay') delay[row] = Number(value);
        else if (columnName === 'distance') distance[row] = Number(value);
        else if (columnName === 'origin') origin[row] = code(String(value));
        else destination[row] = code(String(value));
      }
    },
  });
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (time[i] >= fromMs && time[i] < toMs) keep.push(i);
  if (keep.length === n) return { rows: n, time, delay, distance, origin, destination, airports };
  return {
    rows: keep.length,
    time: Float64Array.from(keep, (i) => time[i]),
    delay: Float64Array.from(keep, (i) => delay[i]),
    distance: Float64Array.from(keep, (i) => distance[i]),
    origin: Uint16Array.from(keep, (i) => origin[i]),
    destination: Uint16Array.from(keep, (i) => destination[i]),
    airports,
  };
}
