/**
 * The issue-12 ops that compute across a sample's elements (src/ir/ops-math.ts): matmul of two
 * activations, reductions, argmax, log-softmax, layer and instance normalization, LRN. The CPU
 * oracle is src/reference/math-ops.ts; the WGSL kernels are src/kernels/matmul.ts, reduce.ts and
 * softmax.ts (log-softmax is a softmax variant).
 */
import { sizeOf } from '../../ir/graph.ts';
import type { GpuTensor, OpEncoder } from '../../gpu/encoder.ts';
import { encodeMatmul } from '../../kernels/matmul.ts';
import { encodeArgmax, encodeCumsum, encodeTopk, encodeLrn, encodeNorm, encodeReduce } from '../../kernels/reduce.ts';
import { encodeSoftmax } from '../../kernels/softmax.ts';
import { argmaxRef, cumsumRef, topkRef, instanceNormRef, layerNormRef, logSoftmaxRef, lrnRef, matmulRef, reduceRef } from '../../reference/math-ops.ts';
import { checkArity, checkInput, fail, opAxis } from './checks.ts';
import { allocTensor, uploadConstant, uploadTemp } from './elementwise.ts';
import type { DigitalOpImpl, OpOf } from './types.ts';

/** A shape left-padded with 1s to `rank` (numpy alignment). */
export function alignTo(shape: readonly number[], rank: number): number[] {
  return [...new Array<number>(Math.max(0, rank - shape.length)).fill(1), ...shape];
}

/** Element strides of each lead dim's matrix (0 along broadcast dims), batch first. */
function matrixStrides(lead: readonly number[], outLead: readonly number[], matrix: number, sample: number): number[] {
  const st: number[] = new Array<number>(lead.length);
  let acc = matrix;
  for (let d = lead.length - 1; d >= 0; d--) {
    st[d] = lead[d] === 1 && outLead[d] !== 1 ? 0 : acc;
    acc *= lead[d];
  }
  return [sample, ...st];
}

export const matmul: DigitalOpImpl<OpOf<'matmul'>> = {
  cpu: matmulRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 2);
    checkInput(op, inputs[0], B, op.aShape, 'first operand');
    checkInput(op, inputs[1], B, op.bShape, 'second operand');
    const r = op.outShape.length;
    if (r < 2 || op.aShape.length < 2 || op.bShape.length < 2) fail(op, 'operands and output need rank ≥ 2');
    const [M, N] = [op.outShape[r - 2], op.outShape[r - 1]];
    const K = op.aShape[op.aShape.length - 1];
    if (op.bShape[op.bShape.length - 2] !== K) fail(op, `inner dims ${K} and ${op.bShape[op.bShape.length - 2]} differ`);
    const outLead = op.outShape.slice(0, -2);
    const aLead = alignTo(op.aShape.slice(0, -2), outLead.length);
    const bLead = alignTo(op.bShape.slice(0, -2), outLead.length);
    const y = allocTensor(e, [B, ...op.outShape], op.name);
    encodeMatmul(
      e,
      { buf: inputs[0].buf, elements: B * sizeOf(op.aShape), strides: matrixStrides(aLead, outLead, M * K, sizeOf(op.aShape)) },
      { buf: inputs[1].buf, elements: B * sizeOf(op.bShape), strides: matrixStrides(bLead, outLead, K * N, sizeOf(op.bShape)) },
      y.buf, [B, ...outLead], M, K, N,
    );
    return y;
  },
};

/** What an empty reduction gives (ONNX: the identity of the function; mean 0/0). */
const EMPTY_REDUCTION = { sum: 0, mean: NaN, max: -Infinity, min: Infinity, prod: 1 } as const;

/** A GPU tensor of `shape` filled with `value` (copied from an upload, in the batch's command order). */
function filled(e: OpEncoder, shape: readonly number[], value: number, label: string): GpuTensor {
  const y = allocTensor(e, shape, label);
  const n = shape.reduce((p, q) => p * q, 1);
  if (n > 0) e.encoder.copyBufferToBuffer(uploadTemp(e, new Float32Array(n).fill(value), `${label}.fill`), 0, y.buf, 0, n * 4);
  return y;
}

export const reduce: DigitalOpImpl<OpOf<'reduce'>> = {
  cpu: reduceRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const axes = op.axes.map((a) => opAxis(op, a, op.inShape.length) + 1);
    if (sizeOf(op.axes.map((a) => op.inShape[a])) === 0) return filled(e, [B, ...op.outShape], EMPTY_REDUCTION[op.fn], op.name);
    const y = allocTensor(e, [B, ...op.outShape], op.name);
    encodeReduce(e, op.fn, inputs[0].buf, y.buf, [B, ...op.inShape], axes);
    return y;
  },
};

