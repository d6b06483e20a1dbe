/**
 * The issue-12 ops that move, pick or make elements (src/ir/ops-tensor.ts): slice, gather, pad,
 * expand, where, constant, resize and ConvTranspose's col2im. CPU only so far, the oracle in
 * src/reference/tensor-ops.ts; their WGSL kernels come with the kernel work, and until then the
 * WebGPU executor refuses networks that use them (registry.ts gpuKernelMissing).
 */
import { col2imRef, constantRef, expandRef, gatherRef, padRef, resizeRef, sliceRef, whereRef } from '../../reference/tensor-ops.ts';
import type { DigitalOpImpl, OpOf } from './types.ts';

export const slice: DigitalOpImpl<OpOf<'slice'>> = { cpu: sliceRef };
export const gather: DigitalOpImpl<OpOf<'gather'>> = { cpu: gatherRef };
export const pad: DigitalOpImpl<OpOf<'pad'>> = { cpu: padRef };
export const expand: DigitalOpImpl<OpOf<'expand'>> = { cpu: expandRef };
export const where: DigitalOpImpl<OpOf<'where'>> = { cpu: whereRef };
export const constant: DigitalOpImpl<OpOf<'constant'>> = { cpu: constantRef };
export const resize: DigitalOpImpl<OpOf<'resize'>> = { cpu: resizeRef };
export const col2im: DigitalOpImpl<OpOf<'col2im'>> = { cpu: col2imRef };
