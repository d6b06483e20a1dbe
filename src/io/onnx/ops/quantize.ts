/**
 * QuantizeLinear and DequantizeLinear (QDQ): PyTorch's exports of quantization-aware training
 * (torch.fake_quantize_per_tensor_affine and _per_channel_affine) and ONNX Runtime's QDQ format
 * (int8 weights read through a DequantizeLinear). On constants they fold, so a quantized weight
 * reaches its crossbar as the float values it stands for; on activations they are the IR's divide,
 * round (ties to even, as ONNX), add and clip, then subtract and multiply, per tensor or per axis.
 */
import { clamp, roundHalfEven } from '../../../crossbar/rounding.ts';
import type { UnaryFn } from '../../../ir/graph.ts';
import { count, floatsOf, normAxis } from '../consts.ts';
import type { Const } from '../consts.ts';
import { dataTypeName } from '../decode.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable, Value } from '../node.ts';
import { DataType } from '../proto.ts';
import { emitBinary, emitChain } from './elementwise.ts';

/** The integer range of each type QuantizeLinear writes (its zero point's type; uint8 without one). */
const RANGES: Readonly<Record<number, readonly [number, number]>> = {
  [DataType.UINT8]: [0, 255],
  [DataType.INT8]: [-128, 127],
  [DataType.UINT16]: [0, 65535],
  [DataType.INT16]: [-32768, 32767],
};

/** Scale and zero point per element of the quantized axis (one entry each: per tensor). */
interface Params {
  scale: Float32Array;
  zero: Float32Array;
  /** The ONNX axis the parameters run along; null per tensor. */
  axis: number | null;
}

function params(n: NodeContext, dims: readonly number[], rank: number): Params {
  if (n.a.int('block_size', 0) !== 0) throw new NodeError('blocked quantization (block_size) is not supported; per-tensor and per-axis are');
  const s = n.constIn(1, 'scale');
  const scale = floatsOf(s, 'scale');
  if (scale.some((v) => !(v > 0) || !Number.isFinite(v))) throw new NodeError(`scale holds ${Array.from(scale).find((v) => !(v > 0) || !Number.isFinite(v))}; every scale must be a positive number`);
  const z = n.optConst(2, 'zero point');
  if (z && count(z.dims) !== scale.length) throw new NodeError(`zero point has ${count(z.dims)} values and scale ${scale.length}; they must match`);
  const zero = z ? floatsOf(z, 'zero point') : new Float32Array(scale.length);
  if (scale.length === 1 && s.dims.length <= 1) return { scale, zero, axis: null };
  const axis = normAxis(n.a.int('axis', 1), rank);
  if (s.dims.length !== 1 || scale.length !== dims[axis]) throw new NodeError(`scale has dims [${s.dims.join(', ')}]; per axis it must be 1-D of length ${dims[axis]} (dim ${axis} of the input)`);
  return { scale, zero, axis };
}

/** QuantizeLinear's output range, from its zero point's type. */
function rangeOf(n: NodeContext): readonly [number, number] {
  const z = n.optConst(2, 'zero point');
  if (z?.kind === 'float') throw new NodeError('zero point is a float (float8 quantization is not supported)');
  const elem = z ? z.elem : n.a.int('output_dtype', 0) || DataType.UINT8;
  if (elem === undefined) throw new NodeError('zero point is a computed constant, so its integer type (the output range) is unknown');
  const r = RANGES[elem];
  if (!r) throw new NodeError(`zero point has type ${dataTypeName(elem)}; uint8, int8, uint16 and int16 are supported`);
  return r;
}

/** Element i's parameter index in a tensor of `dims`. */
function paramIndex(p: Params, dims: readonly number[]): (i: number) => number {
  if (p.axis === null) return () => 0;
  const inner = count(dims.slice(p.axis + 1));
  const C = dims[p.axis];
  return (i) => Math.floor(i / inner) % C;
}

