/**
 * Runtime access to the ONNX protobuf classes (onnx-proto, ONNX v1.10 schema, protobufjs static code).
 *
 * onnx-proto is CommonJS with `module.exports = $root`, which Node's ESM loader cannot split into named
 * exports, so the namespace is taken from the default import (works in Node, vitest and Vite alike).
 */
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';

/** The `onnx` protobuf namespace (ModelProto, TensorProto, ...). */
export const proto: typeof onnx = onnxProto.onnx;

/** TensorProto.DataType codes used here. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType codes. */
export const AttrType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

/** A protobufjs 64-bit integer: a number, or a Long-like object when the `long` package is loaded. */
export type Int64Like = number | { low: number; high: number; unsigned?: boolean } | null | undefined;

/** A protobufjs int64 as a JS number (exact below 2^53, which covers every shape and axis). */
export function int64ToNumber(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return Number(v);
  if (typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high, unsigned } = v as { low: number; high: number; unsigned?: boolean };
    const lo = low >>> 0;
    const hi = unsigned ? high >>> 0 : high | 0;
    return hi * 4294967296 + lo;
  }
  return Number(v);
}

/** A name read from the file, quoted and escaped so that a message stays on one line. */
export function quote(s: string | null | undefined): string {
  let t = s ?? '';
  if (t.length > 120) t = `${t.slice(0, 117)}...`;
  return JSON.stringify(t).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Like quote, without the quotes (op types). */
export function bare(s: string | null | undefined): string {
  return quote(s).slice(1, -1);
}
