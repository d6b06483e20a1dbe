import poolWgsl from '../../shaders/pool.wgsl?raw';
import type { ProgramKey } from '../gpu/pipeline-cache.ts';
import { UniformWriter } from '../gpu/buffers.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { binding, DEFAULT_WG, dispatch, linearGrid, tempUniform } from './elementwise.ts';
import type { PoolGeometry } from '../ir/geometry.ts';
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
