import poolWgsl from '../../shaders/pool.wgsl?raw';
import type { GpuLimits } from '../gpu/gpu-context.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import type { PoolGeometry } from '../ir/geometry.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { binding, dispatch, linearGrid } from './dispatch.ts';
import { DEFAULT_WG } from './elementwise.ts';
import { checkParam } from './template.ts';

/** The pool family's variants: the reduction is baked in. */
export type PoolVariant = { mode: 'max' | 'avg'; wg: number };

/** Max / average pooling over NCHW with ONNX pads, strides and dilations. */
export const POOL = defineKernel({
  name: 'pool',
  uniforms: {
    n: 'u32', stride: 'u32', H: 'u32', W: 'u32',
    OH: 'u32', OW: 'u32', kh: 'u32', kw: 'u32',
    sh: 'u32', sw: 'u32', dh: 'u32', dw: 'u32',
    pt: 'i32', pl: 'i32', pb: 'i32', pr: 'i32',
    include_pad: 'u32',
  },
  bindings: { X: read('f32'), Y: readWrite('f32') },
  compile(v: PoolVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    if (v.mode !== 'max' && v.mode !== 'avg') throw new Error(`pool: unknown mode ${String(v.mode)}`);
    return { body: poolWgsl, consts: { MAX_MODE: v.mode === 'max', WG: v.wg } };
  },
});

/** WGSL of a pool variant, after checking it against `limits`. */
export function poolSource(v: PoolVariant, limits?: GpuLimits): string {
  return POOL.source(v, limits);
}

/** Records pooling of B samples from x [B, C, H, W] into y [B, C, OH, OW]. */
export function encodePool(e: OpEncoder, g: PoolGeometry, x: GPUBuffer, y: GPUBuffer, B: number, wg = DEFAULT_WG): void {
  const [C, H, W] = g.inShape;
  const [, OH, OW] = g.outShape;
  const n = B * C * OH * OW;
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  const [pt, pl, pb, pr] = g.pads;
  dispatch(s, e, POOL, { mode: g.mode, wg }, {
    params: { n, stride: grid.stride, H, W, OH, OW, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, include_pad: g.countIncludePad ? 1 : 0 },
    bind: { X: binding(s, x, B * C * H * W * 4), Y: binding(s, y, n * 4) },
    grid,
    label: g.mode,
  });
}
