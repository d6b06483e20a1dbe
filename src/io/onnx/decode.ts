/**
 * ONNX bytes → ModelProto, and TensorProto → typed arrays, with one-line UsageErrors for bad files.
 */
import type { onnx } from 'onnx-proto';
import { UsageError, messageOf } from '../../errors.ts';
import { bfloat16ToFloat, halfToFloat } from '../half.ts';
import { embedExternalData, type ExternalDataReader } from './external.ts';
import { DataType, int64ToNumber, proto, quote } from './proto.ts';

/**
 * A decoded model. protobufjs decodes every nested message into a class instance, whose repeated
 * fields are always arrays; these types say so, down to nodes and their attributes.
 */
export type DecodedModel = Omit<onnx.ModelProto, 'graph' | 'opsetImport'> & {
  graph: DecodedGraph;
  opsetImport: onnx.OperatorSetIdProto[];
};
export type DecodedGraph = Omit<onnx.GraphProto, 'node' | 'initializer' | 'input' | 'output' | 'valueInfo'> & {
  node: DecodedNode[];
  initializer: onnx.TensorProto[];
  input: onnx.ValueInfoProto[];
  output: onnx.ValueInfoProto[];
  valueInfo: onnx.ValueInfoProto[];
};
export type DecodedNode = Omit<onnx.NodeProto, 'attribute'> & { attribute: onnx.AttributeProto[] };

/**
 * Decodes and sanity-checks a ModelProto, reading externally stored tensors through `externalData`;
 * any malformed input becomes a one-line UsageError.
 */
export function decodeModel(bytes: Uint8Array, fileLabel: string, externalData?: ExternalDataReader): DecodedModel {
  let model: onnx.ModelProto;
  try {
    model = proto.ModelProto.decode(bytes);
  } catch (e) {
    throw new UsageError(`${fileLabel}: not a valid ONNX file (${messageOf(e)})`);
  }
  // protobuf skips unknown fields, so arbitrary bytes can decode "successfully": insist on the basics.
  if (!model.graph) throw new UsageError(`${fileLabel}: not a valid ONNX file (no graph)`);
  if (int64ToNumber(model.irVersion) <= 0 && model.opsetImport.length === 0) {
    throw new UsageError(`${fileLabel}: not a valid ONNX file (no IR version or opset)`);
  }
  embedExternalData(model, externalData, fileLabel);
  return model as unknown as DecodedModel;
}

/** Human name of a TensorProto data type code. */
export function dataTypeName(code: number): string {
  const names: Record<number, string> = {
    0: 'undefined', 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64',
    8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64',
    15: 'complex128', 16: 'bfloat16', 17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz',
    21: 'uint4', 22: 'int4', 23: 'float4e2m1', 24: 'float8e8m0', 25: 'uint2', 26: 'int2',
  };
  return names[code] ?? `type ${code}`;
}

/** A decoded tensor: floating types as f32, integer and bool types as JS numbers. */
export type DecodedTensor =
  | { kind: 'float'; dims: number[]; data: Float32Array }
  | { kind: 'int'; dims: number[]; data: number[]; elem: number };

