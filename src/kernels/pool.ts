import poolWgsl from '../../shaders/pool.wgsl?raw';
import type { ProgramKey } from '../gpu/pipeline-cache.ts';
import { UniformWriter } from '../gpu/buffers.ts';
import type { OpEncoder } from '../nn/tensor.ts';
import { binding, DEFAULT_WG, dispatch, linearGrid, tempUniform } from './elementwise.ts';
import { checkParam, instantiate } from './template.ts';

/** The pool family's programs: the reduction is baked in. */
export interface PoolProgram {
  mode: 'max' | 'avg';
  wg: number;
}

/** Pipeline cache key: exactly the parameters baked into the WGSL. */
export function poolKey(p: PoolProgram): ProgramKey {
  return { family: 'pool', params: { mode: p.mode, wg: p.wg } };
}

/** WGSL for a pool program, after checking its parameters. */
export function poolSource(p: PoolProgram, maxInvocations = 256): string {
  checkParam('wg', p.wg, 1, maxInvocations, true);
  if (p.mode !== 'max' && p.mode !== 'avg') throw new Error(`pool: unknown mode ${String(p.mode)}`);
  return instantiate(poolWgsl, { MAX_MODE: String(p.mode === 'max'), WG: p.wg });
}

/** A 2-D pooling window over NCHW (ONNX attributes; pads [top, left, bottom, right]). */
export interface PoolGeometry {
  mode: 'max' | 'avg';
  kernel: readonly [number, number];
  strides: readonly [number, number];
  pads: readonly [number, number, number, number];
  dilations: readonly [number, number];
  /** AveragePool count_include_pad. */
  countIncludePad: boolean;
  /** Per sample [C, H, W] and [C, OH, OW]. */
  inShape: readonly [number, number, number];
  outShape: readonly [number, number, number];
}

/** Checks a pool geometry's attributes; throws naming `name`. */
export function checkPoolGeometry(name: string, g: PoolGeometry): void {
  const pos = [...g.kernel, ...g.strides, ...g.dilations];
  const ints = [...pos, ...g.pads, ...g.inShape, ...g.outShape];
  if (!ints.every(Number.isInteger) || pos.some((v) => v < 1) || g.pads.some((v) => v < 0)) {
    throw new Error(`pool ${name}: kernel, strides and dilations must be positive integers and pads non-negative`);
  }
  if (g.inShape[0] !== g.outShape[0]) throw new Error(`pool ${name}: ${g.inShape[0]} input channels but ${g.outShape[0]} output channels`);
  for (const ax of [0, 1]) {
    // The IR's extent already applies ceil_mode, so anything from the floor to the ceil formula is valid.
    const span = g.inShape[ax + 1] + g.pads[ax] + g.pads[ax + 2] - g.dilations[ax] * (g.kernel[ax] - 1) - 1;
    const lo = Math.floor(span / g.strides[ax]) + 1;
    const hi = Math.ceil(span / g.strides[ax]) + 1;
    const o = g.outShape[ax + 1];
    if (span < 0 || o < lo || o > hi) throw new Error(`pool ${name}: output extent ${o} on axis ${ax + 2} is not ${lo === hi ? lo : `${lo} or ${hi}`} (input [${g.inShape.join(', ')}])`);
  }
}

/** Records pooling of B samples from x [B, C, H, W] into y [B, C, OH, OW]. */
export function encodePool(e: OpEncoder, g: PoolGeometry, x: GPUBuffer, y: GPUBuffer, B: number, wg = DEFAULT_WG): void {
  const [C, H, W] = g.inShape;
  const [, OH, OW] = g.outShape;
  const n = B * C * OH * OW;
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  const w = new UniformWriter(20);
  w.u32(n).u32(grid.stride).u32(H).u32(W);
  w.u32(OH).u32(OW).u32(g.kernel[0]).u32(g.kernel[1]);
  w.u32(g.strides[0]).u32(g.strides[1]).u32(g.dilations[0]).u32(g.dilations[1]);
  w.i32(g.pads[0]).i32(g.pads[1]).i32(g.pads[2]).i32(g.pads[3]);
  w.u32(g.countIncludePad ? 1 : 0).u32(0).u32(0).u32(0);
  const prog: PoolProgram = { mode: g.mode, wg };
  const pipeline = s.pipelines.get(poolKey(prog), () => poolSource(prog, s.ctx.limits.maxComputeInvocationsPerWorkgroup));
  dispatch(e, pipeline, [[0, tempUniform(e, w, 'pool.params')], [1, binding(s, x, B * C * H * W * 4)], [2, binding(s, y, n * 4)]], grid, `pool.${g.mode}`);
}
