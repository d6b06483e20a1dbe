/**
 * The matrix layers' digital pieces on both backends: f32 linear and conv (for --digital and for
 * calibration), and the im2col / NCHW scatter the crossbar conv path uses. The CPU versions are the
 * oracle (src/reference/ops.ts).
 */
import type { GpuSession } from '../../gpu/runtime.ts';
import type { GpuTensor, OpEncoder } from '../../gpu/encoder.ts';
import { checkConvGeometry } from '../../ir/geometry.ts';
import { sizeOf, type ConvOp, type LinearOp } from '../../ir/graph.ts';
import { elementCount, type HostTensor } from '../../ir/tensor.ts';
import { encodeRowBias } from '../../kernels/elementwise.ts';
import { encodeIm2colKernel, im2colColumns } from '../../kernels/im2col.ts';
import { colsToNchwPlan, encodeStridedCopy } from '../../kernels/layout.ts';
import { GroupedConvF32Weights } from '../../kernels/conv-grouped.ts';
import { ConvF32Weights, LinearF32Weights, type F32Weights } from '../../kernels/linear-f32.ts';
import { colsToNchwRef, convRef, im2colRef, linearRef } from '../../reference/ops.ts';
import { checkInput } from './checks.ts';
import { allocTensor, uploadConstant } from './elementwise.ts';

export type { F32Weights } from '../../kernels/linear-f32.ts';

/** Uploads a linear layer's f32 weights (and bias) once, for encodeLinearF32 (--digital mode). */
export function prepareLinearF32(s: GpuSession, op: LinearOp): F32Weights {
  return LinearF32Weights.upload(s, op.name, op.weight instanceof Float32Array ? op.weight : Float32Array.from(op.weight), op.bias, op.K, op.N);
}

/** f32 linear layer Y[B, N] = X[B, K]·W + bias with prepared weights; uploads nothing. */
export function encodeLinearF32(e: OpEncoder, w: F32Weights, x: GpuTensor, B: number): GpuTensor {
  if (!(w instanceof LinearF32Weights)) throw new Error('encodeLinearF32: weights were not prepared by prepareLinearF32');
  if (elementCount(x.shape) !== B * w.K) throw new Error(`linear ${w.name}: input has shape [${x.shape.join(', ')}], expected [${B}, ${w.K}]`);
  return { shape: [B, w.N], buf: w.encode(e, x.buf, B) };
}

/**
 * Uploads a convolution's f32 weights and bias once, for encodeConvF32: per-group im2col matrices for
 * a GEMM, or for a conv with groups (depthwise) the weight as it is for the direct kernel.
 */
export function prepareConvF32(s: GpuSession, op: ConvOp): F32Weights {
  if (op.group > 1) return GroupedConvF32Weights.upload(s, op.name, op, op.weight, op.bias);
  return ConvF32Weights.upload(s, op.name, op, op.weight, op.bias);
}

/** f32 convolution [B, cin, H, W] → [B, cout, OH, OW] with prepared weights, via im2col + GEMM + colsToNchw per group. */
export function encodeConvF32(e: OpEncoder, w: F32Weights, x: GpuTensor, B: number): GpuTensor {
  if (!(w instanceof ConvF32Weights || w instanceof GroupedConvF32Weights)) throw new Error('encodeConvF32: weights were not prepared by prepareConvF32');
  const g = w.geom;
  if (elementCount(x.shape) !== B * sizeOf(g.inShape)) throw new Error(`conv ${w.name}: input has shape [${x.shape.join(', ')}], expected [${[B, ...g.inShape].join(', ')}]`);
  return { shape: [B, ...g.outShape], buf: w.encode(e, x.buf, B) };
}

/** CPU oracle of encodeLinearF32 (f64 accumulation); each of a sample's rows (inShape[:-1]) is one vector. */
export function linearF32Ref(op: LinearOp, x: HostTensor, B: number): HostTensor {
  const rows = sizeOf(op.inShape) / op.K;
  if (elementCount(x.shape) !== B * rows * op.K) throw new Error(`linear ${op.name}: input has shape [${x.shape.join(', ')}], expected [${[B, ...op.inShape].join(', ')}]`);
  return { shape: [B, ...op.inShape.slice(0, -1), op.N], data: linearRef(x.data, op.weight, op.bias, B * rows, op.K, op.N) };
}

