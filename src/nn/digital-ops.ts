/**
 * The digital (non-crossbar) ops of the network IR on the GPU and on the CPU (DESIGN.md section 6):
 * activations, broadcast arithmetic, affine, softmax, pooling, layout ops, the f32 linear/conv layers
 * of `--digital` mode, and the im2col / scatter / bias pieces the crossbar conv and linear paths use.
 * Semantics are ONNX's; the CPU versions (src/reference/ops.ts) are the oracle.
 */
import type { GpuSession } from '../gpu/runtime.ts';
import { uploadStorage } from '../gpu/buffers.ts';
import { BINARY_FNS, UNARY_FNS, encodeAffine, encodeBinary, encodeRowBias, encodeUnary, rowMajorStrides, type BroadcastOperand } from '../kernels/elementwise.ts';
import { argmaxRef, instanceNormRef, layerNormRef, logSoftmaxRef, lrnRef, matmulRef, reduceRef } from '../reference/math-ops.ts';
import { col2imRef, constantRef, expandRef, gatherRef, padRef, resizeRef, sliceRef, whereRef } from '../reference/tensor-ops.ts';
import { checkConvGeometry, checkPoolGeometry } from '../ir/geometry.ts';
import { encodeIm2colKernel, im2colColumns } from '../kernels/im2col.ts';
import { colsToNchwPlan, concatPlan, encodeStridedCopy, transposePlan } from '../kernels/layout.ts';
import { ConvF32Weights, LinearF32Weights, type F32Weights } from '../kernels/linear-f32.ts';
import { encodePool } from '../kernels/pool.ts';
import { encodeSoftmax } from '../kernels/softmax.ts';
import {
  affineRef,
  binaryRef,
  colsToNchwRef,
  concatRef,
  convRef,
  im2colRef,
  linearRef,
  poolRef,
  softmaxRef,
  transposeRef,
  unaryRef,
} from '../reference/ops.ts';
import { sizeOf, type AffineOp, type BinaryOp, type ConcatOp, type ConvOp, type LinearOp, type NetOp, type Shape, type SoftmaxOp, type TransposeOp } from '../ir/graph.ts';
import { elementCount, type HostTensor } from '../ir/tensor.ts';
import { type GpuTensor, type OpEncoder } from '../gpu/encoder.ts';

export type { F32Weights } from '../kernels/linear-f32.ts';

/** The ops encodeDigitalOp and cpuDigitalOp run. */
export type DigitalOp = Exclude<NetOp, LinearOp | ConvOp>;

function fail(op: { kind: string; name: string }, msg: string): never {
  throw new Error(`${op.kind} ${op.name}: ${msg}`);
}

/** Throws unless `t` holds B samples of per-sample shape `shape`. */
function checkInput(op: { kind: string; name: string }, t: { shape: readonly number[] }, B: number, shape: Shape, which = 'input'): void {
  if (elementCount(t.shape) !== B * sizeOf(shape)) fail(op, `${which} has shape [${t.shape.join(', ')}], expected [${[B, ...shape].join(', ')}]`);
}

function checkArity(op: DigitalOp, inputs: readonly unknown[], n: number): void {
  if (inputs.length !== n) fail(op, `expects ${n} input${n === 1 ? '' : 's'}, got ${inputs.length}`);
}

