/**
 * ONNX Runtime's integer operator formats, expanded into the QDQ ops they are defined by:
 * QLinearMatMul and QLinearConv (static quantization's QOperator format) dequantize their inputs,
 * compute in float and quantize the result; MatMulInteger and ConvInteger (dynamic quantization)
 * subtract the zero points and leave the int32 accumulation, which f32 holds exactly up to 2^24.
 * The constant weight folds through DequantizeLinear (quantize.ts), so it programs its crossbar as
 * the values it stands for. DynamicQuantizeLinear computes its uint8 parameters per sample.
 */
import type { onnx } from 'onnx-proto';
import { count, floatsOf } from '../consts.ts';
import type { Const } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable } from '../node.ts';
import { CONV_ATTRIBUTES, Expansion, copied, dimsOf, intAttr } from './expansion.ts';

const axisAttr = (axis: number): onnx.IAttributeProto[] => [intAttr('axis', axis)];

/** ONNX rank of input `i`, constant or activation. */
function rankAt(n: NodeContext, i: number, what: string): number {
  return dimsOf(n, i, what).length;
}

/** A weight's parameter axis: per tensor when it has one value, else `axis` (quantize.ts checks the length). */
function weightAxis(n: NodeContext, scaleAt: number, axis: number): onnx.IAttributeProto[] {
  const s = n.constAt(scaleAt);
  return s && count(s.dims) === 1 ? [] : axisAttr(axis);
}

/** `x` minus constant zero point `z` (named `zp`): DequantizeLinear at scale 1, per tensor or along `axis`. */
function minusZero(e: Expansion, x: string, z: Const, zp: string, axis: number, what: string): string {
  if (z.dims.length > 1) throw new NodeError(`${what} zero point has dims [${z.dims.join(', ')}]; it must be a scalar or 1-D (per row or per column)`);
  const ones = e.const({ kind: 'float', dims: z.dims, data: new Float32Array(count(z.dims)).fill(1) }, `${what}/unit-scale`);
  return e.op('DequantizeLinear', [x, ones, zp], `${what}-centred`, count(z.dims) === 1 ? [] : axisAttr(axis));
}

/** The activation operand minus its zero point: DequantizeLinear with scale 1 for a constant zero point (per tensor or per row), Sub for a computed one (DynamicQuantizeLinear's). */
function centred(n: NodeContext, e: Expansion, i: number, zeroAt: number, rowAxis: number, what: string): string {
  const x = n.ins[i];
  const zp = n.ins[zeroAt];
  if (!zp) return x;
  const z = n.constAt(zeroAt);
  if (!z) {
    // A computed zero point (DynamicQuantizeLinear's) is one per sample; a per-row one would broadcast along K.
    const v = n.valueAnyBatch(zeroAt, `${what} zero point`);
    if (v.shape.some((d) => d !== 1)) throw new NodeError(`${what} zero point ${JSON.stringify(zp)} is computed with per-sample shape [${v.shape.join(', ')}]; a computed zero point must be one value per sample`);
    return e.op('Sub', [x, zp], `${what}-centred`);
  }
  if (floatsOf(z, `${what} zero point`).every((v) => v === 0)) return x;
  return minusZero(e, x, z, zp, rowAxis, what);
}

/** A constant weight minus its zero point (per tensor or along `axis`), folded. */
function centredWeight(n: NodeContext, e: Expansion, i: number, zeroAt: number, axis: number, what: string): string {
  const w = n.ins[i];
  if (!n.constAt(i)) throw new NodeError(`${what} ${JSON.stringify(w)} must be a constant (an initializer), not an activation`);
  const z = n.optConst(zeroAt, `${what} zero point`);
  if (!z || floatsOf(z, `${what} zero point`).every((v) => v === 0)) return w;
  return minusZero(e, w, z, n.ins[zeroAt], axis, what);
}

/** Requires the constants at these inputs, where present, to be scalars (one value, per tensor). */
function scalarsAt(n: NodeContext, inputs: [number, string][]): void {
  for (const [i, what] of inputs) {
    const c = n.ins[i] ? n.constIn(i, what) : null;
    if (c && count(c.dims) !== 1) throw new NodeError(`${what} has dims [${c.dims.join(', ')}]; it must be a scalar (per tensor)`);
  }
}

/** QLinearMatMul: a (per tensor, or per row), b (per tensor or per column) and y quantized. */
function qlinearMatMul(n: NodeContext): void {
  const e = new Expansion(n);
  const [a, as, az, b, bs, bz, ys, yz] = n.ins;
  scalarsAt(n, [[6, 'y_scale'], [7, 'y_zero_point']]);
  const da = e.op('DequantizeLinear', [a, as, az], 'a', weightAxis(n, 1, rankAt(n, 0, 'a') - 2));
  const db = e.op('DequantizeLinear', [b, bs, bz], 'b', weightAxis(n, 4, rankAt(n, 3, 'b') - 1));
  const product = e.op('MatMul', [da, db], 'product');
  e.finish([e.op('QuantizeLinear', [product, ys, yz], 'y')]);
}

