import {
  AttributeType,
  DataType,
  type AttributeProto,
  type DataTypeCode,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx-proto';

/** Small constructors for ONNX graph parts, so graph code reads as a list of operations. */

const utf8 = new TextEncoder();

/** A node named after its first output (output names are unique in a graph, so are node names). */
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: AttributeProto[] = [],
  domain?: 'ai.onnx.ml',
): NodeProto {
  return { input: inputs, output: outputs, name: outputs[0], op_type: opType, attribute: attributes, ...(domain && { domain }) };
}

export const attribute = {
  float: (name: string, f: number): AttributeProto => ({ name, type: AttributeType.FLOAT, f }),
  int: (name: string, i: number): AttributeProto => ({ name, type: AttributeType.INT, i }),
  string: (name: string, s: string): AttributeProto => ({ name, type: AttributeType.STRING, s: utf8.encode(s) }),
  floats: (name: string, floats: number[]): AttributeProto => ({ name, type: AttributeType.FLOATS, floats }),
  tensor: (name: string, t: TensorProto): AttributeProto => ({ name, type: AttributeType.TENSOR, t }),
  ints: (name: string, ints: number[]): AttributeProto => ({ name, type: AttributeType.INTS, ints }),
  strings: (name: string, strings: string[]): AttributeProto => ({
    name,
    type: AttributeType.STRINGS,
    strings: strings.map((s) => utf8.encode(s)),
  }),
};

/** A float32 constant; `values` are rounded to float32. */
export function floatTensor(name: string, dims: number[], values: number[]): TensorProto {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return { name, dims, data_type: DataType.FLOAT, raw_data: bytes };
}

/** A uint8 constant. */
export function uint8Tensor(name: string, dims: number[], values: number[]): TensorProto {
  return { name, dims, data_type: DataType.UINT8, raw_data: Uint8Array.from(values) };
}

/** A string constant (UTF-8). */
export function stringTensor(name: string, dims: number[], values: string[]): TensorProto {
  return { name, dims, data_type: DataType.STRING, string_data: values.map((value) => utf8.encode(value)) };
}

/** An int64 constant. */
export function int64Tensor(name: string, dims: number[], values: number[]): TensorProto {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setBigInt64(i * 8, BigInt(value), true));
  return { name, dims, data_type: DataType.INT64, raw_data: bytes };
}

/** A float64 constant (exact: date arithmetic needs whole milliseconds beyond float32's 2^24). */
export function doubleTensor(name: string, dims: number[], values: number[]): TensorProto {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat64(i * 8, value, true));
  return { name, dims, data_type: DataType.DOUBLE, raw_data: bytes };
}

/** A tensor-typed graph input or output; a string dimension is symbolic (e.g. the batch size). */
export function tensorValueInfo(name: string, elemType: DataTypeCode, dims: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}
