/**
 * Builds ONNX ModelProto bytes from a plain description: used by tests, examples and training
 * scripts that export models without a Python toolchain.
 */
import protobuf from 'protobufjs/minimal.js';
import type { onnx } from 'onnx-proto';
import { AttrType, DataType, proto } from './proto.ts';

/**
 * An attribute value. An integral number is INT, any other number FLOAT, except for the float
 * attributes of standard ops listed in FLOAT_ATTRS (Gemm alpha = 1 is FLOAT 1.0); a bare number[] is
 * INTS. Use `{ floats }` / `{ ints }` when a list's type must not depend on its values. A tensor is
 * float32 or, from a BigInt64Array, int64 (PyTorch's Constant shapes and indices).
 */
export type AttrValue =
  | number
  | number[]
  | string
  | { ints: number[] }
  | { floats: number[] }
  | { strings: string[] }
  | { tensor: { dims: number[]; data: Float32Array | BigInt64Array } }
  | { sparse: BuildSparse }
  | { graph: BuildGraph }
  /** Inside a function body: the calling node's attribute `ref`, of the given type. */
  | { ref: string; type: keyof typeof AttrType };

/** A subgraph attribute (If's branches, a Loop's body): its nodes, outputs and own initializers; it reads outer values by name. */
export interface BuildGraph {
  /** A Loop body's inputs (iteration, condition, carried values). */
  inputs?: BuildValue[];
  nodes: BuildNode[];
  outputs: BuildValue[];
  initializers?: BuildTensor[];
}

/** Scalar attributes that the ONNX spec types FLOAT, by op: an integral JS number there is still a float. */
const FLOAT_ATTRS: Readonly<Record<string, readonly string[]>> = {
  // Attention: ONNX's (scale, softcap) and ONNX Runtime's com.microsoft one (mask_filter_value).
  Attention: ['scale', 'softcap', 'mask_filter_value'],
  BatchNormalization: ['epsilon', 'momentum'],
  Celu: ['alpha'],
  Clip: ['min', 'max'],
  Constant: ['value_float'],
  Dropout: ['ratio'],
  Elu: ['alpha'],
  EmbedLayerNormalization: ['epsilon'],
  FusedGemm: ['alpha', 'beta', 'activation_alpha', 'activation_beta', 'activation_gamma'],
  FusedMatMul: ['alpha'],
  Gemm: ['alpha', 'beta'],
  GroupNormalization: ['epsilon'],
  GroupQueryAttention: ['scale', 'softcap'],
  GRU: ['clip'],
  HardSigmoid: ['alpha', 'beta'],
  InstanceNormalization: ['epsilon'],
  LayerNormalization: ['epsilon'],
  LeakyRelu: ['alpha'],
  LSTM: ['clip'],
  MultiHeadAttention: ['scale', 'mask_filter_value'],
  QLinearLeakyRelu: ['alpha'],
  QuickGelu: ['alpha'],
  RMSNormalization: ['epsilon'],
  RNN: ['clip'],
  Selu: ['alpha', 'gamma'],
  Shrink: ['bias', 'lambd'],
  SimplifiedLayerNormalization: ['epsilon'],
  SkipLayerNormalization: ['epsilon'],
  SkipSimplifiedLayerNormalization: ['epsilon'],
  ThresholdedRelu: ['alpha'],
};

/** List attributes typed FLOATS by the spec, by op. */
const FLOATS_ATTRS: Readonly<Record<string, readonly string[]>> = {
  Constant: ['value_floats'],
  GRU: ['activation_alpha', 'activation_beta'],
  LSTM: ['activation_alpha', 'activation_beta'],
  RNN: ['activation_alpha', 'activation_beta'],
};

export interface BuildNode {
  op: string;
  /** The op's domain (a model-local function's); default the ONNX domain. */
  domain?: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, AttrValue>;
}

export interface BuildTensor {
  name: string;
  dims: number[];
  /** float32, float64, int64, int32 (a quantized bias), or int8 / uint8 (quantized weights and zero points). */
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;
  /** Store in raw_data (little-endian) rather than the typed fields; default true. */
  raw?: boolean;
}