/** An axis in [0, rank), accepting negative axes as ONNX does. */
function normAxis(op: DigitalOp, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(op, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** A binary operand's per-sample shape left-padded with 1s to the output's rank (numpy alignment). */
function alignShape(op: BinaryOp, shape: Shape, which: string): number[] {
  const out = op.outShape;
  let s = [...shape];
  while (s.length > out.length && s[0] === 1) s = s.slice(1);
  if (s.length > out.length) fail(op, `${which} [${shape.join(', ')}] has more dims than the output [${out.join(', ')}]`);
  s = [...new Array<number>(out.length - s.length).fill(1), ...s];
  s.forEach((d, k) => {
    if (d !== out[k] && d !== 1) fail(op, `${which} [${shape.join(', ')}] does not broadcast to [${out.join(', ')}]`);
  });
  return s;
}

/** Checks a binary op's shapes; returns both operands' aligned per-sample shapes. */
function binaryShapes(op: BinaryOp): { a: number[]; b: number[] } {
  const a = alignShape(op, op.aShape, 'aShape');
  const b = alignShape(op, op.bShape, 'bShape');
  op.outShape.forEach((d, k) => {
    if (d !== Math.max(a[k], b[k]) && !(a[k] === 1 && b[k] === 1 && d === 1)) fail(op, `outShape [${op.outShape.join(', ')}] is not the broadcast of the operands`);
  });
  if (op.b && op.b.data.length !== sizeOf(op.bShape)) fail(op, `constant has ${op.b.data.length} values, bShape [${op.bShape.join(', ')}] needs ${sizeOf(op.bShape)}`);
  return { a, b };
}

/** Full-shape element strides of an operand: batch stride first (0 for a constant), 0 along broadcast dims. */
function operandStrides(aligned: readonly number[], batched: boolean): number[] {
  const st = rowMajorStrides(aligned).map((v, k) => (aligned[k] === 1 ? 0 : v));
  return [batched ? sizeOf(aligned) : 0, ...st];
}

function transposeShape(op: TransposeOp): number[] {
  const r = op.inShape.length;
  if (op.perm.length !== r || [...op.perm].sort((x, y) => x - y).some((p, k) => p !== k)) fail(op, `perm [${op.perm.join(', ')}] is not a permutation of ${r} axes`);
  return op.perm.map((p) => op.inShape[p]);
}

function concatShape(op: ConcatOp): { axis: number; shape: number[] } {
  if (op.inShapes.length < 1) fail(op, 'no inputs');
  const r = op.inShapes[0].length;
  const axis = normAxis(op, op.axis, r);
  const shape = [...op.inShapes[0]];
  shape[axis] = 0;
  for (const s of op.inShapes) {
    if (s.length !== r || s.some((d, k) => k !== axis && d !== op.inShapes[0][k])) fail(op, `input shapes [${op.inShapes.map((x) => x.join('x')).join('], [')}] differ off axis ${op.axis}`);
    shape[axis] += s[axis];
  }
  return { axis, shape };
}

function softmaxView(op: SoftmaxOp, B: number): { axis: number; outer: number; L: number; inner: number } {
  const axis = normAxis(op, op.axis, op.inShape.length);
  return { axis, outer: B * sizeOf(op.inShape.slice(0, axis)), L: op.inShape[axis], inner: sizeOf(op.inShape.slice(axis + 1)) };
}

function affineChannels(op: AffineOp): number {
  if (op.inShape.length < 1) fail(op, 'needs a channel axis');
  return op.inShape[0];
}

function allocTensor(e: OpEncoder, shape: readonly number[], label: string): GpuTensor {
  return { shape, buf: e.alloc(Math.max(4, elementCount(shape) * 4), label) };
}

function uploadTemp(e: OpEncoder, data: Float32Array, label: string): GPUBuffer {
  return e.temp(uploadStorage(e.session.ctx.device, data, label));
}

/** Records one non-matrix op (unary, binary, affine, softmax, pool, reshape, transpose, concat) for a batch of B samples. Reshape returns a new GpuTensor sharing the buffer (no copy). */
export function encodeDigitalOp(e: OpEncoder, op: DigitalOp, inputs: readonly GpuTensor[], B: number): GpuTensor {
  switch (op.kind) {
    case 'unary': {
      checkArity(op, inputs, 1);
      const fn = op.fn;
      if (!(UNARY_FNS as readonly string[]).includes(fn)) fail(op, `no WebGPU kernel for ${fn} yet; run with --backend cpu`);
      const x = inputs[0];
      const y = allocTensor(e, x.shape, op.name);
      encodeUnary(e, fn as (typeof UNARY_FNS)[number], op, x.buf, y.buf, elementCount(x.shape));
      return y;
    }
    case 'binary': {
      if (!(BINARY_FNS as readonly string[]).includes(op.fn)) fail(op, `no WebGPU kernel for ${op.fn} yet; run with --backend cpu`);
      const { a, b } = binaryShapes(op);
      checkArity(op, inputs, op.b ? 1 : 2);
      checkInput(op, inputs[0], B, op.aShape, 'first operand');
      const n0: BroadcastOperand = { buf: inputs[0].buf, elements: B * sizeOf(op.aShape), strides: operandStrides(a, true) };
      let n1: BroadcastOperand;
      if (op.b) {
        n1 = { buf: uploadTemp(e, op.b.data, `${op.name}.const`), elements: op.b.data.length, strides: operandStrides(b, false) };
      } else {
        checkInput(op, inputs[1], B, op.bShape, 'second operand');
        n1 = { buf: inputs[1].buf, elements: B * sizeOf(op.bShape), strides: operandStrides(b, true) };
      }
      const dims = [B, ...op.outShape];
      const y = allocTensor(e, dims, op.name);
      const [left, right] = op.b && op.constFirst ? [n1, n0] : [n0, n1];
      encodeBinary(e, op.fn as (typeof BINARY_FNS)[number], left, right, y.buf, dims);
      return y;
    }
    case 'affine': {
      checkArity(op, inputs, 1);
      checkInput(op, inputs[0], B, op.inShape);
      const C = affineChannels(op);
      if (op.scale.length !== C || op.shift.length !== C) fail(op, `scale/shift have ${op.scale.length}/${op.shift.length} values for ${C} channels`);
      const y = allocTensor(e, [B, ...op.inShape], op.name);
      const inner = sizeOf(op.inShape.slice(1));
      encodeAffine(e, inputs[0].buf, uploadTemp(e, op.scale, `${op.name}.scale`), uploadTemp(e, op.shift, `${op.name}.shift`), y.buf, B * sizeOf(op.inShape), C, inner);
      return y;
    }
    case 'softmax': {
      checkArity(op, inputs, 1);
      checkInput(op, inputs[0], B, op.inShape);
      const v = softmaxView(op, B);
      const y = allocTensor(e, [B, ...op.inShape], op.name);
      encodeSoftmax(e, inputs[0].buf, y.buf, v.outer, v.L, v.inner);
      return y;
    }
    case 'pool': {
      checkArity(op, inputs, 1);
      checkPoolGeometry(op.name, op);
      checkInput(op, inputs[0], B, op.inShape);
      const y = allocTensor(e, [B, ...op.outShape], op.name);
      encodePool(e, op, inputs[0].buf, y.buf, B);
      return y;
    }
    case 'reshape': {
      checkArity(op, inputs, 1);
      const x = inputs[0];
      if (elementCount(x.shape) !== B * sizeOf(op.outShape)) fail(op, `cannot reshape [${x.shape.join(', ')}] to [${[B, ...op.outShape].join(', ')}]`);
      return { shape: [B, ...op.outShape], buf: x.buf };
    }
    case 'transpose': {
      checkArity(op, inputs, 1);
      checkInput(op, inputs[0], B, op.inShape);
      const outShape = transposeShape(op);
      const y = allocTensor(e, [B, ...outShape], op.name);
      encodeStridedCopy(e, inputs[0].buf, y.buf, transposePlan([B, ...op.inShape], [0, ...op.perm.map((p) => p + 1)]));
      return y;
    }
    case 'concat': {
      checkArity(op, inputs, op.inShapes.length);
      const { axis, shape } = concatShape(op);
      const y = allocTensor(e, [B, ...shape], op.name);
      const outer = B * sizeOf(shape.slice(0, axis));
      const tail = sizeOf(shape.slice(axis + 1));
      const outRow = shape[axis] * tail;
      let offset = 0;
      op.inShapes.forEach((s, k) => {
        checkInput(op, inputs[k], B, s, `input ${k}`);
        const inner = s[axis] * tail;
        encodeStridedCopy(e, inputs[k].buf, y.buf, concatPlan(outer, inner, outRow, offset));
        offset += inner;
      });
      return y;
    }
    default:
      return fail(op, 'no WebGPU kernel for this op yet; run with --backend cpu');
  }
}

const GPU_KINDS: readonly NetOp['kind'][] = ['unary', 'binary', 'affine', 'softmax', 'pool', 'reshape', 'transpose', 'concat', 'conv', 'linear'];

/** Why the WebGPU executor cannot run an op (an IR op or variant with no WGSL kernel yet), or null. */
export function gpuKernelMissing(op: NetOp): string | null {
  if (!GPU_KINDS.includes(op.kind)) return op.kind;
  if (op.kind === 'unary' && !(UNARY_FNS as readonly string[]).includes(op.fn)) return `unary ${op.fn}`;
  if (op.kind === 'binary' && !(BINARY_FNS as readonly string[]).includes(op.fn)) return `binary ${op.fn}`;
  if (op.kind === 'linear' && op.inShape.length !== 1) return 'linear over several rows per sample';
  return null;
}

/** CPU oracle of the same. */
export function cpuDigitalOp(op: DigitalOp, inputs: readonly HostTensor[], B: number): HostTensor {
  switch (op.kind) {
    case 'unary':
      checkArity(op, inputs, 1);
      return { shape: inputs[0].shape, data: unaryRef(op, inputs[0].data) };
    case 'binary': {
      const { a, b } = binaryShapes(op);
      checkArity(op, inputs, op.b ? 1 : 2);
      checkInput(op, inputs[0], B, op.aShape, 'first operand');
      const x0 = { data: inputs[0].data, dims: [B, ...a] };
      let x1: { data: Float32Array; dims: number[] };
      if (op.b) {
        x1 = { data: op.b.data, dims: [1, ...b] };
      } else {
        checkInput(op, inputs[1], B, op.bShape, 'second operand');
        x1 = { data: inputs[1].data, dims: [B, ...b] };
      }
      const [l, r] = op.b && op.constFirst ? [x1, x0] : [x0, x1];
      const y = binaryRef(op.fn, l.data, l.dims, r.data, r.dims);
      return { shape: [B, ...op.outShape], data: y.data };
    }
    case 'affine':
      checkArity(op, inputs, 1);
      checkInput(op, inputs[0], B, op.inShape);
      if (op.scale.length !== affineChannels(op) || op.shift.length !== affineChannels(op)) fail(op, 'scale/shift length differs from the channel count');
      return { shape: [B, ...op.inShape], data: affineRef(inputs[0].data, [B, ...op.inShape], op.scale, op.shift) };
    case 'softmax': {
      checkArity(op, inputs, 1);
      checkInput(op, inputs[0], B, op.inShape);
      const { axis } = softmaxView(op, B);
      return { shape: [B, ...op.inShape], data: softmaxRef(inputs[0].data, [B, ...op.inShape], axis + 1) };
    }
    case 'pool':
      checkArity(op, inputs, 1);
      checkPoolGeometry(op.name, op);
      checkInput(op, inputs[0], B, op.inShape);
      return { shape: [B, ...op.outShape], data: poolRef(op, inputs[0].data, B) };
    case 'reshape':
      checkArity(op, inputs, 1);
      if (elementCount(inputs[0].shape) !== B * sizeOf(op.outShape)) fail(op, `cannot reshape [${inputs[0].shape.join(', ')}] to [${[B, ...op.outShape].join(', ')}]`);
      return { shape: [B, ...op.outShape], data: inputs[0].data };
    case 'transpose': {
      checkArity(op, inputs, 1);
      checkInput(op, inputs[0], B, op.inShape);
      transposeShape(op);
      const y = transposeRef(inputs[0].data, [B, ...op.inShape], [0, ...op.perm.map((p) => p + 1)]);
      return { shape: y.dims, data: y.data };
    }
    case 'concat': {
      checkArity(op, inputs, op.inShapes.length);
      const { axis } = concatShape(op);
      op.inShapes.forEach((s, k) => checkInput(op, inputs[k], B, s, `input ${k}`));
      const y = concatRef(
        inputs.map((t, k) => ({ data: t.data, dims: [B, ...op.inShapes[k]] })),
        axis + 1,
      );
      return { shape: y.dims, data: y.data };
    }
    case 'matmul': return matmulRef(op, inputs, B);
    case 'reduce': return reduceRef(op, inputs, B);
    case 'argmax': return argmaxRef(op, inputs, B);
    case 'log-softmax': return logSoftmaxRef(op, inputs, B);
    case 'layernorm': return layerNormRef(op, inputs, B);
    case 'instancenorm': return instanceNormRef(op, inputs, B);
    case 'lrn': return lrnRef(op, inputs, B);
    case 'slice': return sliceRef(op, inputs, B);
    case 'gather': return gatherRef(op, inputs, B);
    case 'pad': return padRef(op, inputs, B);
    case 'expand': return expandRef(op, inputs, B);
    case 'where': return whereRef(op, inputs, B);
    case 'constant': return constantRef(op, inputs, B);
    case 'resize': return resizeRef(op, inputs, B);
    case 'col2im': return col2imRef(op, inputs, B);
  }
}

/** Uploads a linear layer's f32 weights (and bias) once, for encodeLinearF32 (--digital mode). */
export function prepareLinearF32(s: GpuSession, op: LinearOp): F32Weights {
  return LinearF32Weights.upload(s, op.name, op.weight, op.bias, op.K, op.N);
}

/** f32 linear layer Y[B, N] = X[B, K]·W + bias with prepared weights; uploads nothing. */
export function encodeLinearF32(e: OpEncoder, w: F32Weights, x: GpuTensor, B: number): GpuTensor {
  if (!(w instanceof LinearF32Weights)) throw new Error('encodeLinearF32: weights were not prepared by prepareLinearF32');
  if (elementCount(x.shape) !== B * w.K) throw new Error(`linear ${w.name}: input has shape [${x.shape.join(', ')}], expected [${B}, ${w.K}]`);
  return { shape: [B, w.N], buf: w.encode(e, x.buf, B) };
}

/** Uploads a convolution's f32 weights (per-group im2col matrices) and bias once, for encodeConvF32. */
export function prepareConvF32(s: GpuSession, op: ConvOp): F32Weights {
  return ConvF32Weights.upload(s, op.name, op, op.weight, op.bias);
}

/** f32 convolution [B, cin, H, W] → [B, cout, OH, OW] with prepared weights, via im2col + GEMM + colsToNchw per group. */
export function encodeConvF32(e: OpEncoder, w: F32Weights, x: GpuTensor, B: number): GpuTensor {
  if (!(w instanceof ConvF32Weights)) throw new Error('encodeConvF32: weights were not prepared by prepareConvF32');
  const g = w.geom;
  if (elementCount(x.shape) !== B * sizeOf(g.inShape)) throw new Error(`conv ${w.name}: input has shape [${x.shape.join(', ')}], expected [${[B, ...g.inShape].join(', ')}]`);
  return { shape: [B, ...g.outShape], buf: w.encode(e, x.buf, B) };
}

/** CPU oracle of encodeLinearF32 (f64 accumulation); each of a sample's rows (inShape[:-1]) is one vector. */
export function cpuLinearF32(op: LinearOp, x: HostTensor, B: number): HostTensor {
  const rows = sizeOf(op.inShape) / op.K;
  if (elementCount(x.shape) !== B * rows * op.K) throw new Error(`linear ${op.name}: input has shape [${x.shape.join(', ')}], expected [${[B, ...op.inShape].join(', ')}]`);
  return { shape: [B, ...op.inShape.slice(0, -1), op.N], data: linearRef(x.data, op.weight, op.bias, B * rows, op.K, op.N) };
}

/** CPU oracle of encodeConvF32: im2col + f64 GEMM + scatter per group. */
export function cpuConvF32(op: ConvOp, x: HostTensor, B: number): HostTensor {
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
export function cpuIm2col(op: ConvOp, x: HostTensor, B: number, group: number): HostTensor {
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
  const bias = op.bias ? { buf: uploadTemp(e, op.bias.subarray(group * cg, (group + 1) * cg), `${op.name}.bias${group}`), access: { strides: biasStrides, offset: 0 } } : undefined;
  encodeStridedCopy(e, cols.buf, out.buf, plan, bias);
}

/** CPU oracle of encodeColsToNchw (writes into out.data). */
export function cpuColsToNchw(op: ConvOp, cols: HostTensor, out: HostTensor, B: number, group: number): void {
  checkScatter(op, cols, out, B, group);
  colsToNchwRef(op, cols.data, out.data, B, group);
}

/** Adds a bias [N] to rows of [M, N] in place (crossbar linear output). */
export function encodeAddBias(e: OpEncoder, y: GpuTensor, bias: GPUBuffer, M: number, N: number): void {
  if (elementCount(y.shape) !== M * N) throw new Error(`encodeAddBias: tensor of shape [${y.shape.join(', ')}] is not [${M}, ${N}]`);
  encodeRowBias(e, y.buf, bias, M, N);
}
