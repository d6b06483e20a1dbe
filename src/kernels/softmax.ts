import softmaxWgsl from '../../shaders/softmax.wgsl?raw';
import type { GpuLimits } from '../gpu/gpu-context.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { binding, dispatch, linearGrid } from './dispatch.ts';
import { DEFAULT_WG } from './elementwise.ts';
import { checkParam } from './template.ts';

/** The softmax family's variants. */
export type SoftmaxVariant = { log: boolean; wg: number };

/** Softmax or log-softmax along one axis of a tensor viewed as [outer, L, inner]. */
export const SOFTMAX = defineKernel({
  name: 'softmax',
  uniforms: { lines: 'u32', stride: 'u32', L: 'u32', inner: 'u32' },
  bindings: { X: read('f32'), Y: readWrite('f32') },
  compile(v: SoftmaxVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    return { body: softmaxWgsl, consts: { LOG: v.log, WG: v.wg } };
  },
});

/** WGSL of a softmax variant, after checking it against `limits`. */
export function softmaxSource(v: SoftmaxVariant, limits?: GpuLimits): string {
  return SOFTMAX.source(v, limits);
}

/** Records softmax (log-softmax with `log`) of x viewed as [outer, L, inner] along L into y. */
export function encodeSoftmax(e: OpEncoder, x: GPUBuffer, y: GPUBuffer, outer: number, L: number, inner: number, wg = DEFAULT_WG, log = false): void {
  const lines = outer * inner;
  if (lines === 0 || L === 0) return;
  const s = e.session;
  const grid = linearGrid(s, lines, wg);
  const bytes = lines * L * 4;
  dispatch(s, e, SOFTMAX, { log, wg }, {
    params: { lines, stride: grid.stride, L, inner },
    bind: { X: binding(s, x, bytes), Y: binding(s, y, bytes) },
    grid,
  });
}
