import im2colWgsl from '../../shaders/im2col.wgsl?raw';
import type { ProgramKey } from '../gpu/pipeline-cache.ts';
import { UniformWriter } from '../gpu/buffers.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { binding, DEFAULT_WG, dispatch, linearGrid, tempUniform } from './elementwise.ts';
import type { ConvGeometry } from '../ir/geometry.ts';
import { checkParam, instantiate } from './template.ts';

/** The im2col family's programs. */
export interface Im2colProgram {
  wg: number;
}

/** Pipeline cache key: exactly the parameters baked into the WGSL. */
export function im2colKey(p: Im2colProgram): ProgramKey {
  return { family: 'im2col', params: { wg: p.wg } };
}

/** WGSL for an im2col program, after checking its parameters. */
export function im2colSource(p: Im2colProgram, maxInvocations = 256): string {
  checkParam('wg', p.wg, 1, maxInvocations, true);
  return instantiate(im2colWgsl, { WG: p.wg });
}

/** Columns of one group's im2col matrix: (cin/group)·kh·kw. */
export function im2colColumns(g: ConvGeometry): number {
  return (g.cin / g.group) * g.kh * g.kw;
}

/**
 * Records im2col of samples [b0, b0 + count) of x [B, cin, H, W] for group `group` into
 * cols [count·OH·OW, (cin/group)·kh·kw].
 */
export function encodeIm2colKernel(e: OpEncoder, g: ConvGeometry, x: GPUBuffer, B: number, cols: GPUBuffer, group: number, b0 = 0, count = B, wg = DEFAULT_WG): void {
  const [, H, W] = g.inShape;
  const [, OH, OW] = g.outShape;
  const kc = im2colColumns(g);
  const n = count * OH * OW * kc;
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  const w = new UniformWriter(20);
  w.u32(n).u32(grid.stride).u32(kc).u32(OH * OW);
  w.u32(OW).u32(H).u32(W).u32(g.cin);
  w.u32((group * g.cin) / g.group).u32(g.kh).u32(g.kw).u32(g.strides[0]);
  w.u32(g.strides[1]).u32(g.dilations[0]).u32(g.dilations[1]).u32(b0);
  w.i32(g.pads[0]).i32(g.pads[1]).u32(0).u32(0);
  const prog: Im2colProgram = { wg };
  const pipeline = s.pipelines.get(im2colKey(prog), () => im2colSource(prog, s.ctx.limits.maxComputeInvocationsPerWorkgroup));
  dispatch(e, pipeline, [[0, tempUniform(e, w, 'im2col.params')], [1, binding(s, x, B * g.cin * H * W * 4)], [2, binding(s, cols, n * 4)]], grid, 'im2col');
}