/** Reads a TensorProto's values (raw_data or typed fields); `where` prefixes error messages. */
export function decodeTensor(t: onnx.ITensorProto, where: string): DecodedTensor {
  const label = t.name ? `${where}: tensor ${quote(t.name)}` : `${where}: tensor`;
  if (t.dataLocation === 1 || (t.externalData && t.externalData.length > 0)) {
    // decodeModel reads every external tensor of a model; this one came from elsewhere.
    throw new UsageError(`${label} keeps its data in an external file, which was not read`);
  }
  if (t.segment) throw new UsageError(`${label} is segmented, which is not supported`);
  const dims = (t.dims ?? []).map(int64ToNumber);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new UsageError(`${label} has invalid dims [${dims.join(', ')}]`);
  const n = dims.reduce((a, b) => a * b, 1);
  const type = t.dataType ?? 0;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const check = (have: number): void => {
    if (have !== n) {
      throw new UsageError(`${label} (${dataTypeName(type)}, dims [${dims.join(', ')}]) should hold ${n} values, has ${have}`);
    }
  };
  const rawCount = (bytesPer: number): number => {
    if (raw!.length % bytesPer !== 0) throw new UsageError(`${label}: raw_data length ${raw!.length} is not a multiple of ${bytesPer}`);
    return raw!.length / bytesPer;
  };

  switch (type) {
    case DataType.FLOAT: {
      let data: Float32Array;
      if (view) {
        check(rawCount(4));
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, true);
      } else {
        check(t.floatData?.length ?? 0);
        data = Float32Array.from(t.floatData ?? []);
      }
      return { kind: 'float', dims, data };
    }
    case DataType.DOUBLE: {
      let data: Float32Array;
      if (view) {
        check(rawCount(8));
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getFloat64(8 * i, true);
      } else {
        check(t.doubleData?.length ?? 0);
        data = Float32Array.from(t.doubleData ?? []);
      }
      return { kind: 'float', dims, data };
    }
    case DataType.FLOAT16:
    case DataType.BFLOAT16: {
      // Typed 16-bit floats travel as their bit patterns in int32_data.
      const bits: number[] = [];
      if (view) {
        check(rawCount(2));
        for (let i = 0; i < n; i++) bits.push(view.getUint16(2 * i, true));
      } else {
        check(t.int32Data?.length ?? 0);
        for (const b of t.int32Data ?? []) bits.push(b & 0xffff);
      }
      return { kind: 'float', dims, data: Float32Array.from(bits, type === DataType.FLOAT16 ? halfToFloat : bfloat16ToFloat) };
    }
    case DataType.INT64:
    case DataType.UINT64: {
      const data: number[] = [];
      if (view) {
        check(rawCount(8));
        for (let i = 0; i < n; i++) {
          data.push(Number(type === DataType.INT64 ? view.getBigInt64(8 * i, true) : view.getBigUint64(8 * i, true)));
        }
      } else {
        const src = type === DataType.INT64 ? t.int64Data : t.uint64Data;
        check(src?.length ?? 0);
        for (const v of src ?? []) data.push(int64ToNumber(v));
      }
      return { kind: 'int', dims, data, elem: type };
    }
    case DataType.INT32:
    case DataType.INT16:
    case DataType.INT8:
    case DataType.UINT16:
    case DataType.UINT8:
    case DataType.BOOL:
    case DataType.UINT32: {
      const data: number[] = [];
      if (view) {
        const size = type === DataType.INT32 || type === DataType.UINT32 ? 4 : type === DataType.INT16 || type === DataType.UINT16 ? 2 : 1;
        check(rawCount(size));
        for (let i = 0; i < n; i++) {
          const o = i * size;
          switch (type) {
            case DataType.INT32: data.push(view.getInt32(o, true)); break;
            case DataType.UINT32: data.push(view.getUint32(o, true)); break;
            case DataType.INT16: data.push(view.getInt16(o, true)); break;
            case DataType.UINT16: data.push(view.getUint16(o, true)); break;
            case DataType.INT8: data.push(view.getInt8(o)); break;
            default: data.push(view.getUint8(o)); break;
          }
        }
      } else if (type === DataType.UINT32) {
        check(t.uint64Data?.length ?? 0);
        for (const v of t.uint64Data ?? []) data.push(int64ToNumber(v));
      } else {
        check(t.int32Data?.length ?? 0);
        for (const v of t.int32Data ?? []) data.push(v);
      }
      return { kind: 'int', dims, data, elem: type };
    }
    default:
      throw new UsageError(`${label} has data type ${dataTypeName(type)}, which is not supported (float32, float64, float16, bfloat16 and integers are)`);
  }
}

/**
 * A SparseTensorProto (a pruned weight stored as its nonzeros: sparse_initializer, Constant's
 * sparse_value) as the dense tensor it stands for. Its name is its values' name; indices are
 * linear ([NNZ]) or coordinates ([NNZ, rank]), each position given once.
 */
export function decodeSparseTensor(s: onnx.ISparseTensorProto, where: string): DecodedTensor & { name: string } {
  const name = s.values?.name ?? '';
  const label = name ? `${where}: sparse tensor ${quote(name)}` : `${where}: sparse tensor`;
  if (!s.values || !s.indices) throw new UsageError(`${label} has no ${s.values ? 'indices' : 'values'}`);
  const dims = (s.dims ?? []).map(int64ToNumber);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new UsageError(`${label} has invalid dims [${dims.join(', ')}]`);
  const values = decodeTensor(s.values, where);
  const indices = decodeTensor(s.indices, where);
  const nnz = values.data.length;
  if (values.dims.length !== 1) throw new UsageError(`${label}: values have dims [${values.dims.join(', ')}]; they must be 1-D [NNZ]`);
  if (indices.kind !== 'int') throw new UsageError(`${label}: indices are ${dataTypeName(s.indices.dataType ?? 0)}; they must be int64`);
  const linear = indices.dims.length === 1;
  if (!(linear ? indices.dims[0] === nnz : indices.dims.length === 2 && indices.dims[0] === nnz && indices.dims[1] === dims.length)) {
    throw new UsageError(`${label}: indices have dims [${indices.dims.join(', ')}]; ${nnz} values need [${nnz}] or [${nnz}, ${dims.length}]`);
  }
  const n = dims.reduce((a, b) => a * b, 1);
  const at = new Int32Array(nnz);
  for (let k = 0; k < nnz; k++) {
    let flat = 0;
    if (linear) flat = indices.data[k];
    else {
      for (let d = 0; d < dims.length; d++) {
        const i = indices.data[k * dims.length + d];
        if (!(i >= 0 && i < dims[d])) throw new UsageError(`${label}: index ${i} of value ${k} is outside dim ${d} of ${dims[d]}`);
        flat = flat * dims[d] + i;
      }
    }
    if (!(Number.isInteger(flat) && flat >= 0 && flat < n)) throw new UsageError(`${label}: index ${flat} of value ${k} is outside its ${n} elements`);
    at[k] = flat;
  }
  const seen = new Uint8Array(n);
  for (let k = 0; k < nnz; k++) {
    if (seen[at[k]]) throw new UsageError(`${label}: position ${at[k]} is given twice`);
    seen[at[k]] = 1;
  }
  if (values.kind === 'float') {
    const data = new Float32Array(n);
    at.forEach((p, k) => (data[p] = values.data[k]));
    return { name, kind: 'float', dims, data };
  }
  const data = new Array<number>(n).fill(0);
  at.forEach((p, k) => (data[p] = values.data[k]));
  return { name, kind: 'int', dims, data, elem: values.elem };
}
