import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { datePart } from '../../src/ml/date-parts';
import { datePartNames } from '../../src/shared/feature-spec';
import { datePartNodes } from '../../src/ml/onnx/date-part-nodes';
import { tensorValueInfo } from '../../src/ml/onnx/graph-builder';
import { DataType, encodeModel, type NodeProto, type TensorProto } from '../../src/ml/onnx/onnx-proto';
import { MAX_TIMESTAMP_MS, readTimestamp } from '../../src/ml/row';
import { seededRandom } from './support/synthetic';

const DAY = 86_400_000;

/** A graph with one float64 input `t` and every date part as a float64 output. */
function datePartsGraph(): Uint8Array {
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const outputs = datePartNodes('t', datePartNames, nodes, initializers);
  return encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'keel-test',
    metadata_props: [],
    graph: {
      name: 'date_parts',
      node: nodes,
      initializer: initializers,
      input: [tensorValueInfo('t', DataType.DOUBLE, ['N', 1])],
      output: datePartNames.map((part) => tensorValueInfo(outputs[part], DataType.DOUBLE, ['N', 1])),
    },
  });
}

async function graphParts(timestamps: number[]): Promise<Record<string, Float64Array>> {
  const session = await InferenceSession.create(datePartsGraph());
  const outputs = datePartNodes('t', datePartNames, [], []);
  const result = await session.run({ t: new Tensor('float64', Float64Array.from(timestamps), [timestamps.length, 1]) });
  return Object.fromEntries(datePartNames.map((part) => [part, result[outputs[part]].data as Float64Array]));
}

describe('date parts in the ONNX graph', () => {
  it('equal the UTC parts of a Date over the whole range of a Date, at day boundaries and before 1970', async () => {
    const random = seededRandom(7);
    const timestamps: number[] = [
      0,
      -1,
      1,
      DAY - 1,
      DAY,
      -DAY,
      -DAY - 1,
      MAX_TIMESTAMP_MS,
      -MAX_TIMESTAMP_MS,
      MAX_TIMESTAMP_MS - 1,
      -MAX_TIMESTAMP_MS + 1,
    ];
    for (const iso of [
      '1900-02-28T23:59:59.999Z',
      '1900-03-01T00:00:00Z',
      '2000-02-29T12:00:00Z',
      '1600-02-29T00:00:00Z',
      '0000-03-01T00:00:00Z',
      '1969-12-31T23:00:00Z',
      '2100-03-01T00:00:00Z',
    ]) {
      timestamps.push(Date.parse(iso));
    }
    for (let i = 0; i < 20_000; i++) {
      // Uniform over the range, plus whole days ± 1 ms far from 1970, where a rounded quotient could slip.
      const ms = Math.floor((random() * 2 - 1) * MAX_TIMESTAMP_MS);
      const day = Math.round(ms / DAY) * DAY;
      timestamps.push(
        ms,
        Math.max(-MAX_TIMESTAMP_MS, Math.min(MAX_TIMESTAMP_MS, day - 1)),
        Math.max(-MAX_TIMESTAMP_MS, Math.min(MAX_TIMESTAMP_MS, day)),
      );
    }
    const parts = await graphParts(timestamps);
    for (const part of datePartNames) {
      const mismatches = timestamps.filter((ms, i) => parts[part][i] !== datePart(ms, part));
      expect(mismatches.slice(0, 3).map((ms) => `${part} of ${ms} (${new Date(ms).toISOString()})`)).toEqual([]);
    }
    // Spot checks against the calendar, not just against Date.
    const at = (iso: string) => timestamps.indexOf(Date.parse(iso));
    expect(parts.weekday[at('2000-02-29T12:00:00Z')]).toBe(2); // a Tuesday (0 = Sunday)
    expect(parts.dayOfMonth[at('2000-02-29T12:00:00Z')]).toBe(29);
    expect(parts.year[at('1969-12-31T23:00:00Z')]).toBe(1969);
    expect(parts.hour[at('1969-12-31T23:00:00Z')]).toBe(23);
    expect(parts.weekday[timestamps.indexOf(0)]).toBe(4); // 1970-01-01: a Thursday
  });

  it('gives missing parts for NaN, ±Infinity and times outside a Date, and floors fractional milliseconds', async () => {
    const inputs = [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      MAX_TIMESTAMP_MS + 1,
      -MAX_TIMESTAMP_MS - 1,
      1e300,
      -0.5,
      0.5,
    ];
    const parts = await graphParts(inputs);
    for (const part of datePartNames) {
      expect(Array.from(parts[part].slice(0, 6)).every(Number.isNaN), part).toBe(true);
      // -0.5 ms is 1969-12-31T23:59:59.999 (floored, as readTimestamp floors), 0.5 ms is 1970.
      expect(parts[part][6], part).toBe(datePart(readTimestamp(-0.5), part));
      expect(parts[part][7], part).toBe(datePart(0, part));
    }
    expect(parts.year[6]).toBe(1969);
  });
});
