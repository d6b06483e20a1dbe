/**
 * The issue-12 ops that compute across a sample's elements (src/ir/ops-math.ts): matmul of two
 * activations, reductions, argmax, log-softmax, layer and instance normalization, LRN. CPU only so
 * far, the oracle in src/reference/math-ops.ts; their WGSL kernels come with the kernel work, and
 * until then the WebGPU executor refuses networks that use them (registry.ts gpuKernelMissing).
 */
import { argmaxRef, instanceNormRef, layerNormRef, logSoftmaxRef, lrnRef, matmulRef, reduceRef } from '../../reference/math-ops.ts';
import type { DigitalOpImpl, OpOf } from './types.ts';

export const matmul: DigitalOpImpl<OpOf<'matmul'>> = { cpu: matmulRef };
export const reduce: DigitalOpImpl<OpOf<'reduce'>> = { cpu: reduceRef };
export const argmax: DigitalOpImpl<OpOf<'argmax'>> = { cpu: argmaxRef };
export const logSoftmax: DigitalOpImpl<OpOf<'log-softmax'>> = { cpu: logSoftmaxRef };
export const layernorm: DigitalOpImpl<OpOf<'layernorm'>> = { cpu: layerNormRef };
export const instancenorm: DigitalOpImpl<OpOf<'instancenorm'>> = { cpu: instanceNormRef };
export const lrn: DigitalOpImpl<OpOf<'lrn'>> = { cpu: lrnRef };
