/** Unary activations, broadcast arithmetic and per-channel affine ops on both backends. */
import { uploadStorage } from '../../gpu/buffers.ts';
import type { GpuTensor, OpEncoder } from '../../gpu/encoder.ts';
import { sizeOf } from '../../ir/graph.ts';
import { elementCount, rowMajorStrides } from '../../ir/tensor.ts';
import { BINARY_FNS, UNARY_FNS, encodeAffine, encodeBinary, encodeUnary, type BinaryFn as KernelBinaryFn, type BroadcastOperand, type UnaryFn as KernelUnaryFn } from '../../kernels/elementwise.ts';
import { affineRef, binaryRef, unaryRef } from '../../reference/ops.ts';
import { affineChannels, binaryShapes, checkArity, checkInput, fail } from './checks.ts';
import type { DigitalOpImpl, OpOf } from './types.ts';

/** A tensor of `shape` allocated for the batch. */
export function allocTensor(e: OpEncoder, shape: readonly number[], label: string): GpuTensor {
  return { shape, buf: e.alloc(Math.max(4, elementCount(shape) * 4), label) };
}

/** A constant uploaded for one batch. */
export function uploadTemp(e: OpEncoder, data: Float32Array, label: string): GPUBuffer {
  return e.temp(uploadStorage(e.session.ctx.device, data, label));
}

/** An op's constant data on the GPU: uploaded once and kept where the executor caches constants, else for this batch. */
export function uploadConstant(e: OpEncoder, owner: object, label: string, make: () => Float32Array): GPUBuffer {
  return e.constant ? e.constant(owner, label, make) : uploadTemp(e, make(), label);
}

/** Full-shape element strides of an operand: batch stride first (0 for a constant), 0 along broadcast dims. */
export function operandStrides(aligned: readonly number[], batched: boolean): number[] {
  const st = rowMajorStrides(aligned).map((v, k) => (aligned[k] === 1 ? 0 : v));
  return [batched ? sizeOf(aligned) : 0, ...st];
}

export const unary: DigitalOpImpl<OpOf<'unary'>> = {
  cpu(op, inputs) {
    checkArity(op, inputs, 1);
    return { shape: inputs[0].shape, data: unaryRef(op, inputs[0].data) };
  },
  gpu(e, op, inputs) {
    checkArity(op, inputs, 1);
    const fn = op.fn;
    if (!isKernelUnary(fn)) fail(op, `no WebGPU kernel for ${fn} yet; run with --backend cpu`);
    const x = inputs[0];
    const y = allocTensor(e, x.shape, op.name);
    encodeUnary(e, fn, op, x.buf, y.buf, elementCount(x.shape));
    return y;
  },
  gpuCovers: (op) => isKernelUnary(op.fn),
};

// The kernels' function lists (src/kernels/elementwise.ts) cover every IR function; a new IR function needs its WGSL case.
const isKernelUnary = (fn: string): fn is KernelUnaryFn => (UNARY_FNS as readonly string[]).includes(fn);
const isKernelBinary = (fn: string): fn is KernelBinaryFn => (BINARY_FNS as readonly string[]).includes(fn);

export const binary: DigitalOpImpl<OpOf<'binary'>> = {
  cpu(op, inputs, B) {
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
  },
  gpu(e, op, inputs, B) {
    const fn = op.fn;
    if (!isKernelBinary(fn)) fail(op, `no WebGPU kernel for ${fn} yet; run with --backend cpu`);
    const { a, b } = binaryShapes(op);
    checkArity(op, inputs, op.b ? 1 : 2);
    checkInput(op, inputs[0], B, op.aShape, 'first operand');
    const n0: BroadcastOperand = { buf: inputs[0].buf, elements: B * sizeOf(op.aShape), strides: operandStrides(a, true) };
    let n1: BroadcastOperand;
    if (op.b) {
      n1 = { buf: uploadConstant(e, op, `${op.name}.const`, () => op.b!.data), elements: op.b.data.length, strides: operandStrides(b, false) };
    } else {
      checkInput(op, inputs[1], B, op.bShape, 'second operand');
      n1 = { buf: inputs[1].buf, elements: B * sizeOf(op.bShape), strides: operandStrides(b, true) };
    }
    const dims = [B, ...op.outShape];
    const y = allocTensor(e, dims, op.name);
    const [left, right] = op.b && op.constFirst ? [n1, n0] : [n0, n1];
    encodeBinary(e, fn, left, right, y.buf, dims);
    return y;
  },
  gpuCovers: (op) => isKernelBinary(op.fn),
};

export const affine: DigitalOpImpl<OpOf<'affine'>> = {
  cpu(op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    affineChannels(op);
    return { shape: [B, ...op.inShape], data: affineRef(inputs[0].data, [B, ...op.inShape], op.scale, op.shift) };
  },
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const C = affineChannels(op);
    const y = allocTensor(e, [B, ...op.inShape], op.name);
    const inner = sizeOf(op.inShape.slice(1));
    encodeAffine(e, inputs[0].buf, uploadConstant(e, op, `${op.name}.scale`, () => op.scale), uploadConstant(e, op, `${op.name}.shift`, () => op.shift), y.buf, B * sizeOf(op.inShape), C, inner);
    return y;
  },
};