/** A graph input or output: float32, dims numeric or symbolic (a string names the dim). */
export interface BuildValue {
  name: string;
  dims: (number | string)[];
}

/** A sparse tensor (a pruned weight): its nonzero values [NNZ], named, at linear [NNZ] or coordinate [NNZ, rank] indices. */
export interface BuildSparse {
  dims: number[];
  values: BuildTensor;
  indices: { dims: number[]; data: BigInt64Array };
}

/** A model-local function (FunctionProto): its formal inputs and outputs, attributes and body. */
export interface BuildFunction {
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** Attribute names it takes without defaults. */
  attributes?: string[];
  /** Attributes with defaults (attribute_proto, IR 9). */
  defaults?: Record<string, AttrValue>;
  nodes: BuildNode[];
  /** Its default-domain opset; default the model's. */
  opset?: number;
}

export interface BuildModel {
  /** Default-domain opset; default 13. */
  opset?: number;
  functions?: BuildFunction[];
  inputs: BuildValue[];
  outputs: BuildValue[];
  initializers?: BuildTensor[];
  sparseInitializers?: BuildSparse[];
  nodes: BuildNode[];
  graphName?: string;
  producer?: string;
}

/** Encodes an ONNX ModelProto (float32 I/O). */
export function buildOnnxModel(m: BuildModel): Uint8Array {
  const opset = m.opset ?? 13;
  const model: onnx.IModelProto = {
    irVersion: irVersionFor(opset),
    producerName: m.producer ?? 'xbarsim',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: m.graphName ?? 'graph',
      input: m.inputs.map(valueInfo),
      output: m.outputs.map(valueInfo),
      initializer: (m.initializers ?? []).map(tensorProto),
      sparseInitializer: (m.sparseInitializers ?? []).map(sparseProto),
      node: m.nodes.map((n, i) => nodeProto(n, i)),
    },
  };
  const fns = m.functions ?? [];
  // Function domains, and those of other nodes (ONNX Runtime's com.microsoft contrib ops), at version 1.
  const domains = new Set([...fns.map((f) => f.domain), ...m.nodes.flatMap((n) => (n.domain ? [n.domain] : []))]);
  for (const d of domains) model.opsetImport!.push({ domain: d, version: 1 });
  // ModelProto.functions (field 25), each FunctionProto with its attribute_proto (field 11), which
  // onnx-proto's ONNX 1.10 schema lacks, written by hand.
  const w = protobuf.Writer.create();
  for (const f of fns) {
    const fw = proto.FunctionProto.encode({
      name: f.name, domain: f.domain, input: f.inputs, output: f.outputs, attribute: f.attributes ?? [],
      node: f.nodes.map((n, i) => nodeProto(n, i)),
      opsetImport: [{ domain: '', version: f.opset ?? opset }, ...[...new Set(f.nodes.flatMap((n) => (n.domain ? [n.domain] : [])))].map((domain) => ({ domain, version: 1 }))],
    });
    for (const [name, v] of Object.entries(f.defaults ?? {})) fw.uint32((11 << 3) | 2).bytes(proto.AttributeProto.encode(attribute('', name, v)).finish());
    w.uint32((25 << 3) | 2).bytes(fw.finish());
  }
  const head = proto.ModelProto.encode(model).finish();
  const tail = w.finish();
  // In Node protobufjs hands back a Buffer, possibly a slice of a shared pool: return plain, owned bytes.
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

function sparseProto(s: BuildSparse): onnx.ISparseTensorProto {
  return { dims: s.dims, values: tensorProto(s.values), indices: tensorProto({ name: '', ...s.indices }) };
}