function foldQuantize(n: NodeContext): Const {
  const x = n.constIn(0, 'x');
  const p = params(n, x.dims, x.dims.length);
  const [lo, hi] = rangeOf(n);
  const at = paramIndex(p, x.dims);
  // Round half to even, as ONNX QuantizeLinear rounds.
  const data = Array.from(floatsOf(x, 'x'), (v, i) => clamp(roundHalfEven(Math.fround(v / p.scale[at(i)])) + p.zero[at(i)], lo, hi));
  const z = n.optConst(2, 'zero point');
  return { kind: 'int', dims: x.dims, data, elem: z?.kind === 'int' ? z.elem : DataType.UINT8 };
}

function foldDequantize(n: NodeContext): Const {
  const x = n.constIn(0, 'x');
  const p = params(n, x.dims, x.dims.length);
  const at = paramIndex(p, x.dims);
  return { kind: 'float', dims: x.dims, data: Float32Array.from(floatsOf(x, 'x'), (v, i) => (v - p.zero[at(i)]) * p.scale[at(i)]) };
}

/** The parameters of activation `x` as a constant operand: per tensor a scalar, per axis 1s but at the axis. */
function operand(n: NodeContext, x: Value, p: Params, values: Float32Array): Const {
  if (p.axis === null) return { kind: 'float', dims: [], data: Float32Array.of(values[0]) };
  const dims = new Array<number>(n.rankOf(x)).fill(1);
  dims[p.axis] = values.length;
  return { kind: 'float', dims, data: values };
}

/** Per-sample params of an activation; per axis, never along the batch. */
function activationParams(n: NodeContext, x: Value): Params {
  const full = n.imp.batched ? [1, ...x.shape] : x.shape;
  const s = n.constIn(1, 'scale');
  const perAxis = count(s.dims) !== 1 || s.dims.length > 1;
  if (perAxis && n.imp.batched && normAxis(n.a.int('axis', 1), n.rankOf(x)) === 0) throw new NodeError('quantizes per element of the batch dimension (axis 0); only per-tensor or per-axis along a per-sample dim is supported');
  return params(n, full, n.rankOf(x));
}

/** Emits the steps on `x`, each reading the one before (elementwise.ts emitChain). */
function chain(n: NodeContext, x: Value, steps: ((v: Value, out: string, name: string) => void)[]): void {
  let v = x;
  emitChain(n, steps.length, (k, out, name) => {
    steps[k](v, out, name);
    v = n.imp.valueOf(out)!;
  });
}

function unaryStep(n: NodeContext, fn: UnaryFn, min = -Infinity, max = Infinity) {
  return (v: Value, out: string, name: string): void => n.imp.emit({ kind: 'unary', name, inputs: [v.name], output: out, fn, alpha: 0, min, max }, [...v.shape], 'int');
}

function quantize(n: NodeContext): void {
  const x = n.value(0, 'x');
  const p = activationParams(n, x);
  const [lo, hi] = rangeOf(n);
  const hasZero = p.zero.some((z) => z !== 0);
  chain(n, x, [
    (v, out, name) => emitBinary(n, 'div', { v }, { c: operand(n, x, p, p.scale) }, out, name),
    unaryStep(n, 'round'),
    ...(hasZero ? [(v: Value, out: string, name: string) => emitBinary(n, 'add', { v }, { c: operand(n, x, p, p.zero) }, out, name)] : []),
    unaryStep(n, 'clip', lo, hi),
  ]);
}

function dequantize(n: NodeContext): void {
  const x = n.value(0, 'x');
  const p = activationParams(n, x);
  const hasZero = p.zero.some((z) => z !== 0);
  // A unit scale (MatMulInteger's zero-point subtraction, quantized-linear.ts) needs no multiply.
  const hasScale = p.scale.some((s) => s !== 1);
  const sub = (v: Value, out: string, name: string): void => emitBinary(n, 'sub', { v }, { c: operand(n, x, p, p.zero) }, out, name);
  const mul = (v: Value, out: string, name: string): void => emitBinary(n, 'mul', { v }, { c: operand(n, x, p, p.scale) }, out, name);
  chain(n, x, [...(hasZero ? [sub] : []), ...(hasScale || !hasZero ? [mul] : [])]);
}

/** Quantization ops by ONNX op type. */
export const QUANTIZE_OPS: OpTable = {
  QuantizeLinear: { activation: quantize, fold: foldQuantize },
  DequantizeLinear: { activation: dequantize, fold: foldDequantize },
};
