import im2colWgsl from '../../shaders/im2col.wgsl?raw';
import type { GpuLimits } from '../gpu/gpu-context.ts';
import type { ConvGeometry } from '../ir/geometry.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { binding, dispatch, linearGrid, rowsPerWindow, windowBinding, type Recorder } from './dispatch.ts';
import { DEFAULT_WG } from './elementwise.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { checkParam } from './template.ts';

/** The im2col family's variants. */
export type Im2colVariant = { wg: number };

/** im2col of one convolution group, in row windows. */
export const IM2COL = defineKernel({
  name: 'im2col',
  uniforms: {
    n: 'u32', stride: 'u32', kc: 'u32', plane: 'u32',
    OW: 'u32', H: 'u32', W: 'u32', cin: 'u32',
    chan0: 'u32', kh: 'u32', kw: 'u32', sh: 'u32',
    sw: 'u32', dh: 'u32', dw: 'u32', row0: 'u32',
    pt: 'i32', pl: 'i32', y_shift: 'u32',
  },
  bindings: { X: read('f32'), Y: readWrite('f32') },
  compile(v: Im2colVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    return { body: im2colWgsl, consts: { WG: v.wg } };
  },
});

/** WGSL of an im2col variant, after checking it against `limits`. */
export function im2colSource(v: Im2colVariant, limits?: GpuLimits): string {
  return IM2COL.source(v, limits);
}

/** Columns of one group's im2col matrix: (cin/group)·kh·kw. */
export function im2colColumns(g: ConvGeometry): number {
  return (g.cin / g.group) * g.kh * g.kw;
}

/**
 * Records im2col rows [row0, row0 + rows) (rows (b, oh, ow) over the batch) of x [B, cin, H, W] for
 * group `group` into cols, whose element 0 holds row `row0`. Rows that do not fit one binding go in
 * several windows.
 */
export function encodeIm2colRows(s: GpuSession, rec: Recorder, g: ConvGeometry, x: GPUBuffer, B: number, cols: GPUBuffer, group: number, row0: number, rows: number, wg = DEFAULT_WG): void {
  const [, H, W] = g.inShape;
  const [, OH, OW] = g.outShape;
  const kc = im2colColumns(g);
  if (rows * kc === 0) return;
  const X = binding(s, x, B * g.cin * H * W * 4);
  const perWindow = rowsPerWindow(s, kc * 4);
  if (perWindow < 1) throw new Error(`im2col: one row of ${kc} columns exceeds this adapter's maxStorageBufferBindingSize (${s.ctx.limits.maxStorageBufferBindingSize})`);
  const chunk = rows * kc * 4 <= s.ctx.limits.maxStorageBufferBindingSize ? rows : perWindow;
  for (let r = 0; r < rows; r += chunk) {
    const count = Math.min(chunk, rows - r);
    const grid = linearGrid(s, count, wg);
    const win = windowBinding(s, cols, r * kc, count * kc, 4);
    dispatch(s, rec, IM2COL, { wg }, {
      params: {
        n: count, stride: grid.stride, kc, plane: OH * OW,
        OW, H, W, cin: g.cin,
        chan0: (group * g.cin) / g.group, kh: g.kh, kw: g.kw, sh: g.strides[0],
        sw: g.strides[1], dh: g.dilations[0], dw: g.dilations[1], row0: row0 + r,
        pt: g.pads[0], pl: g.pads[1], y_shift: win.shift,
      },
      bind: { X, Y: win.binding },
      grid,
    });
  }
}

/**
 * Records im2col of samples [b0, b0 + count) of x [B, cin, H, W] for group `group` into
 * cols [count·OH·OW, (cin/group)·kh·kw].
 */
export function encodeIm2colKernel(e: OpEncoder, g: ConvGeometry, x: GPUBuffer, B: number, cols: GPUBuffer, group: number, b0 = 0, count = B, wg = DEFAULT_WG): void {
  const P = g.outShape[1] * g.outShape[2];
  encodeIm2colRows(e.session, e, g, x, B, cols, group, b0 * P, count * P, wg);
}