/** The IR version that the ONNX release introducing `opset` writes, so strict checkers accept the file. */
function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function valueInfo(v: BuildValue): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: v.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** Encodes a tensor's values; raw_data is little-endian whatever the host's byte order. */
function tensorProto(t: BuildTensor): onnx.ITensorProto {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) {
    throw new Error(`tensor ${t.name}: dims [${t.dims.join(', ')}] hold ${n} values, data has ${t.data.length}`);
  }
  const raw = t.raw ?? true;
  const out: onnx.ITensorProto = { name: t.name, dims: t.dims };
  if (t.data instanceof Float32Array) {
    out.dataType = DataType.FLOAT;
    if (raw) out.rawData = rawBytes(t.data, 4, (v, i, x) => v.setFloat32(i, x[i / 4], true));
    else out.floatData = Array.from(t.data);
  } else if (t.data instanceof Float64Array) {
    out.dataType = DataType.DOUBLE;
    if (raw) out.rawData = rawBytes(t.data, 8, (v, i, x) => v.setFloat64(i, x[i / 8], true));
    else out.doubleData = Array.from(t.data);
  } else if (t.data instanceof Int8Array || t.data instanceof Uint8Array) {
    out.dataType = t.data instanceof Int8Array ? DataType.INT8 : DataType.UINT8;
    if (raw) out.rawData = Uint8Array.from(t.data, (x) => x & 0xff);
    else out.int32Data = Array.from(t.data);
  } else if (t.data instanceof Int32Array) {
    out.dataType = DataType.INT32;
    if (raw) out.rawData = rawBytes(t.data, 4, (v, i, x) => v.setInt32(i, x[i / 4], true));
    else out.int32Data = Array.from(t.data);
  } else {
    out.dataType = DataType.INT64;
    if (raw) out.rawData = rawBytes(t.data, 8, (v, i, x) => v.setBigInt64(i, x[i / 8], true));
    else out.int64Data = Array.from(t.data, (x) => Number(x));
  }
  return out;
}

function rawBytes<T extends { length: number }>(
  data: T,
  bytesPer: number,
  put: (view: DataView, byteIndex: number, data: T) => void,
): Uint8Array {
  const bytes = new Uint8Array(data.length * bytesPer);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < bytes.length; i += bytesPer) put(view, i, data);
  return bytes;
}

function nodeProto(n: BuildNode, index: number): onnx.INodeProto {
  return {
    opType: n.op,
    ...(n.domain ? { domain: n.domain } : {}),
    name: n.name ?? `${n.op}_${index}`,
    input: n.inputs,
    output: n.outputs,
    attribute: Object.entries(n.attrs ?? {}).map(([name, v]) => attribute(n.op, name, v)),
  };
}

function attribute(op: string, name: string, v: AttrValue): onnx.IAttributeProto {
  if (typeof v === 'number') {
    const isFloat = !Number.isInteger(v) || (FLOAT_ATTRS[op] ?? []).includes(name);
    return isFloat ? { name, type: AttrType.FLOAT, f: v } : { name, type: AttrType.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    if ((FLOATS_ATTRS[op] ?? []).includes(name)) return { name, type: AttrType.FLOATS, floats: v };
    return { name, type: AttrType.INTS, ints: v };
  }
  if ('ints' in v) return { name, type: AttrType.INTS, ints: v.ints };
  if ('floats' in v) return { name, type: AttrType.FLOATS, floats: v.floats };
  if ('strings' in v) return { name, type: AttrType.STRINGS, strings: v.strings.map((s) => new TextEncoder().encode(s)) };
  if ('ref' in v) return { name, type: AttrType[v.type], refAttrName: v.ref };
  if ('sparse' in v) return { name, type: AttrType.SPARSE_TENSOR, sparseTensor: sparseProto(v.sparse) };
  if ('graph' in v) {
    const g = v.graph;
    const node = g.nodes.map((n, i) => nodeProto({ ...n, name: n.name ?? `${name}/${n.op}_${i}` }, i));
    return { name, type: AttrType.GRAPH, g: { name, node, input: (g.inputs ?? []).map(valueInfo), output: g.outputs.map(valueInfo), initializer: (g.initializers ?? []).map(tensorProto) } };
  }
  return { name, type: AttrType.TENSOR, t: tensorProto({ name: '', dims: v.tensor.dims, data: v.tensor.data }) };
}
