#!/usr/bin/env node
// A bring-your-own trainer for keel, in plain Node.js with no dependencies (it could as well be
// Python, R or Go): it reads the prepared splits keel wrote, fits a deliberately simple model —
// the mean of the delay rates of each categorical feature's value — and writes model.onnx and
// metrics.json. Numeric features are inputs of the graph (keel's contract) but unused.
//
// Contract with keel: working directory holds train.csv, validation.csv, params.json
// ({ params, features: [{name, kind}], target }); write model.onnx and metrics.json there.
import { readFileSync, writeFileSync } from 'node:fs';

const { params, features, target } = JSON.parse(readFileSync('params.json', 'utf8'));
if (params.fail) {
  console.error(`failing on purpose: ${params.fail}`);
  process.exit(3);
}
const train = readCsv('train.csv');
const validation = readCsv('validation.csv');
const smoothing = Number(params.smoothing ?? 20);

const base = mean(train.map((r) => Number(r[target])));
const categorical = features.filter((f) => f.kind === 'categorical');
const rates = categorical.map(({ name }) => {
  const sums = new Map();
  for (const row of train) {
    const [s, n] = sums.get(row[name]) ?? [0, 0];
    sums.set(row[name], [s + Number(row[target]), n + 1]);
  }
  // Smoothed towards the overall rate so rare categories don't get extreme rates.
  return { name, table: [...sums].map(([key, [s, n]]) => [key, (s + smoothing * base) / (n + smoothing)]) };
});

const predict = (row) => mean(rates.map(({ name, table }) => new Map(table).get(row[name]) ?? base));
const validationProba = validation.map(predict);
const brier = mean(validation.map((row, i) => (validationProba[i] - Number(row[target])) ** 2));

function mean(values) {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function readCsv(file) {
  // keel writes plain values (no commas or quotes in this dataset); a real trainer would use a CSV library.
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const columns = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [columns[i], v])));
}

// --- a minimal ONNX (protobuf) writer ------------------------------------------------------------
function onnxModel() {
  const nodes = rates.map(({ name, table }) =>
    node('LabelEncoder', [name], [`${name}_rate`], 'ai.onnx.ml', [
      attr.strings(
        'keys_strings',
        table.map(([k]) => k),
      ),
      attr.floats(
        'values_floats',
        table.map(([, v]) => v),
      ),
      attr.float('default_float', base),
    ]),
  );
  nodes.push(
    node(
      'Sum',
      rates.map(({ name }) => `${name}_rate`),
      ['rate_sum'],
    ),
    node('Div', ['rate_sum', 'count'], ['probability']),
    node('Greater', ['probability', 'threshold'], ['is_late']),
    node('Cast', ['is_late'], ['label'], '', [attr.int('to', 7)]),
  );
  const graph = [
    ...nodes.map((n) => field(1, n)),
    field(2, str('byo_rate_model')),
    field(5, tensor('count', [rates.length])),
    field(5, tensor('threshold', [base])),
    ...features.map((f) => field(11, valueInfo(f.name, f.kind === 'numeric' ? 1 : 8))),
    field(12, valueInfo('probability', 1)),
    field(12, valueInfo('label', 7)),
  ];
  return Buffer.concat([
    varintField(1, 8),
    field(8, Buffer.concat([field(1, str('')), varintField(2, 13)])),
    field(8, Buffer.concat([field(1, str('ai.onnx.ml')), varintField(2, 3)])),
    field(2, str('byo-example')),
    field(7, Buffer.concat(graph)),
  ]);
}

function node(op, inputs, outputs, domain = '', attributes = []) {
  return Buffer.concat([
    ...inputs.map((i) => field(1, str(i))),
    ...outputs.map((o) => field(2, str(o))),
    field(4, str(op)),
    ...attributes.map((a) => field(5, a)),
    field(7, str(domain)),
  ]);
}

const attr = {
  float: (name, v) => Buffer.concat([field(1, str(name)), fixed32(2, v), varintField(20, 1)]),
  int: (name, v) => Buffer.concat([field(1, str(name)), varintField(3, v), varintField(20, 2)]),
  floats: (name, vs) => Buffer.concat([field(1, str(name)), ...vs.map((v) => fixed32(7, v)), varintField(20, 6)]),
  strings: (name, vs) => Buffer.concat([field(1, str(name)), ...vs.map((v) => field(9, str(v))), varintField(20, 8)]),
};

function tensor(name, values) {
  const data = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => data.writeFloatLE(v, i * 4));
  return Buffer.concat([varintField(2, 1), field(8, str(name)), field(9, data)]); // scalar: no dims
}

function valueInfo(name, elemType) {
  const shape = Buffer.concat([field(1, field(2, str('N'))), field(1, varintField(1, 1))]);
  const tensorType = Buffer.concat([varintField(1, elemType), field(2, shape)]);
  return Buffer.concat([field(1, str(name)), field(2, field(1, tensorType))]);
}

function str(s) {
  return Buffer.from(s, 'utf8');
}
function varint(n) {
  const bytes = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    bytes.push(b);
  } while (v);
  return Buffer.from(bytes);
}
function varintField(number, n) {
  return Buffer.concat([varint(number << 3), varint(n)]);
}
function field(number, bytes) {
  return Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
}
function fixed32(number, value) {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return Buffer.concat([varint((number << 3) | 5), b]);
}

writeFileSync('model.onnx', onnxModel());
writeFileSync('metrics.json', JSON.stringify({ validation_brier: brier, base_rate: base, train_rows: train.length }));
console.log(`trained on ${train.length} rows; validation Brier score ${brier.toFixed(4)}`);