/** [outer, L, inner] of a batch around a per-sample axis. */
function lineView(op: { kind: string; name: string }, shape: readonly number[], axis: number, B: number): { outer: number; L: number; inner: number } {
  const a = opAxis(op, axis, shape.length);
  return { outer: B * sizeOf(shape.slice(0, a)), L: shape[a], inner: sizeOf(shape.slice(a + 1)) };
}

type LineOp = { kind: string; name: string; axis: number; inShape: readonly number[] };

/** A one-input op along one axis on the GPU: checked, its output [B, ...outShape] allocated, `encode` given the [outer, L, inner] view. */
function alongAxis(e: OpEncoder, op: LineOp, inputs: readonly GpuTensor[], B: number, outShape: readonly number[], encode: (x: GPUBuffer, y: GPUBuffer, v: { outer: number; L: number; inner: number }) => void): GpuTensor {
  checkArity(op, inputs, 1);
  checkInput(op, inputs[0], B, op.inShape);
  const v = lineView(op, op.inShape, op.axis, B);
  const y = allocTensor(e, [B, ...outShape], op.name);
  encode(inputs[0].buf, y.buf, v);
  return y;
}

export const argmax: DigitalOpImpl<OpOf<'argmax'>> = {
  cpu: argmaxRef,
  gpu: (e, op, inputs, B) => alongAxis(e, op, inputs, B, op.outShape, (x, y, v) => encodeArgmax(e, x, y, v.outer, v.L, v.inner, op.selectLastIndex)),
};

export const cumsum: DigitalOpImpl<OpOf<'cumsum'>> = {
  cpu: cumsumRef,
  gpu: (e, op, inputs, B) => alongAxis(e, op, inputs, B, op.inShape, (x, y, v) => encodeCumsum(e, x, y, v.outer, v.L, v.inner, op.exclusive, op.reverse)),
};

export const topk: DigitalOpImpl<OpOf<'topk'>> = {
  cpu: topkRef,
  gpu: (e, op, inputs, B) => alongAxis(e, op, inputs, B, op.outShape, (x, y, v) => encodeTopk(e, x, y, v.outer, v.L, v.inner, op.k, op.largest, op.gives === 'indices')),
};

export const logSoftmax: DigitalOpImpl<OpOf<'log-softmax'>> = {
  cpu: logSoftmaxRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const v = lineView(op, op.inShape, op.axis, B);
    const y = allocTensor(e, [B, ...op.inShape], op.name);
    encodeSoftmax(e, inputs[0].buf, y.buf, v.outer, v.L, v.inner, undefined, true);
    return y;
  },
};

export const layernorm: DigitalOpImpl<OpOf<'layernorm'>> = {
  cpu: layerNormRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const axis = opAxis(op, op.axis, op.inShape.length);
    const L = sizeOf(op.inShape.slice(axis));
    for (const [what, t] of [['scale', op.scale], ['bias', op.bias]] as const) {
      if (t && t.length !== L) fail(op, `${what} has ${t.length} values for ${L} normalized elements`);
    }
    const y = allocTensor(e, [B, ...op.inShape], op.name);
    const scale = uploadConstant(e, op, `${op.name}.scale`, () => op.scale ?? new Float32Array(L).fill(1));
    const bias = uploadConstant(e, op, `${op.name}.bias`, () => op.bias ?? new Float32Array(L));
    encodeNorm(e, inputs[0].buf, y.buf, B * sizeOf(op.inShape.slice(0, axis)), L, op.epsilon, scale, bias, 0);
    return y;
  },
};

export const instancenorm: DigitalOpImpl<OpOf<'instancenorm'>> = {
  cpu: instanceNormRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const C = op.inShape[0];
    if (op.scale.length !== C || op.bias.length !== C) fail(op, `scale/bias have ${op.scale.length}/${op.bias.length} values for ${C} channels`);
    const y = allocTensor(e, [B, ...op.inShape], op.name);
    const scale = uploadConstant(e, op, `${op.name}.scale`, () => op.scale);
    const bias = uploadConstant(e, op, `${op.name}.bias`, () => op.bias);
    encodeNorm(e, inputs[0].buf, y.buf, B * C, sizeOf(op.inShape.slice(1)), op.epsilon, scale, bias, C);
    return y;
  },
};

export const lrn: DigitalOpImpl<OpOf<'lrn'>> = {
  cpu: lrnRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const y = allocTensor(e, [B, ...op.inShape], op.name);
    encodeLrn(e, inputs[0].buf, y.buf, B, op.inShape[0], sizeOf(op.inShape.slice(1)), op);
    return y;
  },
};
