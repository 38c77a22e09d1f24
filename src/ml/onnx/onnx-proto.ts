import protobuf from 'protobufjs';

/**
 * The part of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto, proto2) that keel writes and
 * reads. Field numbers and types are copied from the official file; messages and fields keel never
 * uses are left out, which protobuf allows (readers skip unknown fields, writers omit them).
 *
 * Tensor data goes in `raw_data` rather than the `[packed = true]` `float_data`: protobufjs 7
 * ignores that option in proto2 text and 8 honours it, so packed fields would make the bytes
 * depend on the library's major version. Only unannotated repeated fields remain, which both
 * write unpacked, as proto2 prescribes.
 */
const onnxProtoSubset = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
  }
  optional string name = 1;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6;
    INT64 = 7; STRING = 8; BOOL = 9; FLOAT16 = 10; DOUBLE = 11; UINT32 = 12; UINT64 = 13;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional string doc_string = 12;
  repeated bytes string_data = 6;
  optional bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** TensorProto.DataType values keel uses. */
export const DataType = { FLOAT: 1, UINT8: 2, INT64: 7, STRING: 8, BOOL: 9, DOUBLE: 11 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values keel uses. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

// Plain-object shapes of the messages, as protobufjs's fromObject takes them (snake_case names,
// bytes as Uint8Array). Only the fields keel sets are declared.

export interface AttributeProto {
  name: string;
  type: (typeof AttributeType)[keyof typeof AttributeType];
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain?: string;
  attribute: AttributeProto[];
}

export interface TensorProto {
  name: string;
  dims: number[];
  data_type: DataTypeCode;
  /** Little-endian element bytes (numeric tensors). */
  raw_data?: Uint8Array;
  /** UTF-8 elements (string tensors). */
  string_data?: Uint8Array[];
}

export interface ValueInfoProto {
  name: string;
  type: {
    tensor_type: {
      elem_type: DataTypeCode;
      shape: { dim: ({ dim_value: number } | { dim_param: string })[] };
    };
  };
}

interface GraphProto {
  name: string;
  doc_string?: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
}

export interface ModelProto {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  doc_string?: string;
  graph: GraphProto;
  metadata_props: { key: string; value: string }[];
}

const modelProto = protobuf.parse(onnxProtoSubset, { keepCase: true }).root.lookupType('onnx.ModelProto');

/** Serialises a model. Same object in, same bytes out: fields are written in a fixed order. */
export function encodeModel(model: ModelProto): Uint8Array {
  const message = modelProto.fromObject(model);
  const problem = modelProto.verify(message);
  if (problem) throw new Error(`invalid ONNX model: ${problem}`);
  return modelProto.encode(message).finish();
}

/** The inputs and outputs a model's graph declares, with their TensorProto.DataType codes. */
export function graphSignature(bytes: Uint8Array): {
  inputs: { name: string; elemType: number }[];
  outputs: { name: string; elemType: number }[];
} {
  let model: { graph?: { input?: ValueInfoProto[]; output?: ValueInfoProto[] } };
  try {
    model = modelProto.toObject(modelProto.decode(bytes), { longs: Number });
  } catch (error) {
    throw new Error(`not an ONNX model: ${(error as Error).message}`);
  }
  if (!model.graph) throw new Error('not an ONNX model: it has no graph');
  const describe = (value: ValueInfoProto) => ({ name: value.name, elemType: value.type?.tensor_type?.elem_type });
  return { inputs: (model.graph.input ?? []).map(describe), outputs: (model.graph.output ?? []).map(describe) };
}

/** Parses a model keel wrote back into the plain shape `encodeModel` takes (int64 as numbers). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const decoded = modelProto.toObject(modelProto.decode(bytes), { longs: Number, arrays: true }) as ModelProto;
  return decoded;
}