/** QLinearConv: x per tensor, w per tensor or per output channel, int32 bias at scale x_scale·w_scale. */
function qlinearConv(n: NodeContext): void {
  const e = new Expansion(n);
  const [x, xs, xz, w, ws, wz, ys, yz] = n.ins;
  scalarsAt(n, [[1, 'x_scale'], [2, 'x_zero_point'], [6, 'y_scale'], [7, 'y_zero_point']]);
  const dx = e.op('DequantizeLinear', [x, xs, xz], 'x');
  const dw = e.op('DequantizeLinear', [w, ws, wz], 'w', weightAxis(n, 4, 0));
  const inputs = [dx, dw];
  const bias = n.optConst(8, 'B');
  if (bias) {
    const xScale = n.scalar(n.constIn(1, 'x_scale'), 'x_scale');
    const wScale = floatsOf(n.constIn(4, 'w_scale'), 'w_scale');
    const b = floatsOf(bias, 'B');
    if (wScale.length !== 1 && wScale.length !== b.length) throw new NodeError(`w_scale has ${wScale.length} values and B ${b.length}; per channel they must match`);
    // The bias is quantized at scale x_scale·w_scale[c] with zero point 0 (the operator's definition).
    inputs.push(e.const({ kind: 'float', dims: [b.length], data: Float32Array.from(b, (v, c) => v * xScale * wScale[wScale.length === 1 ? 0 : c]) }, 'bias'));
  }
  const conv = e.op('Conv', inputs, 'conv', copied(n, CONV_ATTRIBUTES));
  e.finish([e.op('QuantizeLinear', [conv, ys, yz], 'y')]);
}

/** MatMulInteger: (A − a_zero_point) · (B − b_zero_point), B a constant (per tensor or per column). */
function matMulInteger(n: NodeContext): void {
  const e = new Expansion(n);
  const a = centred(n, e, 0, 2, rankAt(n, 0, 'A') - 2, 'A');
  const b = centredWeight(n, e, 1, 3, rankAt(n, 1, 'B') - 1, 'B');
  e.finish([e.op('MatMul', [a, b], 'product')]);
}

/** ConvInteger: Conv(x − x_zero_point, w − w_zero_point), w a constant (per tensor or per output channel). */
function convInteger(n: NodeContext): void {
  const e = new Expansion(n);
  const z = n.constAt(2);
  if (n.ins[2] && z && count(z.dims) !== 1) throw new NodeError(`x_zero_point has ${count(z.dims)} values; ConvInteger takes one (per tensor)`);
  const x = centred(n, e, 0, 2, 0, 'x');
  const w = centredWeight(n, e, 1, 3, 0, 'w');
  e.finish([e.op('Conv', [x, w], 'conv', copied(n, CONV_ATTRIBUTES))]);
}

/**
 * DynamicQuantizeLinear (uint8) as its function body, the range over each sample: a deployed model
 * sees one sample, and statistics across the batch would make a result depend on its neighbours.
 * In a batched import y_scale and y_zero_point are [batch, 1, …] where ONNX has scalars.
 * An all-zero sample has scale 0 (as the body gives) and is quantized as if its scale were 1, so y
 * and the zero point are 0 where the body divides 0 by 0.
 */
function dynamicQuantize(n: NodeContext): void {
  const x = n.ins[0];
  const dims = dimsOf(n, 0, 'x');
  const batch = n.batchAxis(n.valueAnyBatch(0, 'x'));
  const axes = dims.map((_, i) => i).filter((i) => i !== batch);
  const e = new Expansion(n);
  const zero = e.scalar(0, 'zero');
  const qmax = e.scalar(255, 'qmax');
  // Per sample the parameters keep their reduced axes ([batch, 1, …]), so they broadcast against the sample.
  const reduce = (op: string, what: string): string => e.reduce(op, x, axes, batch >= 0, what);
  const lo = e.op('Min', [reduce('ReduceMin', 'min'), zero], 'min-adjusted');
  const hi = e.op('Max', [reduce('ReduceMax', 'max'), zero], 'max-adjusted');
  const range = e.op('Sub', [hi, lo], 'range');
  const scale = e.op('Div', [range, qmax], 'scale');
  const safe = e.op('Add', [scale, e.op('Cast', [e.op('Equal', [range, zero], 'empty')], 'empty-as-one', [intAttr('to', 1)])], 'safe-scale');
  const zp = e.op('Round', [e.clip(e.op('Sub', [zero, e.op('Div', [lo, safe], 'min-scaled')], 'zero-point-fp'), 0, 255, 'zero-point-clipped')], 'zero-point');
  const y = e.clip(e.op('Add', [e.op('Round', [e.op('Div', [x, safe], 'scaled')], 'rounded'), zp], 'shifted'), 0, 255, 'y');
  e.finish([y, scale, zp]);
}

/** Integer-format ops by ONNX op type. */
export const QUANTIZED_LINEAR_OPS: OpTable = {
  QLinearMatMul: { activation: qlinearMatMul },
  QLinearConv: { activation: qlinearConv },
  MatMulInteger: { activation: matMulInteger },
  ConvInteger: { activation: convInteger },
  DynamicQuantizeLinear: { activation: dynamicQuantize },
};