/** CPU oracle of encodeConvF32: im2col + f64 GEMM + scatter per group. */
export function convF32Ref(op: ConvOp, x: HostTensor, B: number): HostTensor {
  checkConvGeometry(op.name, op);
  checkInput(op, x, B, op.inShape);
  return { shape: [B, ...op.outShape], data: convRef(op, x.data, B) };
}

function checkGroup(op: ConvOp, group: number): void {
  if (!Number.isInteger(group) || group < 0 || group >= op.group) throw new Error(`conv ${op.name}: group ${group} out of range [0, ${op.group})`);
}

/** im2col for group g: returns [B·OH·OW, (cin/group)·kh·kw] with rows ordered (b, oh, ow) and columns (cin, kh, kw) (DESIGN.md section 6), zero padding. */
export function encodeIm2col(e: OpEncoder, op: ConvOp, x: GpuTensor, B: number, group: number): GpuTensor {
  checkConvGeometry(op.name, op);
  checkGroup(op, group);
  checkInput(op, x, B, op.inShape);
  const rows = B * op.outShape[1] * op.outShape[2];
  const cols = allocTensor(e, [rows, im2colColumns(op)], `${op.name}.cols${group}`);
  encodeIm2colKernel(e, op, x.buf, B, cols.buf, group);
  return cols;
}

/** CPU oracle of encodeIm2col. */
export function im2colTensorRef(op: ConvOp, x: HostTensor, B: number, group: number): HostTensor {
  checkConvGeometry(op.name, op);
  checkGroup(op, group);
  checkInput(op, x, B, op.inShape);
  return { shape: [B * op.outShape[1] * op.outShape[2], im2colColumns(op)], data: im2colRef(op, x.data, B, group) };
}

function checkScatter(op: ConvOp, cols: { shape: readonly number[] }, out: { shape: readonly number[] }, B: number, group: number): void {
  checkConvGeometry(op.name, op);
  checkGroup(op, group);
  const P = op.outShape[1] * op.outShape[2];
  if (elementCount(cols.shape) !== B * P * (op.cout / op.group)) throw new Error(`conv ${op.name}: cols have shape [${cols.shape.join(', ')}], expected [${B * P}, ${op.cout / op.group}]`);
  checkInput(op, out, B, op.outShape, 'output');
}

/** Scatters cols [B·OH·OW, cout/group] (rows (b,oh,ow)) into out NCHW [B, cout, OH, OW] at channel offset group·cout/group, adding that slice of op.bias. `out` is allocated once by the caller for all groups. */
export function encodeColsToNchw(e: OpEncoder, op: ConvOp, cols: GpuTensor, out: GpuTensor, B: number, group: number): void {
  checkScatter(op, cols, out, B, group);
  const cg = op.cout / op.group;
  const { plan, biasStrides } = colsToNchwPlan(B, op.outShape[1] * op.outShape[2], cg, cg, op.cout, group * cg);
  const bias = op.bias ? { buf: uploadConstant(e, op, `${op.name}.bias${group}`, () => op.bias!.subarray(group * cg, (group + 1) * cg)), access: { strides: biasStrides, offset: 0 } } : undefined;
  encodeStridedCopy(e, cols.buf, out.buf, plan, bias);
}

/** CPU oracle of encodeColsToNchw (writes into out.data). */
export function colsToNchwTensorRef(op: ConvOp, cols: HostTensor, out: HostTensor, B: number, group: number): void {
  checkScatter(op, cols, out, B, group);
  colsToNchwRef(op, cols.data, out.data, B, group);
}

/** Adds a bias [N] to rows of [M, N] in place (crossbar linear output). */
export function encodeAddBias(e: OpEncoder, y: GpuTensor, bias: GPUBuffer, M: number, N: number): void {
  if (elementCount(y.shape) !== M * N) throw new Error(`encodeAddBias: tensor of shape [${y.shape.join(', ')}] is not [${M}, ${N}]`);
  encodeRowBias(e, y.buf, bias, M, N);
}
